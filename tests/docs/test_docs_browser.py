#!/usr/bin/python3
"""test_docs_browser — the /docs page, driven in headless Chromium against a
real herald-gateway and herald-store.

Checks that the gateway serves gateway/assets/openapi.json and docs.html
byte for byte; that the page loads and renders every operation of the
OpenAPI document with its parameters and responses; that nothing the page
loads leaves http://127.0.0.1:PORT (Chromium's DevTools network log and the
page's resource timing entries); that the page raises no JavaScript error;
and that its "Try it" forms really work: POST /events shows a 201 with an
event_id that a plain HTTP GET then finds, GET and PUT /events/{event_id}
and GET /events show that event, and bad input shows the gateway's 400/422.
Against a gateway with a tokens file, the page's API token field is sent as
"Authorization: Bearer" by the forms of the operations that need it (401
without it, 403 with a token lacking the scope, 201 with the right one) and
never by the open ones (DevTools' record of the request headers).

Needs Debian's chromium, chromium-driver and python3-selenium
(scripts/packages.txt); exits 77 (CTest SKIP) when one is missing.
"""
import json, os, re, shutil, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from docs_stack import (ASSETS, Stack, free_port, http, load_spec, make_token, workdir,  # noqa: E402
                        write_tokens)

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError as e:
    print(f"skipping: {e} (install python3-selenium)")
    sys.exit(77)
CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
if not CHROMIUM or not DRIVER:
    print("skipping: chromium / chromedriver not installed (Debian chromium, chromium-driver)")
    sys.exit(77)

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def browser(tmp):
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    # Root needs --no-sandbox; the rest keep Chromium itself off the network
    # so that every request it makes is one the page asked for.
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 f"--user-data-dir={os.path.join(tmp, 'chromium')}", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-quic", "--disable-default-apps", "--disable-extensions",
                 "--window-size=1280,900"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    service = Service(DRIVER, log_path=os.path.join(tmp, "chromedriver.log"))
    return webdriver.Chrome(service=service, options=opts)


def network_requests(driver):
    """(url, document url) of every request in the DevTools network log."""
    out = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            out.append((msg["params"]["request"]["url"], msg["params"].get("documentURL", "")))
    return out


def op_section(driver, key):
    found = driver.find_elements(By.CSS_SELECTOR, f'section.op[data-op="{key}"]')
    assert len(found) == 1, f"expected one section for {key}, found {len(found)}"
    return found[0]


def try_it(driver, key, fields):
    """Fills the operation's form (name -> value), clicks Try, waits for the
    answer; returns (status, body text)."""
    sec = op_section(driver, key)
    for name, value in fields.items():
        box = sec.find_element(By.CSS_SELECTOR, f'form.try-form [name="{name}"]')
        box.clear()
        box.send_keys(value)
    driver.execute_script("arguments[0].scrollIntoView()", sec)
    sec.find_element(By.CSS_SELECTOR, "button.try").click()
    status = sec.find_element(By.CSS_SELECTOR, "output.status")
    WebDriverWait(driver, 10).until(lambda d: status.get_attribute("data-status"))
    return int(status.get_attribute("data-status")), sec.find_element(By.CSS_SELECTOR, "pre.result").text


