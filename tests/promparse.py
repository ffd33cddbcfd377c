#!/usr/bin/python3
"""Scrapes a Herald /metrics URL and parses it with prometheus_client's
text parser (Debian's python3-prometheus-client), strictly: a line the
parser rejects, a sample without its family's TYPE and HELP, a family
declared twice or a counter not ending in _total fail with exit 1.

Prints each sample as `name{k="v",...} value` with labels sorted, one per
line, for the C tests (tests/scrape.h) to look up."""
import re
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def main():
    if len(sys.argv) != 2:
        print("usage: promparse.py URL|-", file=sys.stderr)
        return 2
    if sys.argv[1] == "-":
        text = sys.stdin.read()
    else:
        with urllib.request.urlopen(sys.argv[1], timeout=10) as resp:
            if resp.status != 200:
                print(f"HTTP {resp.status}", file=sys.stderr)
                return 1
            ctype = resp.headers.get("Content-Type", "")
            if not ctype.startswith("text/plain; version=0.0.4"):
                print(f"Content-Type {ctype!r}", file=sys.stderr)
                return 1
            text = resp.read().decode("utf-8")
    # The parser skips what it does not understand in comments; check the
    # HELP / TYPE discipline ourselves.
    helps, types = {}, {}
    for line in text.splitlines():
        m = re.match(r"# (HELP|TYPE) (\S+) (.*)$", line)
        if m:
            table = helps if m.group(1) == "HELP" else types
            if m.group(2) in table:
                print(f"{m.group(1)} {m.group(2)} twice", file=sys.stderr)
                return 1
            table[m.group(2)] = m.group(3)
        elif line.startswith("#") or not line.strip():
            if line.strip() and not line.startswith("# "):
                print(f"bad comment line: {line!r}", file=sys.stderr)
                return 1
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as e:  # the parser raises ValueError and friends
        print(f"parse error: {e}", file=sys.stderr)
        return 1
    for fam in families:
        declared = fam.name + "_total" if fam.type == "counter" else fam.name
        if declared not in types or declared not in helps:
            # a counter's family is declared with _total (0.16 strips it)
            print(f"family {declared} without TYPE and HELP", file=sys.stderr)
            return 1
        for s in fam.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
            value = repr(float(s.value))
            print(f"{s.name}{{{labels}}} {value}" if labels else f"{s.name} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
