/*
 * event_json — the event the gateway benchmark's servers hold and answer
 * with, spelled once: herald-bench-floor answers every request with it, and
 * the webdis peer stores it as the value of every seeded key, so the floor,
 * the gateway and webdis + Redis all move an event of the same size (220
 * bytes: an event as herald-gateway returns it, DESIGN.md §2). A macro of
 * string literals, not a variable, so it also serves as a printf format:
 * EVENT_JSON ("%s") takes the event_id. herald-bench-gateway.lua's PUT body
 * is the same event, typed again in Lua.
 */
#ifndef HERALD_BENCH_EVENT_JSON_H
#define HERALD_BENCH_EVENT_JSON_H

/* id: a string literal, 36 characters for the size above. */
#define EVENT_JSON(id)                                                                             \
    "{\"event_id\":\"" id "\",\"user_id\":\"u-bench-0042\","                                       \
    "\"description\":\"Your order #1234 has shipped\",\"status\":\"pending\","                     \
    "\"created_at\":\"2026-11-24T10:00:00.123Z\",\"updated_at\":\"2026-11-24T10:00:00.123Z\"}"

/* The event_id of the floor's fixed event. */
#define EVENT_JSON_FLOOR_ID "5f0c2a7e-8d1b-4c3a-9e6f-1a2b3c4d5e6f"

#endif
