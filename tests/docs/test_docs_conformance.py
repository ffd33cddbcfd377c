#!/usr/bin/python3
"""test_docs_conformance — the real herald-gateway answers as
gateway/assets/openapi.json says, and every response the document promises
can really be produced.

Drives a real gateway and store over HTTP with requests chosen to hit every
(operation, status) pair the document lists, including 503 (store stopped)
and 504 (store frozen with SIGSTOP, gateway started with a short
--timeout-ms) and 500 (a fake store, a ZeroMQ ROUTER in a thread of this
test, answering with a protocol error no valid request gets). For each answer it checks that the status is one the
document lists for that operation, that the body validates against the
documented schema (python3-jsonschema; OpenAPI's `nullable` mapped to JSON
Schema), that the documented headers (Location, Allow) are there and that
the content type is the documented one. The string limits are probed at
limit and limit+1 bytes, with multi-byte characters, since the document says
the limits count bytes. Finally every documented pair must have been seen.
Exits 77 (CTest SKIP) when python3-jsonschema, python3-zmq or
python3-msgpack is missing.
"""
import json, os, re, signal, sys, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from docs_stack import Stack, deref as _deref, http, load_spec, make_token, workdir, write_tokens  # noqa: E402

try:
    import jsonschema
    import msgpack
    import zmq
except ImportError as e:
    print(f"skipping: {e} (install python3-jsonschema, python3-zmq, python3-msgpack)")
    sys.exit(77)

spec = load_spec()
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
MISSING = "00000000-0000-4000-8000-000000000000"


def to_json_schema(node):
    """OpenAPI 3.0 schema object -> JSON Schema (draft 4 keywords)."""
    if isinstance(node, list):
        return [to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: to_json_schema(v) for k, v in node.items() if k not in ("nullable", "example")}
    if node.get("nullable") and "type" in node:
        out["type"] = [node["type"], "null"]
    return out


schema_doc = {"components": {"schemas": to_json_schema(spec["components"]["schemas"])}}
resolver = jsonschema.RefResolver("", schema_doc)


def deref(o):
    return _deref(spec, o)


def operation(method, path):
    """The documented operation for a concrete path, e.g. /events/<id>/."""
    bare = path.split("?")[0].rstrip("/") or "/"
    for template in spec["paths"]:
        pattern = "^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, bare):
            return template, spec["paths"][template].get(method.lower())
    return None, None


seen, failures = set(), []


def fail(what):
    print("FAIL  " + what)
    failures.append(what)


def call(method, path, body=None, headers=None, expect=None, documented_as=None, base=None):
    """Sends one request, checks the answer against the document; returns
    (status, parsed JSON or text, headers)."""
    template, op = operation(method, path)
    key = documented_as or (method.upper(), template)
    if op is None and documented_as:
        op = spec["paths"][documented_as[1]].get(documented_as[0].lower())
    status, hdrs, raw = http(method, base + path, body=body, headers=headers)
    label = f"{method} {path[:60]}{'...' if len(path) > 60 else ''} -> {status}"
    if expect is not None and status != expect:
        fail(f"{label}, expected {expect}: {raw[:300]!r}")
        return status, None, hdrs
    documented = op["responses"] if op else {}
    if str(status) not in documented:
        if not (op is None and status == 404):  # unknown paths: 404 documented in info
            fail(f"{label}: status not documented for {key}")
        parsed = json.loads(raw) if raw[:1] in (b"{", b"[") else raw
        if op is None and not (isinstance(parsed, dict) and isinstance(parsed.get("detail"), str)):
            fail(f"{label}: unknown path answered without a detail message")
        return status, parsed, hdrs
    seen.add((key, str(status)))
    resp = deref(documented[str(status)])
    for h in resp.get("headers", {}):
        if h == "Retry-After":
            continue  # only on the backlog-full refusal
        if hdrs.get(h) is None:
            fail(f"{label}: documented header {h} missing")
    ctype = hdrs.get("Content-Type", "")
    media = resp.get("content", {})
    match = [m for m in media if ctype.split(";")[0].strip() == m.split(";")[0].strip()]
    if media and not match:
        fail(f"{label}: Content-Type {ctype!r} is not one of {list(media)}")
        return status, raw, hdrs
    parsed = raw.decode()
    if media and match[0] == "application/json":
        parsed = json.loads(raw)
        schema = to_json_schema(media[match[0]].get("schema", {}))
        errors = list(jsonschema.Draft4Validator(schema, resolver=resolver).iter_errors(parsed))
        if errors:
            fail(f"{label}: body does not match the documented schema: {errors[0].message}: {raw[:300]!r}")
    print(f"ok    {label}")
    return status, parsed, hdrs


