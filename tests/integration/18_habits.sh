#!/usr/bin/env bash
# 18_habits.sh: what wrk, hey, oha and curl users expect of the request
# itself, on both engines, seen from a server that writes down every request
# it receives (capture_server.py):
#  - a header given with -H replaces the one loadgen would send (one
#    Content-Type, Accept, User-Agent, Host each, never two);
#  - -m takes any method: PUT and PATCH carry the images, HEAD and DELETE no
#    body (DELETE one with --data), HEAD's replies have no body to wait for;
#  - --fail-fast: a level whose first N requests all fail to connect stops
#    the run at once with exit 3, says why, and still writes its row.
. "$(dirname "$0")/lib.sh"

python3 "$(dirname "$0")/capture_server.py" "$T/req.log" "$T/cap.port" 120 &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$T/cap.port" ] && break; sleep 0.1; done
URL=http://127.0.0.1:$(cat "$T/cap.port")

# requests_of FILE: the log's requests, one line each: request line, then
# the header lines, "|"-joined
requests_of() { awk 'BEGIN { RS = ""; FS = "\n" } { l = $1; for (i = 2; i <= NF; i++) l = l "|" $i; print l }' "$1"; }
# count_header NAME: the most times one request of the log had header NAME
count_header() {
  requests_of "$T/req.log" | awk -F'|' -v n="$(echo "$1" | tr A-Z a-z)" '
    { c = 0; for (i = 2; i <= NF; i++) { split($i, kv, ":"); if (tolower(kv[1]) == n) c++ }
      if (c > m) m = c } END { print m + 0 }'
}

for e in native curl; do
  : >"$T/req.log"
  lg "$URL/score" --engine "$e" -n 4 -c 2 --synthetic 2 --image-size 32x32 --no-out -q \
    -H 'Content-Type: application/octet-stream' -H 'Accept: text/plain' \
    -H 'User-Agent: habit/1' -H 'Host: example.test' >/dev/null 2>"$T/err"
  expect_eq "$e: -H headers: exit 0" "$?" 0
  expect_eq "$e: 4 requests reached the server" "$(requests_of "$T/req.log" | grep -c '^POST /score ')" 4
  for h in Content-Type Accept User-Agent Host; do
    expect_eq "$e: -H $h: sent once, not beside loadgen's own" "$(count_header $h)" 1
  done
  expect_eq "$e: the user's Content-Type is the one sent" \
    "$(requests_of "$T/req.log" | grep -c '|Content-Type: application/octet-stream|')" 4
  expect_eq "$e: the user's Host is the one sent" "$(requests_of "$T/req.log" | grep -c '|Host: example.test|')" 4

  : >"$T/req.log"
  for m in put patch; do
    lg "$URL/x" --engine "$e" -m "$m" -n 2 -c 1 --synthetic 1 --image-size 32x32 --no-out -q >/dev/null 2>&1
  done
  lg "$URL/x" --engine "$e" -m head -n 5 -c 1 --timeout 3s --json "$T/head-$e.json" --no-out -q >/dev/null 2>&1
  expect_eq "$e: -m head: exit 0" "$?" 0
  lg "$URL/x" --engine "$e" -m delete -n 2 -c 1 --no-out -q >/dev/null 2>&1
  lg "$URL/x" --engine "$e" -m delete -D '{"id":7}' -T application/json -n 1 -c 1 --no-out -q >/dev/null 2>&1
  reqs=$(requests_of "$T/req.log")
  expect_eq "$e: -m put sends PUT with the image" "$(echo "$reqs" | grep '^PUT /x ' | grep -vc 'body-length: 0$')" 2
  expect_eq "$e: -m patch sends PATCH with the image" "$(echo "$reqs" | grep '^PATCH /x ' | grep -vc 'body-length: 0$')" 2
  expect_eq "$e: -m head sends 5 HEADs, no body" "$(echo "$reqs" | grep '^HEAD /x ' | grep -c 'body-length: 0$')" 5
  # The replies say Content-Length: 2 and carry no body: an engine that
  # waited for it would time out after 3 s, on every request.
  check "$e: -m head: the replies are ok, none waited for a body" python3 -c '
