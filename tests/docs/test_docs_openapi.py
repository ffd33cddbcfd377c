#!/usr/bin/python3
"""test_docs_openapi — gateway/assets/openapi.json is a valid OpenAPI 3.0
document and says what docs/ARCHITECTURE.md §2 and proto/ say.

Validation is done by a third-party validator, @apidevtools/swagger-cli
(schema validation against the official OpenAPI 3.0 JSON Schema plus $ref
resolution), installed from the npm registry into a build-local folder on
first use (Debian 12 has no OpenAPI validator package) with `npm ci` from
tests/docs/validator/package-lock.json, so every package is pinned by
version and integrity hash and no install script runs. To show the
validator is really checking, three deliberately broken copies must be
refused. Then the document is checked against the contract: every path and
method, the error responses each operation documents, the query limits, and
the string limits, which are read from proto/proto.h so they cannot drift.
Exits 77 (CTest SKIP) only when npm itself is not installed.
"""
import copy, json, os, re, shutil, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from docs_stack import deref as _deref  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
doc_path = os.path.join(root, "gateway", "assets", "openapi.json")
VALIDATOR = "@apidevtools/swagger-cli@4.0.4"
node_dir = os.environ.get("HERALD_DOCS_NODE_DIR") or os.path.join(tempfile.gettempdir(), "herald-docs-node")


