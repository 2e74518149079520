#!/usr/bin/env bash
# scripts/bench/ab.sh PAIRS 'COMMAND A' 'COMMAND B': an A/B of two loadgen
# runs, alternated A B A B so that drift in the machine's load hits both.
# Each command is run by sh on the client core (BENCH_CLIENT_CPU, 1) and must
# write loadgen's --json to "$JSON". Prints each run, then the medians of
# requests/s and of client CPU microseconds per request, and B/A.
#   scripts/bench/ab.sh 5 './a --url U -c 50 -d 5s --loops 1 --method GET --no-out -q --json $JSON' \
#                         './b --url U -c 50 -d 5s --loops 1 --method GET --no-out -q --json $JSON'
set -u
pairs=${1:?usage: ab.sh PAIRS 'COMMAND A' 'COMMAND B'}
cmd_a=${2:?}; cmd_b=${3:?}
cpu=${BENCH_CLIENT_CPU:-1}
T=$(mktemp -d /tmp/loadgen-ab.XXXXXX)
trap 'rm -rf "$T"' EXIT
for i in $(seq "$pairs"); do
  for side in a b; do
    [ $side = a ] && cmd=$cmd_a || cmd=$cmd_b
    JSON=$T/$side$i.json /usr/bin/time -f '%U %S' -o "$T/$side$i.time" \
      timeout 600 taskset -c "$cpu" sh -c "$cmd" >/dev/null 2>"$T/$side$i.err"
    python3 - "$T/$side$i.json" "$T/$side$i.time" "$side" "$i" "$(cut -d' ' -f1 /proc/loadavg)" <<'PY' >>"$T/runs"
import json, sys
try:
    l = json.load(open(sys.argv[1]))["levels"][0]
    u, s = (float(x) for x in open(sys.argv[2]).read().split()[-2:])
    print(sys.argv[3], sys.argv[4], round(l["throughput_rps"], 1), round((u + s) / max(l["ok"], 1) * 1e6, 2),
          l["errors"], sys.argv[5])
except (OSError, ValueError, KeyError, IndexError):
    print(sys.argv[3], sys.argv[4], "nan nan nan", sys.argv[5])
PY
  done
done
python3 - "$T/runs" <<'PY'
import math, statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
print("side pair req/s cpu_us/req errors load1")
for r in rows:
    print(" ".join(r))
def med(side, col):
    xs = [float(r[col]) for r in rows if r[0] == side and r[col] != "nan"]
    return statistics.median(xs) if xs else math.nan
for col, name in ((2, "req/s"), (3, "CPU us/req")):
    a, b = med("a", col), med("b", col)
    print(f"median {name}: A {a:.1f}  B {b:.1f}  B/A {b / a:.3f}")
PY
