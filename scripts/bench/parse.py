#!/usr/bin/env python3
"""scripts/bench/parse.py TOOL OUTPUT [LOADGEN_JSON]: one tool's figures.

Prints "RPS OK ERRORS" (requests/s, successful requests, failed ones) read
from what wrk, hey, h2load or ab printed, or from loadgen's --json file.
Prints "nan 0 0" when the output has no result (the tool failed).
"""
import json
import re
import sys


def num(pattern, text, default=None):
    m = re.search(pattern, text, re.M)
    return float(m.group(1)) if m else default


def loadgen(text, path):
    level = json.load(open(path))["levels"][0]
    return level["throughput_rps"], level["ok"], level["errors"]


def wrk(text, path):
    rps = num(r"^Requests/sec:\s+([\d.]+)", text)
    total = num(r"^\s*(\d+) requests in", text, 0)
    bad = num(r"Non-2xx or 3xx responses:\s+(\d+)", text, 0)
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    sock = sum(int(x) for x in m.groups()) if m else 0
    return rps, total - bad, bad + sock


def hey(text, path):
    rps = num(r"Requests/sec:\s+([\d.]+)", text)
    codes = re.findall(r"^\s*\[(\d{3})\]\s+(\d+) responses", text, re.M)
    ok = sum(int(n) for c, n in codes if c.startswith("2"))
    bad = sum(int(n) for c, n in codes if not c.startswith("2"))
    errs = text.split("Error distribution:", 1)
    if len(errs) == 2:
        bad += sum(int(n) for n in re.findall(r"^\s*\[(\d+)\]", errs[1], re.M))
    return rps, ok, bad


def h2load(text, path):
    rps = num(r"finished in [\d.]+\w+, ([\d.]+) req/s", text)
    m = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, "
                  r"(\d+) errored, (\d+) timeout", text)
    if not m:
        return rps, 0, 0
    ok, failed = int(m.group(1)), int(m.group(2))  # failed counts errored and timeout too
    return rps, ok, failed


def ab(text, path):
    rps = num(r"^Requests per second:\s+([\d.]+)", text)
    total = num(r"^Complete requests:\s+(\d+)", text, 0)
    failed = num(r"^Failed requests:\s+(\d+)", text, 0)
    non2xx = num(r"^Non-2xx responses:\s+(\d+)", text, 0)
    bad = failed + non2xx
    return rps, total - bad, bad


def main():
    tool, out = sys.argv[1], sys.argv[2]
    path = sys.argv[3] if len(sys.argv) > 3 else None
    try:
        text = open(out, errors="replace").read()
        rps, ok, bad = globals()[tool](text, path)
    except (OSError, ValueError, KeyError, IndexError):
        rps, ok, bad = None, 0, 0
    print("nan" if rps is None else f"{rps:.1f}", int(ok), int(bad))


main()
