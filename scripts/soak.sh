#!/usr/bin/env bash
# scripts/soak.sh [LOADGEN]: the soak test (make soak; not part of make test).
#
# Runs loadgen for ${SOAK_SECONDS:-1800} s against `loadgen serve` on
# loopback with about 1% faults (0.6% 503s, 0.3% resets, 0.1% stalls past
# the client's timeout), as back-to-back levels of ${SOAK_LEVEL_SECONDS:-60} s
# (--cycles), writing every output. It samples loadgen's and the server's
# resident memory every ${SOAK_SAMPLE_SECONDS:-10} s into obj/soak/rss.csv.
#
# Passes when loadgen exits 0, every level wrote one complete row, the
# fault classes were all seen, and memory stayed flat: loadgen's RSS at the
# end is within max(${SOAK_RSS_SLACK_KB:-8192} KiB, 10%) of its RSS at the end
# of the first level (when its buffers have reached their working size).
# The server's RSS is reported, not judged. Prints RSS at start and end.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=$(cd "$(dirname "${1:-./loadgen}")" && pwd)/$(basename "${1:-./loadgen}")
total=${SOAK_SECONDS:-1800}
level=${SOAK_LEVEL_SECONDS:-60}
every=${SOAK_SAMPLE_SECONDS:-10}
slack_kb=${SOAK_RSS_SLACK_KB:-8192}
cycles=$(( (total + level - 1) / level ))
out=obj/soak
rm -rf "$out" && mkdir -p "$out"

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

server_pid=
client_pid=
cleanup() {
  [ -n "$client_pid" ] && kill "$client_pid" 2>/dev/null || true
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT

"$bin" serve --port 0 --model resnet50 --device gpu --replicas 3 \
  --fail-rate 0.6% --reset-rate 0.3% --stall-rate 0.1% --stall 3s \
  >"$out/serve.out" 2>"$out/serve.err" &
server_pid=$!
port=
for _ in $(seq 100); do
  port=$(head -1 "$out/serve.out" 2>/dev/null | grep -o '[0-9]\+$' || true)
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { echo "soak: loadgen serve did not start: $(cat "$out/serve.err")"; exit 1; }

echo "soak: ${total}s as $cycles levels of ${level}s against loadgen serve on port $port (1% faults)"
"$bin" --url "http://127.0.0.1:$port/score" --threads 32 -d "${level}s" --cycles "$cycles" \
  --synthetic 200 --timeout 1s --expect-json result \
  --out "$out/summary.csv" --json "$out/result.json" --history "$out/history.csv" \
  -q >"$out/client.out" 2>"$out/client.err" &
client_pid=$!

echo "t_s,loadgen_rss_kb,serve_rss_kb" >"$out/rss.csv"
start=$(date +%s)
first_level_rss=
while kill -0 "$client_pid" 2>/dev/null; do
  t=$(( $(date +%s) - start ))
  r=$(rss_kb "$client_pid")
  [ "$r" = 0 ] && break
  echo "$t,$r,$(rss_kb "$server_pid")" >>"$out/rss.csv"
  if [ -z "$first_level_rss" ] && [ "$t" -ge $((level + 2)) ]; then
    first_level_rss=$r
    echo "soak: loadgen RSS after the first level: $r KiB"
  fi
  sleep "$every"
done
set +e
wait "$client_pid"
rc=$?
set -e
client_pid=
last=$(tail -1 "$out/rss.csv")
end_rss=$(echo "$last" | cut -d, -f2)
first_rss=$(sed -n 2p "$out/rss.csv" | cut -d, -f2)
first_level_rss=${first_level_rss:-$first_rss}
echo "soak: loadgen RSS start $first_rss KiB, after level 1 $first_level_rss KiB, end $end_rss KiB"
echo "soak: serve RSS start $(sed -n 2p "$out/rss.csv" | cut -d, -f3) KiB, end $(echo "$last" | cut -d, -f3) KiB"

problems=()
[ "$rc" = 0 ] || problems+=("loadgen exited $rc: $(tail -3 "$out/client.err")")
rows=$(( $(wc -l <"$out/summary.csv") - 1 ))
[ "$rows" = "$cycles" ] || problems+=("$rows summary rows, want $cycles")
complete=$(grep -c ',complete,' "$out/summary.csv" || true)
[ "$complete" = "$cycles" ] || problems+=("$complete complete rows, want $cycles")
for class in http_5xx reset timeout; do
  grep -q "$class" "$out/client.out" || problems+=("no $class errors seen: are the faults on?")
done
python3 - "$out/result.json" "$cycles" <<'PY' || problems+=("the JSON result is not whole")
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d["levels"]) == int(sys.argv[2]), len(d["levels"])
PY
allowed=$(( first_level_rss / 10 > slack_kb ? first_level_rss / 10 : slack_kb ))
growth=$(( end_rss - first_level_rss ))
echo "soak: loadgen RSS grew $growth KiB over the soak (allowed $allowed KiB)"
[ "$growth" -le "$allowed" ] || problems+=("loadgen RSS grew $growth KiB (allowed $allowed KiB)")
req=$(awk -F, 'NR > 1 { n += $12; e += $14 } END { printf "%d requests, %d errors (%.2f%%)", n, e, 100 * e / n }' "$out/summary.csv")
echo "soak: $req"

if [ ${#problems[@]} -gt 0 ]; then
  printf 'soak: FAILED: %s\n' "${problems[@]}"
  exit 1
fi
echo "soak: passed"
