#!/usr/bin/env python3
"""scripts/bench/summarize.py RUNS_CSV BENCH_CSV [CHECKS_CSV]: the bench tables.

RUNS_CSV has one row per tool run (bench.sh writes it). Writes BENCH_CSV, one
row per workload x connections x tool, and prints markdown to stdout: the
side-by-side table, loadgen's targets against its peers, then the accuracy
and scale checks of CHECKS_CSV (name,value,target,met,note).

Figures per tool: requests/s is the median of its runs; CPU per request is
the median of (user+sys)/successful requests; peak RSS the largest run's;
a ratio to another tool is the median of the ratios taken round by round
(each round runs every tool back to back), so that drift in the machine's
load between rounds cancels out.
"""
import csv
import math
import statistics
import sys

WORKLOADS = {
    "get": "GET, tiny reply",
    "post100k": "POST 100 KB JSON",
    "jpeg10k": "POST 10 KB JPEG",
}
TOOLS = ["loadgen", "candidate", "wrk", "hey", "h2load", "ab"]


def fnum(x):
    try:
        v = float(x)
    except (TypeError, ValueError):
        return math.nan
    return v


def med(xs):
    xs = [x for x in xs if not math.isnan(x)]
    return statistics.median(xs) if xs else math.nan


def fmt(v, digits=0):
    return "n/a" if math.isnan(v) else f"{v:,.{digits}f}"


def load_runs(path):
    runs = {}
    for r in csv.DictReader(open(path)):
        ok = fnum(r["ok"])
        cpu = fnum(r["user_s"]) + fnum(r["sys_s"])
        r["rps"] = fnum(r["rps"])
        r["cpu_us"] = cpu / ok * 1e6 if ok > 0 else math.nan
        if ok <= 0:
            r["rps"] = math.nan
        key = (r["workload"], int(r["connections"]), r["tool"])
        runs.setdefault(key, {})[int(r["round"])] = r
    return runs


def ratio(a, b, field):
    """Median over rounds of a[field] / b[field]."""
    rs = [a[i][field] / b[i][field] for i in a if i in b and b[i][field] > 0]
    return med(rs)


def main():
    runs = load_runs(sys.argv[1])
    rows = []
    groups = sorted({(w, c) for w, c, _ in runs},
                    key=lambda k: (list(WORKLOADS).index(k[0]) if k[0] in WORKLOADS else 9, k[1]))
    for w, c in groups:
        wrk = runs.get((w, c, "wrk"))
        for t in TOOLS:
            rr = runs.get((w, c, t))
            if not rr:
                continue
            vals = list(rr.values())
            rps = [v["rps"] for v in vals]
            good = [x for x in rps if not math.isnan(x)]
            rows.append({
                "workload": w, "connections": c, "tool": t, "runs": len(vals),
                "rps_median": med(rps),
                "rps_min": min(good) if good else math.nan,
                "rps_max": max(good) if good else math.nan,
                "cpu_us_per_req": med([v["cpu_us"] for v in vals]),
                "peak_rss_kb": max(fnum(v["rss_kb"]) for v in vals),
                "rps_ratio_to_wrk": ratio(rr, wrk, "rps") if wrk else math.nan,
                "cpu_ratio_to_wrk": ratio(rr, wrk, "cpu_us") if wrk else math.nan,
                "errors": sum(int(e) for e in (fnum(v["errors"]) for v in vals) if not math.isnan(e)),
                "load1_median": med([fnum(v["load1"]) for v in vals]),
            })
    cols = ["workload", "connections", "tool", "runs", "rps_median", "rps_min", "rps_max",
            "cpu_s_per_1k", "cpu_us_per_req", "peak_rss_kb", "rps_ratio_to_wrk", "cpu_ratio_to_wrk",
            "errors", "load1_median"]
    with open(sys.argv[2], "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(cols)
        for r in rows:
            r["cpu_s_per_1k"] = r["cpu_us_per_req"] / 1000
            out.writerow(["" if isinstance(r[k], float) and math.isnan(r[k]) else
                          (f"{r[k]:.4f}" if isinstance(r[k], float) else r[k]) for k in cols])

    print("| workload | conns | tool | req/s (median) | min..max | CPU us/req | peak RSS MB | "
          "req/s vs wrk | CPU vs wrk | errors |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {WORKLOADS.get(r['workload'], r['workload'])} | {r['connections']} | {r['tool']} | "
              f"{fmt(r['rps_median'])} | {fmt(r['rps_min'])}..{fmt(r['rps_max'])} | "
              f"{fmt(r['cpu_us_per_req'], 1)} | {fmt(r['peak_rss_kb'] / 1024, 1)} | "
              f"{fmt(r['rps_ratio_to_wrk'], 2)} | {fmt(r['cpu_ratio_to_wrk'], 2)} | {r['errors']} |")

    targets = []
    for (w, c), who in ((g, t) for g in groups for t in ("loadgen", "candidate")):
        lg = runs.get((w, c, who))
        if not lg:
            continue
        name = f"{who}: {WORKLOADS.get(w, w)}, {c} conns"
        # Issue 14's targets, in every cell: req/s >= wrk's and h2load's,
        # CPU per request <= 1.1x wrk's; hey's 2x is issue 7's.
        wrk = runs.get((w, c, "wrk"))
        if wrk:
            targets.append((f"{name}: req/s vs wrk", ratio(lg, wrk, "rps"), 1.0, ">="))
            targets.append((f"{name}: CPU/req vs wrk", ratio(lg, wrk, "cpu_us"), 1.1, "<="))
        for peer, want in (("h2load", 1.0), ("hey", 2.0)):
            pr = runs.get((w, c, peer))
            if pr:
                targets.append((f"{name}: req/s vs {peer}", ratio(lg, pr, "rps"), want, ">="))
    if targets:
        print()
        print("| loadgen vs peer | measured | target | met |")
        print("|---|---:|---:|---|")
        for name, v, want, op in targets:
            met = "n/a" if math.isnan(v) else ("yes" if (v >= want if op == ">=" else v <= want) else "**no**")
            print(f"| {name} | {fmt(v, 2)}x | {op} {want}x | {met} |")

    if len(sys.argv) > 3:
        checks = list(csv.DictReader(open(sys.argv[3])))
        if checks:
            print()
            print("| check | measured | target | met | note |")
            print("|---|---:|---|---|---|")
            for r in checks:
                print(f"| {r['name']} | {r['value']} | {r['target']} | {r['met']} | {r['note']} |")


main()