import json, sys; d = json.load(open(sys.argv[1]))
c = d["levels"][0]["classes"]
sys.exit(not (c["ok"] == 5 and d["levels"][0]["latency_ms"]["max"] < 1000))' "$T/head-$e.json"
  expect_eq "$e: -m delete sends no body" "$(echo "$reqs" | grep '^DELETE /x ' | grep -c '|body-length: 0$')" 2
  expect_eq "$e: -m delete -D sends that body" \
    "$(echo "$reqs" | grep '^DELETE /x ' | grep 'Content-Type: application/json' | grep -c 'body-length: 8$')" 1
done

lg "$URL/x" -m get --synthetic 3 >/dev/null 2>"$T/err"
expect_eq "-m get with images: exit 2" "$?" 2
check "-m get with images: says GET sends no body" grep -q -- "--method GET sends no body" "$T/err"
lg "$URL/x" -m 'GET /evil' >/dev/null 2>"$T/err"
expect_eq "-m with a space: exit 2" "$?" 2

# --fail-fast against a port nobody listens on.
DEAD=http://127.0.0.1:$(free_port)/score
for e in native curl; do
  start=$(date +%s%N)
  lg "$DEAD" --engine "$e" -c 10 -d 60s --synthetic 2 --image-size 32x32 --out "$T/ff-$e.csv" \
    --json "$T/ff-$e.json" -q >/dev/null 2>"$T/ff-$e.err"
  rc=$?
  took_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  expect_eq "$e: --fail-fast (default 20): a dead port ends a 60 s run with exit 3" "$rc" 3
  expect_range "$e: ... at once, not after 60 s (ms)" "$took_ms" 0 15000
  check "$e: ... and says why, with the transport's words" \
    grep -q "the first 20 requests all failed to connect (.*); stopped (--fail-fast 20)" "$T/ff-$e.err"
  expect_eq "$e: ... and still writes its row, marked failed" "$(csv_col "$T/ff-$e.csv" status)" failed
  check "$e: ... and the JSON result" test -s "$T/ff-$e.json"
done
lg "$DEAD" -c 2 -n 60 --fail-fast 0 --synthetic 2 --image-size 32x32 --out "$T/ff0.csv" -q >/dev/null 2>&1
expect_eq "--fail-fast 0: every request is tried (exit 3 at the end)" "$?" 3
expect_eq "--fail-fast 0: all 60 counted" "$(csv_col "$T/ff0.csv" requests)" 60
# A server that answers is never given up on, however many fail after.
lg "$URL/x" -c 2 -n 30 --fail-fast 1 --synthetic 2 --image-size 32x32 --no-out -q >/dev/null 2>&1
expect_eq "--fail-fast 1 against a live server: exit 0" "$?" 0

# HTTP/2 against nginx: an h2c (prior knowledge) listener beside the capture.
H2_PORT=$(free_port)
mkdir -p "$T/h2"
cat >"$T/h2/nginx.conf" <<CONF
worker_processes 1;
pid $T/h2/nginx.pid;
error_log $T/h2/error.log;
events { worker_connections 1024; }
http {
  access_log $T/h2/access.log;
  client_body_temp_path $T/h2;
  server {
    listen 127.0.0.1:$H2_PORT http2;
    location / { return 200 "{}"; default_type application/json; }
  }
}
CONF
nginx -c "$T/h2/nginx.conf" -p "$T/h2" 2>/dev/null
for _ in $(seq 50); do [ -s "$T/h2/nginx.pid" ] && break; sleep 0.1; done
# libcurl's side: the native engine (auto's choice here) is tested in 15_h2_native.sh.
lg "http://127.0.0.1:$H2_PORT/score" --http2-prior-knowledge --engine curl -n 20 --synthetic 2 --no-out -q >/dev/null 2>"$T/pk.err"
rc=$?
sent=$(wc -l <"$T/h2/access.log")
if curl -s --http2-prior-knowledge "http://127.0.0.1:$H2_PORT/a" "http://127.0.0.1:$H2_PORT/b" -o /dev/null -o /dev/null; then
  expect_eq "--http2-prior-knowledge, with a libcurl that reuses such connections: exit 0" "$rc" 0
