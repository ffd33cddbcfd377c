#!/usr/bin/env python3
"""Free TCP ports on 127.0.0.1 for test services to listen on.

`python3 tests/free_port.py [N]` prints N (default 1) distinct ports, one per
line; `python3 tests/free_port.py --base 1,2,11` a base whose base+1, base+2
and base+11 are free; `from free_port import free_port` gives one. The same policy as
harness_free_port in tests/harness.c: a port from the 12,000 below the
kernel's ephemeral range, picked at random and probed with bind. A port that
bind(0) hands out is itself ephemeral, and any process's next outgoing
connection may take it as its source port before the service meant to listen
there binds it; below the range only an explicit bind takes a port.

A process hands out each port once. Scripts call it once per port, each a
new process: with HERALD_FREE_PORTS_FILE set, the ports already handed out
are read from that file and the new one is added to it, so a script's
ports are distinct too (bind alone cannot tell: the earlier ones are not
bound yet).
"""
import os
import random
import socket
import sys

_given = set()
_file = os.environ.get("HERALD_FREE_PORTS_FILE")


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _read_given():
    try:
        with open(_file) as f:
            _given.update(int(line) for line in f if line.strip().isdigit())
    except OSError:
        pass


def _bindable(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_base(offsets):
    """A base such that base + each offset is a free port: for a service
    that derives several ports from one (run.sh's --metrics-port)."""
    if _file:
        _read_given()
    high = _ephemeral_low() - 1 - max(offsets)
    low = max(1024, high - 12000)
    for _ in range(1000):
        base = random.randint(low, high)
        ports = [base + off for off in offsets]
        if any(p in _given for p in ports) or not all(_bindable(p) for p in ports):
            continue
        _given.update(ports)
        if _file:
            with open(_file, "a") as f:
                f.writelines(f"{p}\n" for p in ports)
        return base
    raise OSError("no free ports below the ephemeral range")


def free_port():
    return free_base([0])


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--base":
        print(free_base([int(off) for off in sys.argv[2].split(",")]))
    else:
        for _ in range(int(sys.argv[1]) if len(sys.argv) > 1 else 1):
            print(free_port())
