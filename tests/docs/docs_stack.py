"""docs_stack — helpers of the docs tests: the repo's OpenAPI document
(load_spec, deref), and a real herald-store and herald-gateway on free
loopback ports, stopped (by PID) afterwards.

Binaries come from HERALD_BIN_DIR, which CTest passes. Every wait is a poll
with a deadline; a process that exits early fails the test with its log.
"""
import json, os, socket, subprocess, sys, tempfile, time, urllib.error, urllib.request


ASSETS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                      "gateway", "assets")


def load_spec():
    with open(os.path.join(ASSETS, "openapi.json")) as f:
        return json.load(f)


def deref(spec, obj):
    """Follows local "#/..." references (the document has no others)."""
    while isinstance(obj, dict) and "$ref" in obj:
        node = spec
        for part in obj["$ref"][2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        obj = node
    return obj


sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from free_port import free_port  # noqa: E402  (tests/free_port.py, shared with the C harness's policy)


def http(method, url, body=None, headers=None, timeout=5):
    """One request; returns (status, headers, body bytes), also for 4xx/5xx."""
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None and not req.has_header("Content-type"):
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


class Stack:
    """herald-store + herald-gateway; use as a context manager."""

    def __init__(self, workdir, gateway_args=()):
        bindir = os.environ.get("HERALD_BIN_DIR")
        if not bindir:
            raise SystemExit("HERALD_BIN_DIR is not set (run through ctest)")
        self.bindir = bindir
        self.workdir = workdir
        self.procs = []
        self.gateway_args = list(gateway_args)
        self.store_port, self.pub_port, self.http_port = free_port(), free_port(), free_port()
        self.base = f"http://127.0.0.1:{self.http_port}"

    def _spawn(self, name, args):
        log = open(os.path.join(self.workdir, name + ".log"), "wb")
        p = subprocess.Popen([os.path.join(self.bindir, name)] + args,
                             stdout=log, stderr=subprocess.STDOUT)
        self.procs.append((name, p, log))
        return p

    def _fail(self, why):
        logs = []
        for name, p, log in self.procs:
            log.flush()
            with open(log.name, "rb") as f:
                logs.append(f"--- {name} (pid {p.pid}, exit {p.poll()}) ---\n"
                            + f.read().decode(errors="replace")[-4000:])
        raise AssertionError(why + "\n" + "\n".join(logs))

    def _wait(self, what, ready, seconds=15):
        deadline = time.monotonic() + seconds
        while not ready():
            for name, p, _ in self.procs:
                if p.poll() is not None:
                    self._fail(f"{name} exited while waiting for {what}")
            if time.monotonic() > deadline:
                self._fail(f"timed out waiting for {what}")
            time.sleep(0.05)

    def __enter__(self):
        self._spawn("herald-store", ["--bind", f"tcp://127.0.0.1:{self.store_port}",
                                     "--pub-bind", f"tcp://127.0.0.1:{self.pub_port}"])
        self._wait("herald-store", lambda: _tcp_open(self.store_port))
        self._spawn("herald-gateway", ["--listen", f"127.0.0.1:{self.http_port}",
                                       "--store-endpoint", f"tcp://127.0.0.1:{self.store_port}"]
                    + self.gateway_args)
        self._wait("herald-gateway /readyz", self._ready)
        return self

    def proc(self, name):
        """The Popen of a started service (for tests that signal it)."""
        return next(p for n, p, _ in self.procs if n == name)

    def _ready(self):
        try:
            return http("GET", self.base + "/readyz", timeout=1)[0] == 200
        except OSError:
            return False

    def __exit__(self, *exc):
        for name, p, log in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
            log.close()
        bad = [(n, p.returncode) for n, p, _ in self.procs if p.returncode not in (0, -15)]
        if bad and exc[0] is None:
            raise AssertionError(f"unclean exit: {bad}")
        return False


def _tcp_open(port):
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def workdir(prefix):
    return tempfile.TemporaryDirectory(prefix=prefix)


def make_token(workdir, name, scopes):
    """A token made by the real herald-token: (secret, tokens-file line)."""
    bindir = os.environ.get("HERALD_BIN_DIR")
    if not bindir:
        raise SystemExit("HERALD_BIN_DIR is not set (run through ctest)")
    out = subprocess.run([os.path.join(bindir, "herald-token"), "--name", name, "--scopes", scopes],
                         capture_output=True, text=True, timeout=10, check=True).stdout
    secret, line = out.splitlines()
    return secret, line + "\n"


def write_tokens(workdir, lines):
    """Writes a tokens file (mode 0600) of the given lines; returns its path."""
    path = os.path.join(workdir, "tokens")
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write("".join(lines))
    return path