else
  # libcurl 7.88: the second request on a prior-knowledge connection fails
  # (curl issue 10634); curl's own tool shows it above. Refused, and says so.
  expect_eq "--http2-prior-knowledge on libcurl 7.88: refused, exit 2" "$rc" 2
  check "... naming the cause and what to do" grep -q "cannot reuse a prior-knowledge connection (curl issue 10634, fixed in 8.0.0); use https:// with --http2" "$T/pk.err"
  expect_eq "... and nothing was sent" "$sent" 0
fi
kill "$(cat "$T/h2/nginx.pid")" 2>/dev/null

lg "$URL/x" --streams 4 -n 5 --no-out -q >/dev/null 2>"$T/err"
expect_eq "--streams without --http2: exit 2" "$?" 2
check "... says streams need HTTP/2" grep -q -- "--streams 4: streams share an HTTP/2 connection; add --http2" "$T/err"
: >"$T/req.log"
lg "$URL/x" --http2 --streams 4 -c 8 -n 40 --loops 1 --synthetic 2 --image-size 32x32 --no-out -q --engine curl >/dev/null 2>"$T/err"
expect_eq "--streams against an HTTP/1.1 server: exit 0" "$?" 0
check "... warns that fewer were in flight" grep -q -- "--streams 4: the server answered in HTTP/1.1" "$T/err"

# For scripts: --out - puts only the CSV on stdout (the text goes to
# stderr), as --json - does with the JSON; --threads takes a list.
lg "$URL/score" -n 20 --threads 2,4 --synthetic 2 --image-size 32x32 --out - >"$T/csv.out" 2>"$T/csv.err"
expect_eq "--out - --threads 2,4: exit 0" "$?" 0
expect_eq "--out -: stdout is the CSV alone, a header and a row per level" "$(wc -l <"$T/csv.out")" 3
expect_eq "--threads 2,4: the levels in the order given" "$(csv_col "$T/csv.out" concurrency 1),$(csv_col "$T/csv.out" concurrency 2)" "2,4"
check "--out -: the text summary went to stderr" grep -q "closed loop    4 in flight" "$T/csv.err"
lg "$URL/score" -n 20 --threads 2,,4 --no-out >/dev/null 2>"$T/err"
expect_eq "--threads 2,,4: exit 2" "$?" 2
lg "$DEAD" -c 4 -n 100 --warmup 50 --synthetic 2 --image-size 32x32 --no-out -q >/dev/null 2>"$T/err"
expect_eq "--fail-fast in the warm-up: exit 3 before the level" "$?" 3
check "... saying why" grep -q "the first 20 requests all failed to connect" "$T/err"

# -q means one thing everywhere: no chatter (the progress line, notes),
# while results and errors still print.
mkdir -p "$T/q"
# two clients at once, for merge
lg "$URL/score" -d 1s -c 2 --synthetic 2 --image-size 32x32 --label q1 --no-out --json "$T/q/b.json" \
  -q >/dev/null 2>&1 &
qpid=$!
lg "$URL/score" -d 1s -c 2 --synthetic 2 --image-size 32x32 --label q1 --out "$T/q/s.csv" \
  --json "$T/q/a.json" -q >"$T/q/run.out" 2>"$T/q/run.err"
wait $qpid
check "run -q: the summary still prints" grep -q "requests       [0-9]* (ok [0-9]*, errors 0)" "$T/q/run.out"
expect_eq "run -q: nothing on stderr" "$(wc -c <"$T/q/run.err")" 0
lg plot "$T/q/s.csv" -o "$T/q/charts" >"$T/q/plot.out" 2>"$T/q/plot.err"
check "plot: notes say what was not drawn" grep -q "no latency spectrum" "$T/q/plot.err"
lg plot "$T/q/s.csv" -o "$T/q/charts" -q >"$T/q/plotq.out" 2>"$T/q/plotq.err"
expect_eq "plot -q: exit 0, no notes" "$?,$(wc -c <"$T/q/plotq.err")" "0,0"
check "plot -q: the charts are still listed" grep -q '\.png$' "$T/q/plotq.out"
lg merge "$T/q/a.json" "$T/q/b.json" -o "$T/q/m.json" -q >"$T/q/merge.out" 2>"$T/q/merge.err"
expect_eq "merge -q: exit 0" "$?" 0
check "merge -q: the merged summary still prints" grep -q "from .*a.json" "$T/q/merge.out"
