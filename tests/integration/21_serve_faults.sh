#!/usr/bin/env bash
# loadgen serve's injected faults and timing, driven with loadgen and curl:
# --fail-rate 1 answers every request with --fail-status, --reset-rate 1
# resets every connection (class reset), --stall and --rtt add their time
# to loadgen's latency, --fixed-latency is exact, the freeze holds requests
# to its end, and the same --seed gives the same faults.
# (12_open_loop.sh and 81_faults.sh use the freeze and partial rates too.)
. "$(dirname "$0")/lib.sh"

# class_count OUTFILE CLASS: CLASS's count on the summary's errors line
class_count() {
  sed -n 's/^  errors *//p' "$1" | tr ' ' '\n' |
    awk -v c="$2" 'prev == c { n = $0 } { prev = $0 } END { print n + 0 }'
}
# drive NAME ARGS...: loadgen against /score of the last serve, row in $T/NAME.csv
drive() {
  local name=$1; shift
  lg --url "http://127.0.0.1:$SERVE_PORT/score" --synthetic 10 --out "$T/$name.csv" -q "$@" >"$T/$name.out" 2>&1
}

start_serve --model zero --fail-rate 1
drive fail -c 5 -n 50
expect_eq "--fail-rate 1: every request is an error" "$(csv_col "$T/fail.csv" errors)" 50
expect_eq "--fail-rate 1: all of class http_5xx" "$(class_count "$T/fail.out" http_5xx)" 50
code=$(curl -s -o "$T/body" -w '%{http_code}' -H 'Content-Type: application/json' -d '{}' "http://127.0.0.1:$SERVE_PORT/score")
expect_eq "--fail-rate 1: curl sees 503" "$code" 503
check "--fail-rate 1: a JSON error body" grep -q '"error"' "$T/body"

start_serve --model zero --fail-rate 1 --fail-status 429
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SERVE_PORT/")
expect_eq "--fail-status 429: curl sees 429" "$code" 429

start_serve --model zero --reset-rate 1
drive reset -c 5 -n 50
expect_eq "--reset-rate 1: all of class reset" "$(class_count "$T/reset.out" reset)" 50
curl -s -o /dev/null -H 'Content-Type: application/json' -d '{}' "http://127.0.0.1:$SERVE_PORT/score"
rc=$?
check "--reset-rate 1: curl gets no answer (exit 52 or 56, was $rc)" test "$rc" = 52 -o "$rc" = 56

start_serve --model zero --stall-rate 1 --stall 300ms
drive stall -c 5 -n 20
expect_range "--stall-rate 1 --stall 300ms: p50 (ms)" "$(csv_col "$T/stall.csv" lat_p50_ms)" 300 340

start_serve --fixed-latency 5ms
drive rtt0 -c 10 -n 300
start_serve --fixed-latency 5ms --rtt 50ms
drive rtt50 -c 10 -n 300
d=$(awk -v a="$(csv_col "$T/rtt50.csv" lat_p50_ms)" -v b="$(csv_col "$T/rtt0.csv" lat_p50_ms)" 'BEGIN { print a - b }')
expect_range "--rtt 50ms raises loadgen's p50 by 50 ms (+/- 5)" "$d" 45 55

# Exact on an idle machine (timerfd, absolute times); on a busy one the
# scheduler adds its wake-up delay, which --stats reports as "timer late".
# Measured against a 1 ms server so that the client's own overhead (slow
# under sanitizers) cancels out.
python3 -c 'import base64, json; print(json.dumps({"input": base64.b64encode(b"\xff\xd8\xff" + b"x" * 32).decode()}))' >"$T/small.json"
start_serve --fixed-latency 1ms
drive fixed1 -c 4 -n 400 --body-file "$T/small.json"
start_serve --fixed-latency 21ms
drive fixed21 -c 4 -n 400 --body-file "$T/small.json"
d=$(awk -v a="$(csv_col "$T/fixed21.csv" lat_p50_ms)" -v b="$(csv_col "$T/fixed1.csv" lat_p50_ms)" 'BEGIN { print a - b }')
expect_range "--fixed-latency 21ms vs 1ms: loadgen p50 differs by 20 ms" "$d" 19.5 20.5
t=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' --data-binary "@$T/small.json" "http://127.0.0.1:$SERVE_PORT/score" |
    tr -d '\r' | sed -n 's/^X-Inference-Time-Ms: //p')
expect_eq "--fixed-latency 21ms: X-Inference-Time-Ms" "$t" "21.000"
start_serve --fixed-latency 2s
t=$(curl -s -D "$T/h" -o /dev/null -w '%{time_total}' "http://127.0.0.1:$SERVE_PORT/v2/health/ready")
expect_range "health checks skip the simulated compute (s)" "$t" 0 1
check "health answers carry no X-Inference-Time-Ms" bash -c "! grep -qi inference-time '$T/h'"

# Closed loop through a 1 s freeze 1 s after the first request: whoever
# arrives in it waits for its end, and nobody waits longer.
start_serve --fixed-latency 10ms --freeze-at 1s --freeze 1s
drive freeze -c 5 -d 3s
expect_range "--freeze 1s: the longest wait is the freeze (ms)" "$(csv_col "$T/freeze.csv" lat_max_ms)" 900 1150
expect_range "--freeze 1s: most requests unaffected, p50 (ms)" "$(csv_col "$T/freeze.csv" lat_p50_ms)" 10 15

start_serve --model zero --fail-rate 30% --seed 9
drive seed1 -c 1 -n 200
start_serve --model zero --fail-rate 30% --seed 9
drive seed2 -c 1 -n 200
e1=$(csv_col "$T/seed1.csv" errors)
expect_eq "--seed 9 twice: the same number of failures" "$(csv_col "$T/seed2.csv" errors)" "$e1"
expect_range "--fail-rate 30%: about 60 of 200" "$e1" 40 80

start_serve --model zero --stats
drive stats -c 2 -n 100
sleep 1.2
log=$(ls -t "$T"/serve.*.out.err | head -1)
check "--stats: a line a second with requests and batches" grep -q 'req/s (ok .*) conns .* batches' "$log"