def load_docs(driver, base):
    """Opens base/docs and waits until the page says it is no longer loading;
    returns its data-state ("ready" or "error")."""
    driver.set_page_load_timeout(20)
    driver.get(base + "/docs")
    WebDriverWait(driver, 20).until(
        lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-state") != "loading")
    return driver.find_element(By.TAG_NAME, "body").get_attribute("data-state")


def request_headers(driver, base):
    """(method, url, headers) of every request the page sent to base."""
    out = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            req = msg["params"]["request"]
            if req["url"].startswith(base + "/"):
                out.append((req["method"], req["url"], {k.lower(): v for k, v in req["headers"].items()}))
    return out


def check_token_field():
    with workdir("herald-docs-auth-") as tmp:
        reader, r_line = make_token(tmp, "reader", "read")
        writer, w_line = make_token(tmp, "writer", "read,write")
        tokens = write_tokens(tmp, [r_line, w_line])
        with Stack(tmp, ["--tokens-file", tokens]) as stack:
            base = stack.base
            spec = load_spec()
            driver = browser(tmp)
            try:
                assert load_docs(driver, base) == "ready"
                token = driver.find_element(By.ID, "api-token")
                assert token.get_attribute("type") == "password", token.get_attribute("type")
                for path, item in spec["paths"].items():
                    for method, op in item.items():
                        if method == "parameters":
                            continue
                        badge = op_section(driver, f"{method.upper()} {path}").find_elements(
                            By.CSS_SELECTOR, "h2 .auth")
                        assert bool(badge) == bool(op.get("security")), f"{method} {path}: badge {badge}"
                print("ok    the page has an API token field; operations needing a token are marked")

                fields = {"user_id": "u-docs-auth", "description": "with a token"}
                status, text = try_it(driver, "POST /events", fields)
                assert status == 401 and json.loads(text)["detail"] == "Not authenticated", (status, text)
                sec = op_section(driver, "POST /events")
                assert 'www-authenticate: Bearer realm="herald"' in \
                    sec.find_element(By.CSS_SELECTOR, "pre.headers").get_attribute("textContent"), "no challenge shown"
                token.send_keys(reader)
                status, text = try_it(driver, "POST /events", fields)
                assert status == 403 and "write" in json.loads(text)["detail"], (status, text)
                token.clear()
                token.send_keys(writer)
                status, text = try_it(driver, "POST /events", fields)
                assert status == 201, (status, text)
                eid = json.loads(text)["event_id"]
                status, text = try_it(driver, "GET /events/{event_id}", {"event_id": eid})
                assert status == 200 and json.loads(text)["event_id"] == eid, (status, text)
                status, text = try_it(driver, "GET /ping", {})
                assert status == 200, (status, text)
                print("ok    Try it: 401 without the token, 403 with a read token, 201 and 200 with a write token")

                sent = request_headers(driver, base)
                with_token = [(m, u) for m, u, h in sent if h.get("authorization") == f"Bearer {writer}"]
                assert ("POST", base + "/events") in with_token, sent
                assert ("GET", f"{base}/events/{eid}") in with_token, sent
                leaked = [(m, u) for m, u, h in sent if "authorization" in h and "/events" not in u]
                assert not leaked, f"token sent to open operations: {leaked}"
                assert any(u == base + "/ping" for _, u, _ in sent), sent
                print("ok    the token went to /events only, never to /ping or /openapi.json")
            finally:
                driver.quit()


def main():
    with workdir("herald-docs-") as tmp, Stack(tmp) as stack:
        base = stack.base
        # The gateway serves the repo's files, byte for byte.
        for path, name, ctype in (("/openapi.json", "openapi.json", "application/json"),
                                  ("/docs", "docs.html", "text/html")):
            status, headers, body = http("GET", base + path)
            assert status == 200, f"GET {path}: {status}"
            assert headers["Content-Type"].startswith(ctype), f"GET {path}: {headers['Content-Type']}"
            assert body == open(os.path.join(ASSETS, name), "rb").read(), f"GET {path} differs from {name}"
            print(f"ok    GET {path} serves gateway/assets/{name} ({len(body)} bytes, {ctype})")
        spec = load_spec()

        driver = browser(tmp)
        try:
            state = load_docs(driver, base)
            assert state == "ready", f"page state {state}: {driver.find_element(By.ID, 'load-error').text}"
            assert driver.title.startswith(spec["info"]["title"]), driver.title
            print(f"ok    /docs loads and renders ({driver.title})")

            n_ops = 0
            for path, item in spec["paths"].items():
                for method, op in item.items():
                    if method == "parameters":
                        continue
                    key = f"{method.upper()} {path}"
                    sec = op_section(driver, key)
                    head = sec.find_element(By.TAG_NAME, "h2").text
                    assert method.upper() in head and path in head and op["summary"] in head, head
                    for p in item.get("parameters", []) + op.get("parameters", []):
                        assert sec.find_elements(By.CSS_SELECTOR, f'tr[data-param="{p["name"]}"]'), \
                            f"{key}: parameter {p['name']} not documented"
                        assert sec.find_elements(By.CSS_SELECTOR, f'form.try-form input[name="{p["name"]}"]'), \
                            f"{key}: no input for {p['name']}"
                    for code in op["responses"]:
                        assert sec.find_elements(By.CSS_SELECTOR, f'details.response[data-code="{code}"]'), \
                            f"{key}: response {code} not shown"
                    if "requestBody" in op:
                        ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                        fields = spec["components"]["schemas"][ref.split("/")[-1]]["properties"]
                        for f in fields:
                            assert sec.find_elements(By.CSS_SELECTOR, f'.request-body tr[data-field="{f}"]'), \
                                f"{key}: body field {f} not documented"
                            assert sec.find_elements(By.CSS_SELECTOR, f'form.try-form input[name="{f}"]'), \
                                f"{key}: no input for body field {f}"
                    n_ops += 1
            shown = len(driver.find_elements(By.CSS_SELECTOR, "section.op"))
            assert shown == n_ops, f"page shows {shown} operations, document has {n_ops}"
            print(f"ok    all {n_ops} operations shown with parameters, body fields and responses")

            # Try it: create, then confirm over plain HTTP.
            status, text = try_it(driver, "POST /events",
                                  {"user_id": "u-docs", "description": "Sent from the docs page"})
            assert status == 201, f"POST /events from the page: {status} {text}"
            event = json.loads(text)
            assert UUID_RE.match(event["event_id"]), event
            assert (event["user_id"], event["description"], event["status"]) == \
                ("u-docs", "Sent from the docs page", "pending"), event
            eid = event["event_id"]
            s, _, body = http("GET", f"{base}/events/{eid}")
            assert s == 200 and json.loads(body) == event, f"GET /events/{eid}: {s} {body!r}"
            print(f"ok    Try it POST /events -> 201 {eid}, confirmed by GET over HTTP")

            status, text = try_it(driver, "GET /events/{event_id}", {"event_id": eid})
            assert status == 200 and json.loads(text)["event_id"] == eid, (status, text)
            status, text = try_it(driver, "PUT /events/{event_id}", {"event_id": eid, "status": "processed"})
            assert status == 200 and json.loads(text)["status"] == "processed", (status, text)
            s, _, body = http("GET", f"{base}/events/{eid}")
            assert json.loads(body)["status"] == "processed", body
            status, text = try_it(driver, "GET /events", {"user_id": "u-docs", "limit": "10"})
            page = json.loads(text)
            assert status == 200 and [e["event_id"] for e in page["items"]] == [eid], (status, text)
            assert page["next_after"] is None, page
            status, text = try_it(driver, "GET /ping", {})
            assert status == 200 and json.loads(text) == {"ping": "pong"}, (status, text)
            print("ok    Try it GET/PUT /events/{event_id}, GET /events, GET /ping")

            # Errors are shown as the gateway sends them.
            status, text = try_it(driver, "POST /events", {"user_id": "", "description": "",
                                                           "__body": "{not json"})
            assert status == 400 and "not valid JSON" in json.loads(text)["detail"], (status, text)
            sec = op_section(driver, "POST /events")
            sec.find_element(By.CSS_SELECTOR, '[name="__body"]').clear()
            status, text = try_it(driver, "POST /events", {"user_id": "u-docs"})
            detail = json.loads(text)["detail"]
            assert status == 422 and detail[0]["type"] == "missing" and \
                detail[0]["loc"] == ["body", "description"], (status, text)
            status, text = try_it(driver, "GET /events/{event_id}", {"event_id": "not-a-uuid"})
            assert status == 422 and json.loads(text)["detail"][0]["type"] == "uuid_parsing", (status, text)
            print("ok    Try it shows 400 and 422 answers")

            # Nothing left 127.0.0.1:PORT, by two independent accounts: the
            # DevTools log (every request the page's document made, and no
            # network URL at all outside the gateway, whatever asked for it;
            # chrome:// pages Chromium opens by itself are not network) and
            # the page's own resource timing entries.
            requests = network_requests(driver)
            page = [u for u, doc_url in requests if doc_url.startswith(base + "/")]
            network = [u for u, _ in requests if re.match(r"(https?|wss?|ftp)://", u)]
            resources = driver.execute_script(
                "return performance.getEntriesByType('resource').map(e => e.name)"
                ".concat([location.href])")
            allowed = (base + "/", "data:")
            outside = [u for u in page + network + resources if not u.startswith(allowed)]
            assert not outside, f"requests left {base}: {outside}"
            assert any(u.startswith(base + "/openapi.json") for u in page), page
            assert sum(u.startswith(base + "/events") for u in page) >= 7, page
            print(f"ok    all {len(page)} requests of the page went to {base} (none elsewhere)")

            errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"
                      and "the server responded with a status of" not in e["message"]]
            assert not errors, f"JavaScript errors: {errors}"
            print("ok    no JavaScript errors")

            # The check above must see a stray request: make the page fetch
            # from another loopback port (nothing listens there) and look.
            stray = f"http://127.0.0.1:{free_port()}/stray-probe"
            driver.execute_script("fetch(arguments[0]).catch(() => {})", stray)
            seen = []
            WebDriverWait(driver, 10).until(lambda d: seen.extend(
                u for u, doc_url in network_requests(d) if doc_url.startswith(base + "/")) or stray in seen)
            assert stray in seen, f"network log missed a stray request: {seen}"
            print("ok    the network check does catch a request to another origin")
        finally:
            driver.quit()
    check_token_field()
    print("test_docs_browser: all checks passed")


main()