def check_event(ev, **fields):
    if not (UUID_RE.match(ev["event_id"]) and TIME_RE.match(ev["created_at"]) and TIME_RE.match(ev["updated_at"])):
        fail(f"event id/time formats: {ev}")
    for k, v in fields.items():
        if ev.get(k) != v:
            fail(f"event {k}: want {v!r}, got {ev.get(k)!r}")


def problem_types(body):
    return [d["type"] for d in body["detail"]] if isinstance(body, dict) else []


class FakeStore(threading.Thread):
    """A ROUTER where herald-store was: pings are answered ok (so /readyz
    says ready), every other request with the error status "malformed",
    which no request of a correct gateway gets: the gateway's 500. The
    socket is bound here and used only by the thread (PROTOCOL.md's reply
    shape: v, rid, op, status, message)."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.ROUTER)
        self.sock.linger = 0
        self.sock.bind(f"tcp://127.0.0.1:{port}")
        self.stopping = threading.Event()
        self.refused = 0

    def run(self):
        poller = zmq.Poller()
        poller.register(self.sock, zmq.POLLIN)
        while not self.stopping.is_set():
            if not poller.poll(50):
                continue
            ident, frame = self.sock.recv_multipart()
            req = msgpack.unpackb(frame, raw=False)
            reply = {"v": 1, "rid": req["rid"], "op": req["op"], "status": "ok"}
            if req["op"] != "ping":
                reply.update(status="malformed", message="request is not a map")
                self.refused += 1
            self.sock.send_multipart([ident, msgpack.packb(reply)])
        self.sock.close()
        self.ctx.term()


def main():
    with workdir("herald-conf-") as tmp, Stack(tmp, ["--timeout-ms", "300", "--max-body", "65536"]) as st:
        b = st.base
        c = lambda *a, **k: call(*a, base=b, **k)  # noqa: E731

        # ---- events: success paths --------------------------------------
        s, ev, h = c("POST", "/events", {"user_id": "u-conf", "description": "hello"}, expect=201)
        check_event(ev, user_id="u-conf", description="hello", status="pending")
        eid = ev["event_id"]
        if h.get("Location") != f"/events/{eid}":
            fail(f"Location {h.get('Location')!r} != /events/{eid}")
        c("POST", "/events/", {"user_id": "u-conf", "description": "second"}, expect=201)
        _, got, _ = c("GET", f"/events/{eid}", expect=200)
        if got != ev:
            fail(f"GET returned {got}, POST returned {ev}")
        _, up, _ = c("PUT", f"/events/{eid}", {"status": "processed"}, expect=200)
        check_event(up, status="processed", user_id="u-conf", description="hello")
        _, page, _ = c("GET", "/events?user_id=u-conf&limit=1", expect=200)
        if [e["event_id"] for e in page["items"]] != [eid] or page["next_after"] != eid:
            fail(f"first page: {page}")
        _, page2, _ = c("GET", f"/events?user_id=u-conf&limit=1&after={eid}", expect=200)
        if len(page2["items"]) != 1 or page2["items"][0]["description"] != "second":
            fail(f"second page: {page2}")
        _, last, _ = c("GET", f"/events?user_id=u-conf&after={page2['items'][0]['event_id']}", expect=200)
        if last != {"items": [], "next_after": None}:
            fail(f"past the end: {last}")
        _, byst, _ = c("GET", "/events?status=processed", expect=200)
        if [e["event_id"] for e in byst["items"]] != [eid]:
            fail(f"status filter: {byst}")

        # ---- limits, counted in bytes -----------------------------------
        for field, limit in (("user_id", 256), ("description", 4096)):
            other = "description" if field == "user_id" else "user_id"
            c("POST", "/events", {field: "é" * (limit // 2), other: "x"}, expect=201)
            _, body, _ = c("POST", "/events", {field: "é" * (limit // 2) + "x", other: "x"}, expect=422)
            if problem_types(body) != ["string_too_long"]:
                fail(f"{field} at limit+1 byte: {body}")
        c("PUT", f"/events/{eid}", {"status": "s" * 64}, expect=200)
        _, body, _ = c("PUT", f"/events/{eid}", {"status": "s" * 65}, expect=422)
        if problem_types(body) != ["string_too_long"]:
            fail(f"status at 65 bytes: {body}")
        c("GET", "/events?limit=1000", expect=200)
        c("GET", "/events?limit=1", expect=200)

        # ---- validation: every problem listed ---------------------------
        _, body, _ = c("POST", "/events", {"user_id": "", "description": 5, "colour": "red"}, expect=422)
        if sorted(problem_types(body)) != ["extra_forbidden", "string_too_short", "string_type"]:
            fail(f"several problems: {body}")
        for bad, want in (({}, ["missing", "missing"]), ([1], ["model_attributes_type"]),
                          ({"user_id": "a\u0000b", "description": "d"}, ["string_contains_nul"])):
            _, body, _ = c("POST", "/events", bad, expect=422)
            if problem_types(body) != want:
                fail(f"POST {bad!r}: {body}")
        _, body, _ = c("POST", "/events", b"", expect=422)
        _, body, _ = c("POST", "/events", b'{"user_id":"\xff","description":"d"}', expect=422)
        if problem_types(body) != ["string_unicode"]:
            fail(f"invalid UTF-8: {body}")
        _, body, _ = c("PUT", f"/events/{eid}", {}, expect=422)
        if problem_types(body) != ["at_least_one_field"]:
            fail(f"PUT {{}}: {body}")
        c("PUT", "/events/nope", {"status": "x"}, expect=422)
        _, body, _ = c("GET", "/events/42", expect=422)
        if body["detail"][0]["loc"] != ["path", "event_id"]:
            fail(f"bad path id loc: {body}")
        for q, want in (("limit=0", "greater_than_equal"), ("limit=1001", "less_than_equal"),
                        ("limit=ten", "int_parsing"), ("after=nope", "uuid_parsing"),
                        (f"after={MISSING}", "cursor_not_found"), ("status=" + "s" * 65, "string_too_long")):
            _, body, _ = c("GET", "/events?" + q, expect=422)
            if problem_types(body) != [want]:
                fail(f"GET /events?{q[:20]}: {body}")

        # ---- other errors -------------------------------------------------
        c("GET", f"/events/{MISSING}", expect=404)
        c("PUT", f"/events/{MISSING}", {"status": "x"}, expect=404)
        c("GET", "/no/such/path", expect=404)
        for method, path in (("POST", "/events"), ("PUT", f"/events/{eid}")):
            c(method, path, b"{nope", expect=400)
            c(method, path, b"x" * 70000, expect=413)
            c(method, path, b'{"status":"x"}', headers={"Content-Type": "text/plain"}, expect=415)
        c("POST", "/events", {"user_id": "u", "description": "d"},
          headers={"Content-Type": "application/json; charset=utf-8"}, expect=201)
        for path, methods in spec["paths"].items():
            concrete = path.replace("{event_id}", eid)
            for m in [m for m in ("get", "post", "put") if m in methods]:
                s, _, h = call("DELETE", concrete, base=b, expect=405, documented_as=(m.upper(), path))
                allow = {x.strip() for x in (h.get("Allow") or "").split(",")}
                if s == 405 and not {x.upper() for x in methods if x != "parameters"} <= allow:
                    fail(f"DELETE {path}: Allow {h.get('Allow')!r} lacks {sorted(methods)}")

        # ---- operations and docs ----------------------------------------
        for path in ("/ping", "/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/ping/"):
            c("GET", path, expect=200)
        _, metrics, _ = c("GET", "/metrics", expect=200)
        for name in ("herald_http_requests_total", "herald_http_request_duration_seconds",
                     "herald_store_roundtrip_seconds", "herald_http_inflight_requests",
                     "herald_store_up", "herald_store_late_replies_total"):
            if name not in metrics:
                fail(f"/metrics lacks documented {name}")

        # ---- 504: the store is there but does not answer -----------------
        store = st.proc("herald-store")
        store.send_signal(signal.SIGSTOP)
        try:
            c("POST", "/events", {"user_id": "u", "description": "d"}, expect=504)
            c("GET", f"/events/{eid}", expect=504)
            c("PUT", f"/events/{eid}", {"status": "x"}, expect=504)
            c("GET", "/events", expect=504)
        finally:
            store.send_signal(signal.SIGCONT)

        # ---- 503: the store is gone ---------------------------------------
        store.terminate()
        store.wait(timeout=10)
        deadline = time.monotonic() + 10
        while http("GET", b + "/readyz")[0] != 503 and time.monotonic() < deadline:
            time.sleep(0.05)
        c("GET", "/readyz", expect=503)
        c("POST", "/events", {"user_id": "u", "description": "d"}, expect=503)
        c("GET", f"/events/{eid}", expect=503)
        c("PUT", f"/events/{eid}", {"status": "x"}, expect=503)
        c("GET", "/events", expect=503)

        # ---- 500: what answers on the store endpoint sends an error no ----
        # ---- valid request gets (e.g. a store of another version) --------
        fake = FakeStore(st.store_port)
        fake.start()
        try:
            deadline = time.monotonic() + 10
            while http("GET", b + "/readyz")[0] != 200 and time.monotonic() < deadline:
                time.sleep(0.05)
            c("POST", "/events", {"user_id": "u", "description": "d"}, expect=500)
            c("GET", f"/events/{eid}", expect=500)
            c("PUT", f"/events/{eid}", {"status": "x"}, expect=500)
            c("GET", "/events", expect=500)
        finally:
            fake.stopping.set()
            fake.join(timeout=5)
        if fake.refused != 4:
            fail(f"the fake store refused {fake.refused} requests, expected 4")

    # ---- tokens: a gateway with --tokens-file -----------------------------
    with workdir("herald-conf-auth-") as tmp:
        reader, r_line = make_token(tmp, "reader", "read")
        writer, w_line = make_token(tmp, "writer", "read,write")
        ops, o_line = make_token(tmp, "ops", "admin")
        tokens = write_tokens(tmp, [r_line, w_line, o_line])
        with Stack(tmp, ["--tokens-file", tokens]) as st:
            b = st.base
            c = lambda *a, **k: call(*a, base=b, **k)  # noqa: E731
            bearer = lambda t: {"Authorization": f"Bearer {t}"}  # noqa: E731
            _, ev, _ = c("POST", "/events", {"user_id": "u-auth", "description": "d"},
                         headers=bearer(writer), expect=201)
            eid = ev["event_id"]
            cases = (("POST", "/events", {"user_id": "u", "description": "d"}, reader, writer),
                     ("GET", "/events", None, ops, reader),
                     ("GET", f"/events/{eid}", None, ops, reader),
                     ("PUT", f"/events/{eid}", {"status": "processed"}, reader, writer),
                     ("GET", "/metrics", None, writer, ops))
            for method, path, body, wrong, right in cases:
                _, got, h = c(method, path, body, expect=401)
                if h.get("WWW-Authenticate") != 'Bearer realm="herald"':
                    fail(f"{method} {path} without a token: WWW-Authenticate {h.get('WWW-Authenticate')!r}")
                _, got, h = c(method, path, body, headers=bearer("herald_0000"), expect=401)
                if 'error="invalid_token"' not in (h.get("WWW-Authenticate") or ""):
                    fail(f"{method} {path} with a bad token: WWW-Authenticate {h.get('WWW-Authenticate')!r}")
                _, got, h = c(method, path, body, headers=bearer(wrong), expect=403)
                if 'error="insufficient_scope"' not in (h.get("WWW-Authenticate") or ""):
                    fail(f"{method} {path} without the scope: WWW-Authenticate {h.get('WWW-Authenticate')!r}")
                c(method, path, body, headers=bearer(right), expect=201 if method == "POST" else 200)
            for path in ("/ping", "/healthz", "/readyz", "/openapi.json", "/docs"):
                c("GET", path, expect=200)

    # ---- every documented response was produced --------------------------
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            for code in op["responses"]:
                if ((method.upper(), path), code) not in seen:
                    fail(f"{method.upper()} {path} documents {code} but no request produced it")
    print(f"{len(seen)} documented (operation, status) pairs produced")
    print(f"{len(failures)} failed" if failures else "test_docs_conformance: all checks passed")
    sys.exit(1 if failures else 0)


main()
