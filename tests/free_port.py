#!/usr/bin/env python3
"""Free TCP ports on 127.0.0.1 for test services to listen on.

`python3 tests/free_port.py [N]` prints N (default 1) distinct ports, one per
line; `from free_port import free_port` gives one. The same policy as
harness_free_port in tests/harness.c: a port from the 12,000 below the
kernel's ephemeral range, picked at random and probed with bind. A port that
bind(0) hands out is itself ephemeral, and any process's next outgoing
connection may take it as its source port before the service meant to listen
there binds it; below the range only an explicit bind takes a port.
"""
import random
import socket
import sys

_given = set()


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port():
    high = _ephemeral_low() - 1
    low = max(1024, high - 12000)
    for _ in range(1000):
        port = random.randint(low, high)
        if port in _given:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _given.add(port)
        return port
    raise OSError("no free port below the ephemeral range")


if __name__ == "__main__":
    for _ in range(int(sys.argv[1]) if len(sys.argv) > 1 else 1):
        print(free_port())
