#!/usr/bin/python3
"""test_protocol_example — runs the Python client example of PROTOCOL.md
against a real herald-store, so the document cannot drift from the store.

Starts herald-store on free loopback ports, waits until its ROUTER accepts
TCP connections, then executes the first ```python block of PROTOCOL.md
with the endpoint rewritten. The example asserts that every reply echoes
its rid; this script also checks the replies it prints. Exits 77 (CTest
SKIP) when pyzmq or msgpack is missing.
"""
import contextlib, io, os, re, socket, subprocess, sys, time

try:
    import zmq, msgpack  # noqa: F401
except ImportError as e:
    print(f"skipping: {e}")
    sys.exit(77)

here = os.path.dirname(os.path.abspath(__file__))
store_bin = os.path.join(os.environ["HERALD_BIN_DIR"], "herald-store")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


port, pub_port = free_port(), free_port()
store = subprocess.Popen([store_bin, "--bind", f"tcp://127.0.0.1:{port}",
                          "--pub-bind", f"tcp://127.0.0.1:{pub_port}"])
try:
    deadline = time.monotonic() + 10
    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        if time.monotonic() > deadline or store.poll() is not None:
            sys.exit("herald-store did not start")
        time.sleep(0.05)
    doc = open(os.path.join(here, "PROTOCOL.md")).read()
    example = re.search(r"```python\n(.*?)```", doc, re.S).group(1)
    example = example.replace("tcp://127.0.0.1:5555", f"tcp://127.0.0.1:{port}")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(example, "PROTOCOL.md example", "exec"), {})
    lines = out.getvalue().splitlines()
    print("\n".join(lines))
    assert re.fullmatch(r"\{'v': 1, 'op': 'ping', 'rid': 1, 'status': 'ok', "
                        r"'store_id': '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-"
                        r"[89ab][0-9a-f]{3}-[0-9a-f]{12}'\}", lines[0]), lines[0]
    assert re.fullmatch(r"[0-9a-f-]{36} pending", lines[1]), lines[1]
    assert lines[2] == "processed", lines[2]
    assert lines[3] == "1 None", lines[3]
    assert "'status': 'invalid'" in lines[4] and "'field': 'event_id'" in lines[4], lines[4]
    assert re.fullmatch(r"1 created [0-9a-f-]{36}", lines[5]), lines[5]
    assert re.fullmatch(r"2 updated [0-9a-f-]{36}", lines[6]), lines[6]
    assert lines[7] == "2", lines[7]
    assert lines[8] == "0 32", lines[8]
    assert lines[9] == "[('get', 'ok'), ('ping', 'ok')]", lines[9]
    print("PROTOCOL.md example: ok")
finally:
    store.terminate()
    store.wait(timeout=10)