def validator():
    """The validator, installed with `npm ci` from validator/package-lock.json:
    every package pinned by version and sha512 integrity, no install scripts
    run. Reinstalled when the lock file changes."""
    exe = os.path.join(node_dir, "node_modules", ".bin", "swagger-cli")
    lock = os.path.join(here, "validator", "package-lock.json")
    installed = os.path.join(node_dir, "package-lock.json")
    if os.path.exists(exe) and os.path.exists(installed) \
            and open(installed, "rb").read() == open(lock, "rb").read():
        return exe
    npm = shutil.which("npm")
    if not npm:
        print("skipping: npm is not installed (needed for the OpenAPI validator)")
        sys.exit(77)
    os.makedirs(node_dir, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(os.path.join(here, "validator", name), os.path.join(node_dir, name))
    r = subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--prefix", node_dir],
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0 or not os.path.exists(exe):
        sys.exit(f"npm ci of {VALIDATOR} (tests/docs/validator) failed:\n{r.stdout}\n{r.stderr}")
    return exe


def validate(exe, path):
    r = subprocess.run([exe, "validate", path], capture_output=True, text=True, timeout=120)
    return r.returncode, (r.stdout + r.stderr).strip()


failures = []


def check(cond, what):
    print(("ok    " if cond else "FAIL  ") + what)
    if not cond:
        failures.append(what)


doc = json.load(open(doc_path))
exe = validator()

rc, out = validate(exe, doc_path)
print(out)
check(rc == 0 and "is valid" in out, "swagger-cli validates gateway/assets/openapi.json")

# The validator must refuse broken documents, or the check above proves nothing.
broken = []
d = copy.deepcopy(doc)
d["paths"]["/ping"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] = {
    "$ref": "#/components/schemas/NoSuchSchema"}
broken.append(("dangling $ref", d))
d = copy.deepcopy(doc)
d["paths"]["/events/{event_id}"]["parameters"][0]["required"] = False
broken.append(("optional path parameter", d))
d = copy.deepcopy(doc)
d["paths"]["/events"]["get"]["parameters"][0]["in"] = "body"
broken.append(("parameter in body (OpenAPI 2 style)", d))
with tempfile.TemporaryDirectory(prefix="herald-docs-") as tmp:
    for name, bad in broken:
        p = os.path.join(tmp, "bad.json")
        json.dump(bad, open(p, "w"))
        rc, out = validate(exe, p)
        check(rc != 0, f"swagger-cli refuses a document with a {name}")

# ---- The document against the contract ------------------------------------
check(doc.get("openapi") == "3.0.3", "openapi is 3.0.3")
paths = doc["paths"]
expected = {
    "/events": {"post", "get"}, "/events/{event_id}": {"get", "put"},
    "/ping": {"get"}, "/healthz": {"get"}, "/readyz": {"get"}, "/metrics": {"get"},
    "/openapi.json": {"get"}, "/docs": {"get"},
}
for path, methods in expected.items():
    got = {m for m in paths.get(path, {}) if m in ("get", "put", "post", "delete", "patch")}
    check(got == methods, f"{path} documents exactly {sorted(methods)} (got {sorted(got)})")
check(set(paths) == set(expected), "no undocumented or extra paths")


def deref(o):
    return _deref(doc, o)


def responses(path, method):
    return {code: deref(r) for code, r in paths[path][method]["responses"].items()}


needs = {
    ("/events", "post"): {"201", "400", "405", "413", "415", "422", "500", "503", "504"},
    ("/events", "get"): {"200", "405", "422", "500", "503", "504"},
    ("/events/{event_id}", "get"): {"200", "404", "405", "422", "500", "503", "504"},
    ("/events/{event_id}", "put"): {"200", "400", "404", "405", "413", "415", "422", "500", "503", "504"},
    ("/readyz", "get"): {"200", "503"},
}
for (path, method), codes in needs.items():
    got = set(responses(path, method))
    check(codes <= got, f"{method.upper()} {path} documents {sorted(codes)} (missing {sorted(codes - got)})")
for path, methods in expected.items():
    for m in methods:
        for code, r in responses(path, m).items():
            if code.startswith(("4", "5")):
                media = r.get("content", {}).get("application/json", {})
                has_ex = "example" in media or media.get("examples")
                check(has_ex, f"{m.upper()} {path} {code} has an example")
                for ex in (media.get("examples") or {}).values():
                    check("detail" in ex["value"], f"{m.upper()} {path} {code} example has detail")

created = responses("/events", "post")["201"]
check("Location" in created.get("headers", {}), "201 documents the Location header")
check("Allow" in deref(doc["components"]["responses"]["MethodNotAllowed"]).get("headers", {}),
      "405 documents the Allow header")

params = {p["name"]: p for p in paths["/events"]["get"]["parameters"]}
lim = params["limit"]["schema"]
check((lim.get("minimum"), lim.get("maximum"), lim.get("default")) == (1, 1000, 100),
      "limit is 1..1000, default 100")
check(params["after"]["schema"].get("format") == "uuid", "after is a uuid")

# String limits come from proto/proto.h, the one place every service reads them.
proto_h = open(os.path.join(root, "proto", "proto.h")).read()
def define(name):
    return int(re.search(rf"#define\s+{name}\s+(\d+)", proto_h).group(1))
limits = {"user_id": define("PROTO_USER_ID_MAX_DEFAULT"),
          "description": define("PROTO_DESCRIPTION_MAX_DEFAULT"),
          "status": define("PROTO_STATUS_MAX_DEFAULT")}
check(define("PROTO_LIST_LIMIT_MAX") == lim["maximum"], "limit maximum matches PROTO_LIST_LIMIT_MAX")
check(define("PROTO_LIST_LIMIT_DEFAULT") == lim["default"], "limit default matches PROTO_LIST_LIMIT_DEFAULT")
schemas = doc["components"]["schemas"]
for schema in ("Event", "EventCreate", "EventUpdate"):
    for field, props in schemas[schema]["properties"].items():
        if field in limits:
            check(props.get("maxLength") == limits[field] and props.get("minLength") == 1,
                  f"{schema}.{field} is 1..{limits[field]} bytes")
for field in ("user_id", "status"):
    check(params[field]["schema"].get("maxLength") == limits[field], f"query {field} max {limits[field]}")
check(set(schemas["EventCreate"]["required"]) == {"user_id", "description"}, "EventCreate requires both fields")
check(schemas["EventUpdate"].get("minProperties") == 1, "EventUpdate needs at least one field")
check(schemas["EventList"]["properties"]["next_after"].get("nullable") is True, "next_after is nullable")
# Bearer tokens (gateway/auth.h): the scheme, which operations need it, and
# their 401 / 403 with the challenge header; the open ones need nothing.
scheme = doc["components"].get("securitySchemes", {}).get("bearerAuth", {})
check((scheme.get("type"), scheme.get("scheme")) == ("http", "bearer"), "bearerAuth is an http bearer scheme")
protected = {("/events", "post"), ("/events", "get"), ("/events/{event_id}", "get"),
             ("/events/{event_id}", "put"), ("/metrics", "get")}
for path, methods in expected.items():
    for m in methods:
        sec = paths[path][m].get("security")
        if (path, m) in protected:
            check(sec == [{"bearerAuth": []}], f"{m.upper()} {path} requires bearerAuth")
            got = responses(path, m)
            check({"401", "403"} <= set(got), f"{m.upper()} {path} documents 401 and 403")
            for code in ("401", "403"):
                check("WWW-Authenticate" in got.get(code, {}).get("headers", {}),
                      f"{m.upper()} {path} {code} documents WWW-Authenticate")
        else:
            check(sec == [], f"{m.upper()} {path} is open (security: [])")
            check("401" not in responses(path, m), f"{m.upper()} {path} documents no 401")

for name in ("Event", "EventCreate", "EventUpdate", "EventList", "HTTPValidationError",
             "ValidationError", "ErrorDetail"):
    check(name in schemas, f"schema {name} defined")

print(f"{len(failures)} failed" if failures else "all checks passed")
sys.exit(1 if failures else 0)
