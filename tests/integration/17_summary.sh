#!/usr/bin/env bash
# 17_summary.sh: what a run prints at the end, as perf_analyzer and wrk
# users read it: one table for a sweep, capacity at SLO in req/s and
# images/s, no images/s for GET, and a failed level that says so instead of
# a throughput of errors.
. "$(dirname "$0")/lib.sh"
start_serve --fixed-latency 5ms
URL=http://127.0.0.1:$SERVE_PORT/score

lg --url "$URL" -c 2:4:2 --cycles 2 -n 100 --synthetic 5 --no-out -q >"$T/sweep" 2>"$T/err"
expect_eq "a sweep exits 0" "$?" 0
check "a sweep ends with one table" grep -q '^ concurrency  cycle        req/s   images/s    p50 ms    p90 ms    p99 ms   errors$' "$T/sweep"
expect_eq "the table has a row per level and cycle" \
  "$(awk '/^ concurrency/{t=1; next} t && NF >= 8' "$T/sweep" | wc -l)" 4
check "its last row is the last level's second cycle" bash -c "tail -1 '$T/sweep' | grep -q '^ *4 *2 '"

lg --url "$URL" -n 50 --synthetic 5 --no-out -q >"$T/one" 2>&1
check "one level: no table" bash -c "! grep -q '^ concurrency' '$T/one'"

lg --url "http://127.0.0.1:$SERVE_PORT/ping" --method GET -n 50 --no-out -q >"$T/get" 2>&1
check "GET: req/s only, no images/s" grep -q '^  throughput     [0-9.]* req/s$' "$T/get"

lg --url "$URL" -c auto --slo p99=50ms --auto-max 4 -n 100 --synthetic 5 --no-out -q >"$T/auto" 2>&1
check "capacity at SLO in req/s and images/s" \
  grep -q '^capacity at SLO: at least 4 in flight: [0-9.]* req/s, [0-9.]* images/s' "$T/auto"

port=$(free_port)
lg --url "http://127.0.0.1:$port/score" -c 1:2 -n 5 --synthetic 2 --no-out -q >"$T/dead" 2>"$T/dead.err"
expect_eq "every request failed: exit 3" "$?" 3
check "a failed level says FAILED, not a throughput" grep -q 'throughput     - (FAILED' "$T/dead"
check "the table marks failed levels and shows no figures" grep -q '(failed)$' "$T/dead"

# A sweep's JSON on stdout is one document with every level, not one per
# level (a pipe cannot be rewritten).
lg --url "$URL" -c 1:3 -n 30 --synthetic 5 --no-out -q --json - 2>"$T/json.err" >"$T/sweep.json"
expect_eq "a sweep with --json -: exit 0" "$?" 0
expect_eq "--json - of a sweep is one JSON document with its 3 levels" \
  "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["levels"]))' "$T/sweep.json" 2>&1)" 3
check "and the human text went to stderr" grep -q '^ concurrency  cycle' "$T/json.err"

# "errors http_4xx 20" alone never showed the 404: the statuses are named,
# in the text and in the JSON.
lg --url "http://127.0.0.1:$SERVE_PORT/nope" -n 20 --synthetic 2 --no-out -q --json "$T/404.json" >"$T/404" 2>&1
expect_eq "a wrong path: every request failed, exit 3" "$?" 3
check "the summary names the status: 404 x20" grep -q '^  statuses       404 x20$' "$T/404"
expect_eq "the JSON counts replies by status" \
  "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["levels"][0]["statuses"])' "$T/404.json")" "{'404': 20}"

# wrk/hey habits: the URL without --url, -z, -V.
lg "$URL" -z 1 -c 2 --synthetic 2 --no-out -q >"$T/pos" 2>&1
expect_eq "a positional URL and -z 1 (seconds) run" "$?" 0
check "named by its host:port without --label" grep -q "^127.0.0.1:$SERVE_PORT -> $URL" "$T/pos"
check "-V prints a release number and the commit" bash -c "'$LOADGEN' -V | grep -Eq '^loadgen [0-9]+\.[0-9]+\.[0-9]+ \(git [0-9a-z-]+\)$'"
for c in run serve plot compare report merge; do
  check "loadgen $c --help lists its flags and -h, --help itself" bash -c "'$LOADGEN' $c --help | grep -q '^  -h, --help  *this help\$'"
done

# An open loop that cannot keep its rate says so and marks its row
# (-R 1000 with 10 in flight at 5 ms per request reaches about 2000/s at best;
# at 20 ms about 500).
start_serve --fixed-latency 20ms
SLOW=http://127.0.0.1:$SERVE_PORT/score
lg --url "$SLOW" -R 1000 --max-inflight 10 -d 2 --synthetic 2 -q --out "$T/ur.csv" >/dev/null 2>"$T/ur.err"
expect_eq "an open loop short of its rate: exit 0" "$?" 0
check "it warns, naming the rate reached and what to raise" \
  grep -q '^loadgen: -R 1000: reached [0-9.]* requests/s ([0-9]*%); the row is marked under_rate; raise --max-inflight (10)' "$T/ur.err"
expect_eq "its row's status is under_rate" "$(csv_col "$T/ur.csv" status)" under_rate
lg --url "$SLOW" -R 50 -d 1 --synthetic 2 -q --out "$T/ok.csv" >/dev/null 2>&1
expect_eq "an open loop that keeps its rate is complete" "$(csv_col "$T/ok.csv" status)" complete

# A failure says what failed, in words, on both engines.
for engine in native curl; do
  lg --url "http://127.0.0.1:$port/score" -n 5 --synthetic 2 --no-out -q --engine $engine >"$T/why" 2>&1
  check "[$engine] a refused connection is named in the summary" \
    grep -q '^  first errors   .*connect.* (x5)$' "$T/why"
done

# --http2 on http:// takes HTTP/1.1 from a server that has no more (as curl
# --http2). --http2-prior-knowledge is refused on libcurl 7.88 (it cannot
# reuse such a connection: 18_habits.sh); with a newer one it insists and
# says what failed.
lg --url "$URL" --http2 -n 20 --synthetic 2 --no-out -q >"$T/h2" 2>&1
expect_eq "--http2 against an HTTP/1.1 server: exit 0" "$?" 0
check "--http2 against an HTTP/1.1 server: every request ok" grep -q 'requests       20 (ok 20, errors 0)' "$T/h2"
lg --url "$URL" --http2-prior-knowledge -n 20 --synthetic 2 --no-out -q >"$T/h2pk" 2>&1
rc=$?
if grep -q 'cannot reuse a prior-knowledge connection' "$T/h2pk"; then
  expect_eq "--http2-prior-knowledge on libcurl < 8: refused, exit 2" "$rc" 2
else
  expect_eq "--http2-prior-knowledge against serve's /score (its HTTP/2 is gRPC only): every request failed, exit 3" "$rc" 3
  check "and the summary says what failed" grep -Eq '^  (first errors|statuses)  ' "$T/h2pk"
fi
