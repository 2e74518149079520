#!/usr/bin/env bash
# scripts/demo.sh LOADGEN: the study on one machine. Starts `loadgen serve`
# instances standing in for the study's clusters (gpu-1, gpu-2, gpu-3 and
# cpu-35, for two models), the same set again behind --rtt 80ms standing in
# for a client in a far region, runs scenarios/local-demo.json from 20 to 50
# threads, writes results/ and draws the charts. Every server it started is
# stopped on exit, Ctrl-C included.
set -u
LOADGEN=${1:-./loadgen}
cd "$(dirname "$0")/.."
OUT=${DEMO_OUT:-results/demo}
SCENARIO=scenarios/local-demo.json
mkdir -p "$OUT"
rm -f "$OUT/summary.csv" "$OUT/result-"*.json

pids=()
stop_servers() {
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
  for p in "${pids[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null; done
  pids=()
}
trap stop_servers EXIT
trap 'echo "demo: interrupted; servers stopped" >&2; exit 130' INT TERM

# The servers the scenario's targets point at: port -> serve flags, read
# from the scenario itself (the "serve" key of each target).
servers=$(python3 - "$SCENARIO" <<'PY'
import json, sys, re
d = json.load(open(sys.argv[1]))
for t in d["targets"]:
    port = re.search(r":(\d+)/", t["url"]).group(1)
    print(port, t["serve"])
PY
) || { echo "demo: cannot read $SCENARIO" >&2; exit 2; }

while read -r port flags; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "demo: port $port is already in use; stop what listens there (the demo's servers use 18101-18116)" >&2
    exit 2
  fi
  # shellcheck disable=SC2086
  "$LOADGEN" serve --listen "127.0.0.1:$port" $flags >"$OUT/serve-$port.log" 2>&1 &
  pids+=($!)
done <<<"$servers"
for _ in $(seq 50); do
  up=0
  while read -r port _; do grep -q listening "$OUT/serve-$port.log" 2>/dev/null && up=$((up + 1)); done <<<"$servers"
  [ "$up" -eq "$(wc -l <<<"$servers")" ] && break
  sleep 0.1
done
echo "demo: ${#pids[@]} scoring endpoints up (logs in $OUT/serve-*.log)"

start=$(date +%s)
"$LOADGEN" run --scenario "$SCENARIO" --out "$OUT/summary.csv" --json "$OUT/result.json" -q
rc=$?
stop_servers
[ "$rc" -eq 0 ] || { echo "demo: loadgen exited $rc" >&2; exit "$rc"; }
echo "demo: measured in $(( $(date +%s) - start )) s; rows in $OUT/summary.csv"
echo
"$LOADGEN" compare "$OUT/summary.csv" --by label --baseline cpu-35 --at-threads 50 || true
echo
if "$LOADGEN" plot "$OUT/summary.csv" "$OUT/result.json" -o "$OUT/charts"; then
  echo "demo: charts in $OUT/charts/"
  "$LOADGEN" report "$OUT" -o "$OUT/report.html" && echo "demo: report in $OUT/report.html"
fi
