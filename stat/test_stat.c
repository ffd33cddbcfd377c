/* test_stat — herald-stat's reading of the services' metrics: samples
   parsed from the text the services write (labels with spaces and braces
   included, comments and odd lines skipped), sums by label filter, rates
   between two rounds, "-" for a service that did not answer and for a
   counter that went back (a restart), never a negative rate. */
#define _GNU_SOURCE
#include "sample.h"
#include "view.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char s_gateway[] =
    "# HELP herald_http_requests_total HTTP requests answered, by route and status code.\n"
    "# TYPE herald_http_requests_total counter\n"
    "herald_http_requests_total{route=\"GET /events/{event_id}\",code=\"200\"} 7\n"
    "herald_http_requests_total{route=\"POST /events\",code=\"503\"} 2\n"
    "herald_http_requests_total{route=\"POST /events\",code=\"504\"} 1\n"
    "not a sample\n"
    "herald_odd{x=\"1\"} not-a-number\n";

static void
test_samples_parse_and_sum_by_label_filter (void **state)
{
    (void)state;
    scrape_t s = { 0 };
    assert_int_equal (scrape_parse (&s, s_gateway, strlen (s_gateway)), 0);
    assert_int_equal (s.n, 3);
    bool found = false;
    assert_true (scrape_sum (&s, "herald_http_requests_total", "code=\"5", &found) == 3);
    assert_true (found);
    assert_true (scrape_sum (&s, "herald_http_requests_total",
                             "route=\"GET /events/{event_id}\",code=\"200\"", NULL)
                 == 7);
    assert_true (scrape_sum (&s, "herald_http_requests_total", NULL, NULL) == 10);
    assert_true (scrape_sum (&s, "herald_nothing", NULL, &found) == 0);
    assert_false (found);
    scrape_clear (&s);
    assert_int_equal (s.n, 0);
}

static char *
s_line (const view_point_t *prev, const view_point_t *now, double seconds, long queue)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream (&text, &len);
    view_line (out, "12:00:00", prev, now, seconds, queue);
    fclose (out);
    return text;
}

static void
test_rates_between_two_rounds_and_dashes_for_what_is_unknown (void **state)
{
    (void)state;
    static const char store[] =
        "herald_store_operations_total{op=\"create\",result=\"ok\"} 100\n"
        "herald_store_operations_total{op=\"create\",result=\"feed_full\"} 9\n"
        "herald_store_feed_length 42\n";
    static const char store2[] = "herald_store_operations_total{op=\"create\",result=\"ok\"} 300\n"
                                 "herald_store_feed_length 40\n";
    static const char worker[] =
        "herald_worker_printed_total 10\nherald_worker_dead_lettered_total 1\n"
        "herald_worker_inflight_deliveries 3\n";
    static const char worker2[] =
        "herald_worker_printed_total 60\nherald_worker_dead_lettered_total 1\n"
        "herald_worker_inflight_deliveries 2\n";
    scrape_t s1 = { 0 }, s2 = { 0 }, w1 = { 0 }, w2 = { 0 }, w3 = { 0 };
    scrape_parse (&s1, store, strlen (store));
    scrape_parse (&s2, store2, strlen (store2));
    scrape_parse (&w1, worker, strlen (worker));
    scrape_parse (&w2, worker2, strlen (worker2));
    scrape_parse (&w3, worker2, strlen (worker2));
    view_point_t a, b;
    const scrape_t *before[] = { &w1, &w1 }, *after[] = { &w2, &w3 };
    view_point (&a, NULL, &s1, NULL, before, 2);
    view_point (&b, NULL, &s2, NULL, after, 2);
    char *line = s_line (&a, &b, 2.0, 17);
    /* creates 200 in 2 s; processed (60+60 - 10-10) / 2; notifier down;
       feed 40; inflight 2+2; queue 17; errors need the gateway; dead 2 */
    char want[256];
    snprintf (want, sizeof want, "%-8s %9s %11s %11s %7s %6s %8s %7s %8s %6s\n", "12:00:00", "100",
              "50", "-", "40", "-", "4", "17", "-", "2");
    assert_string_equal (line, want);
    free (line);
    /* a counter that went back (store restarted): no negative rate */
    line = s_line (&b, &a, 1.0, -1);
    snprintf (want, sizeof want, "%-8s %9s %11s %11s %7s %6s %8s %7s %8s %6s\n", "12:00:00", "-",
              "-", "-", "42", "-", "6", "-", "-", "2");
    assert_string_equal (line, want);
    free (line);
    /* a worker that did not answer blanks the workers' columns */
    const scrape_t *one_down[] = { &w2, NULL };
    view_point (&b, NULL, &s2, NULL, one_down, 2);
    line = s_line (&a, &b, 1.0, -1);
    assert_non_null (strstr (line, "      200 "));
    snprintf (want, sizeof want, " %11s %11s %7s %6s %8s", "-", "-", "40", "-", "-");
    assert_non_null (strstr (line, want));
    free (line);
    scrape_clear (&s1);
    scrape_clear (&s2);
    scrape_clear (&w1);
    scrape_clear (&w2);
    scrape_clear (&w3);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_samples_parse_and_sum_by_label_filter),
        cmocka_unit_test (test_rates_between_two_rounds_and_dashes_for_what_is_unknown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
