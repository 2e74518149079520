#!/usr/bin/env bash
# Issue 15: the native HTTP/2 transport (h2c, prior knowledge) against
# nginx's h2c listeners: exact counts on ceil(in flight / --streams)
# connections, whole POST bodies, -H Content-Type replacing the payload's,
# 404 counted with its status, GOAWAY after keepalive_requests survived by
# reconnecting, the server's SETTINGS_MAX_CONCURRENT_STREAMS respected,
# --timeout and a refused connection classed, trailers reaching the header
# checks, the engine named in the outputs. Loopback only; every run bounded.
. "$(dirname "$0")/lib.sh"

# A slow HTTP/1.1 backend for nginx to proxy to: /?ms=N answers after N ms,
# and writes the most requests it ever held at once to $T/conc.max.
python3 - "$T/slow.port" "$T/conc.max" <<'PY' &
import http.server, sys, threading, time
lock = threading.Lock(); cur = [0, 0]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        ms = int(self.path.partition("ms=")[2] or 0)
        with lock:
            cur[0] += 1; cur[1] = max(cur[1], cur[0])
            open(sys.argv[2], "w").write(str(cur[1]))
        time.sleep(ms / 1000)
        with lock:
            cur[0] -= 1
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers()
        self.wfile.write(b"{}")
    do_POST = do_GET
    def log_message(self, *a): pass
class S(http.server.ThreadingHTTPServer):
    request_queue_size = 128
    def handle_error(self, *a): pass  # nginx hung up: a client's --timeout
s = S(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(s.server_address[1]))
threading.Timer(120, s.shutdown).start()
s.serve_forever()
PY
PIDS+=("$!")
for _ in $(seq 50); do [ -s "$T/slow.port" ] && break; sleep 0.1; done
SLOW=$(cat "$T/slow.port")

P=$(free_port) # h2c, keeps connections
G=$(free_port) # h2c, GOAWAY after 100 requests
M=$(free_port) # h2c, at most 2 streams per connection
B=$(free_port) # HTTP/1.1 backend that logs the body lengths it receives
mkdir -p "$T/h2"
cat >"$T/h2/nginx.conf" <<CONF
worker_processes 1;
worker_cpu_affinity 01; # core 0: the clients compared below run on core 1
pid $T/h2/nginx.pid;
error_log $T/h2/error.log;
events { worker_connections 4096; }
http {
  log_format c '\$connection "\$request" \$status ct=\$http_content_type x=\$http_x_test';
  log_format b '\$content_length \$request_method';
  access_log $T/h2/access.log c;
  client_body_temp_path $T/h2;
  proxy_temp_path $T/h2;
  client_max_body_size 100m;
  client_body_buffer_size 1m; # in memory: the workers cannot write into \$T
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$P http2;
    location / { return 200 "{}"; default_type application/json; }
    location /missing { return 404; }
    location /up { proxy_pass http://127.0.0.1:$B; }
    location /slow { proxy_pass http://127.0.0.1:$SLOW; }
    location /trail { add_trailer grpc-status 0 always; add_trailer grpc-message ok always; return 200 "{}"; }
  }
  server {
    listen 127.0.0.1:$G http2;
    access_log $T/h2/goaway.log c;
    keepalive_requests 100;
    location / { return 200 "{}"; default_type application/json; }
  }
  server {
    listen 127.0.0.1:$M http2;
    http2_max_concurrent_streams 2;
    location / { proxy_pass http://127.0.0.1:$SLOW; }
  }
  server {
    listen 127.0.0.1:$B;
    access_log $T/h2/backend.log b;
    location / { return 200 '{"len": "\$content_length"}'; default_type application/json; }
  }
}
CONF
nginx -c "$T/h2/nginx.conf" -p "$T/h2" 2>"$T/h2/start.err" || { fail "nginx starts" "$(cat "$T/h2/start.err")"; exit 1; }
for _ in $(seq 50); do [ -s "$T/h2/nginx.pid" ] && break; sleep 0.1; done
trap 'kill "$(cat "$T/h2/nginx.pid" 2>/dev/null)" 2>/dev/null; cleanup' EXIT
URL=http://127.0.0.1:$P
LOG=$T/h2/access.log
PK=(--http2-prior-knowledge --no-out)
# The binary, under valgrind with LOADGEN_VALGRIND=1 (make valgrind), and
# always under timeout(1).
LG=("$LOADGEN")
[ "${LOADGEN_VALGRIND:-0}" = 1 ] &&
  LG=(valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 "$LOADGEN")

# 1. Exact counts, on ceil(40 / 10) connections, all HTTP/2.
: >"$LOG"
timeout 120 "${LG[@]}" "$URL/score" "${PK[@]}" -n 1000 -c 40 --streams 10 --loops 2 --synthetic 2 \
  --image-size 32x32 --json "$T/r.json" >"$T/out.txt" 2>"$T/err.txt"
expect_eq "-n 1000 -c 40 --streams 10: exit 0" "$?" 0
sleep 0.2
expect_eq "... nginx logged 1000 POSTs over HTTP/2.0" "$(grep -c '"POST /score HTTP/2.0" 200' "$LOG")" 1000
expect_eq "... and nothing else" "$(wc -l <"$LOG")" 1000
expect_eq "... on 4 connections" "$(awk '{print $1}' "$LOG" | sort -u | wc -l)" 4
check "... the summary names the engine native-h2" grep -q "engine *native-h2" "$T/out.txt"
expect_eq "... and so does the JSON result" \
  "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["levels"][0]["engine"])' "$T/r.json")" native-h2
check "... counts 1000 ok" grep -q "requests *1000 (ok 1000, errors 0)" "$T/out.txt"
check "... 4 new connections" grep -q "(4 new connections)" "$T/out.txt"
: >"$LOG"
timeout 120 "${LG[@]}" "$URL/score" "${PK[@]}" -q -n 300 -c 40 --streams 7 --loops 1 -m GET >/dev/null 2>&1
sleep 0.2
expect_eq "-c 40 --streams 7 --loops 1: 300 GETs" "$(grep -c '"GET /score HTTP/2.0" 200' "$LOG")" 300
expect_eq "... on ceil(40/7) = 6 connections" "$(awk '{print $1}' "$LOG" | sort -u | wc -l)" 6
: >"$LOG"
timeout 120 "${LG[@]}" "$URL/score" "${PK[@]}" -q -n 100 -c 8 --loops 2 -m GET >/dev/null 2>&1
sleep 0.2
expect_eq "--streams 1 (default): a connection per request in flight (8)" \
  "$(awk '{print $1}' "$LOG" | sort -u | wc -l)" 8

# 2. POST bodies arrive whole (300000 bytes: many DATA frames, past the
# initial 64 KiB flow-control window), and -H Content-Type replaces ours.
head -c 300000 /dev/urandom >"$T/body.bin"
: >"$LOG"
timeout 120 "${LG[@]}" "$URL/up" "${PK[@]}" -q -n 200 -c 20 --streams 10 --body-file "$T/body.bin" \
  -H 'Content-Type: application/x-test' -H 'X-Test: yes' >"$T/out.txt" 2>&1
expect_eq "300000-byte POSTs: exit 0" "$?" 0
sleep 0.2
expect_eq "... the backend got 200 bodies of 300000 bytes" "$(grep -c '^300000 POST$' "$T/h2/backend.log")" 200
expect_eq "... each with the user's Content-Type and header" \
  "$(grep -c 'ct=application/x-test x=yes$' "$LOG")" 200
: >"$T/h2/backend.log"
timeout 120 "${LG[@]}" "$URL/up" "${PK[@]}" -q -n 20 -c 4 --streams 2 -D '{"x": 1}' >/dev/null 2>&1
sleep 0.2
expect_eq "-D '{\"x\": 1}': 20 bodies of 8 bytes" "$(grep -c '^8 POST$' "$T/h2/backend.log")" 20
timeout 120 "${LG[@]}" "$URL/score" "${PK[@]}" -q -n 5 -m GET -H 'Connection: close' >/dev/null 2>"$T/err.txt"
expect_eq "-H Connection: refused (HTTP/2 has none), exit 2" "$?" 2

# 3. A 404 is http_4xx, with its status.
timeout 120 "${LG[@]}" "$URL/missing" "${PK[@]}" -n 50 -c 10 --streams 5 -m GET \
  --requests-log "$T/req.csv" >"$T/out.txt" 2>&1
check "404: counted as http_4xx 50" grep -q "http_4xx 50" "$T/out.txt"
expect_eq "... each logged with status 404" "$(awk -F, 'NR > 1 && $4 == 404' "$T/req.csv" | wc -l)" 50

# 4. GOAWAY after every 100 requests: new connections, no request lost.
timeout 120 "${LG[@]}" "http://127.0.0.1:$G/" "${PK[@]}" -n 1000 -c 20 --streams 10 -m GET \
  >"$T/out.txt" 2>&1
expect_eq "keepalive_requests 100 (GOAWAY): exit 0" "$?" 0
check "... 1000 requests, 0 errors" grep -q "requests *1000 (ok 1000, errors 0)" "$T/out.txt"
sleep 0.2
expect_eq "... nginx served exactly 1000" "$(wc -l <"$T/h2/goaway.log")" 1000
expect_range "... on at least 10 connections" "$(awk '{print $1}' "$T/h2/goaway.log" | sort -u | wc -l)" 10 20

# 5. The server's SETTINGS_MAX_CONCURRENT_STREAMS (2) caps --streams 10 on
# one connection; the same run on a server without the cap holds 10.
rm -f "$T/conc.max"
timeout 120 "${LG[@]}" "http://127.0.0.1:$M/?ms=300" "${PK[@]}" -n 20 -c 10 --streams 10 --loops 1 -m GET \
  >"$T/out.txt" 2>&1
check "http2_max_concurrent_streams 2: 20 ok" grep -q "requests *20 (ok 20, errors 0)" "$T/out.txt"
expect_eq "... never more than 2 at once at the backend" "$(cat "$T/conc.max")" 2
rm -f "$T/conc.max"
timeout 120 "${LG[@]}" "$URL/slow?ms=300" "${PK[@]}" -q -n 20 -c 10 --streams 10 --loops 1 -m GET >/dev/null 2>&1
expect_eq "without the cap: 10 at once" "$(cat "$T/conc.max")" 10

# 6. TTFB runs from the last byte sent to the reply's HEADERS: about the
# backend's 100 ms, not the connect.
timeout 120 "${LG[@]}" "$URL/slow?ms=100" "${PK[@]}" -n 10 -c 2 --streams 2 -m GET --out "$T/t.csv" -q \
  >/dev/null 2>&1
timing_range "TTFB p50 of a 100 ms reply" "$(csv_col "$T/t.csv" ttfb_p50_ms)" 95 400

# 7. --timeout: the stream is reset at the deadline, class timeout; the
# connection is not (the next requests on it are fine).
start=$(date +%s%N)
timeout 120 "${LG[@]}" "$URL/slow?ms=3000" "${PK[@]}" -n 10 -c 10 --streams 10 --timeout 300ms -m GET \
  --fail-fast 0 >"$T/out.txt" 2>&1
took=$(( ($(date +%s%N) - start) / 1000000 ))
check "--timeout 300ms against 3 s replies: timeout 10" grep -q "timeout 10" "$T/out.txt"
timing_range "... within about the timeout (ms)" "$took" 250 2500

# 8. A refused connection: class connect; --connect-timeout alone never fires.
closed=$(free_port)
timeout 120 "${LG[@]}" "http://127.0.0.1:$closed/" "${PK[@]}" -n 50 -c 10 --streams 5 -m GET --fail-fast 0 \
  >"$T/out.txt" 2>&1
check "closed port: connect 50" grep -q "connect 50" "$T/out.txt"

# An HTTP/1.1 server answers the preface with a 400: a protocol error.
timeout 120 "${LG[@]}" "http://127.0.0.1:$B/" "${PK[@]}" -n 10 -c 2 -m GET >"$T/out.txt" 2>&1
check "an HTTP/1.1 server: invalid 10" grep -q "invalid 10" "$T/out.txt"
check "... named a protocol error" grep -q "HTTP/2 protocol error (not an h2c server" "$T/out.txt"

# 9. Trailers reach the header checks (gRPC's grpc-status lives there).
timeout 120 "${LG[@]}" "$URL/trail" "${PK[@]}" -n 20 -c 4 --streams 4 -m GET --expect-header grpc-status \
  >"$T/out.txt" 2>&1
check "--expect-header grpc-status (a trailer): 20 ok" grep -q "requests *20 (ok 20, errors 0)" "$T/out.txt"
timeout 120 "${LG[@]}" "$URL/trail" "${PK[@]}" -n 20 -c 4 --streams 4 -m GET --expect-header grpc-nothing \
  >"$T/out.txt" 2>&1
check "--expect-header of a header nobody sent: invalid 20" grep -q "invalid 20" "$T/out.txt"

# 10. Which engine: --engine native takes HTTP/2 prior knowledge; curl is
# still refused on libcurl < 8 (curl issue 10634); --http2 (upgrade) is
# curl's.
timeout 120 "${LG[@]}" "$URL/" "${PK[@]}" -q -n 10 -m GET --engine native >/dev/null 2>&1
expect_eq "--engine native --http2-prior-knowledge: exit 0" "$?" 0
if ! curl -s --http2-prior-knowledge "$URL/a" "$URL/b" -o /dev/null -o /dev/null; then
  timeout 120 "${LG[@]}" "$URL/" "${PK[@]}" -q -n 10 -m GET --engine curl >/dev/null 2>"$T/err.txt"
  expect_eq "--engine curl --http2-prior-knowledge on libcurl 7.88: exit 2" "$?" 2
  check "... naming curl issue 10634" grep -q "curl issue 10634" "$T/err.txt"
  timeout 120 "${LG[@]}" "$URL/" "${PK[@]}" -q -n 10 -m GET --follow >/dev/null 2>"$T/err.txt"
  expect_eq "--http2-prior-knowledge --follow (curl's) on libcurl 7.88: exit 2" "$?" 2
fi
timeout 120 "${LG[@]}" "$URL/" --http2 --no-out -q -n 10 -m GET --engine native >/dev/null 2>"$T/err.txt"
expect_eq "--engine native --http2: exit 2" "$?" 2
check "... says native speaks HTTP/2 with prior knowledge only" grep -q -- "--engine native: its HTTP/2 needs --http2-prior-knowledge (h2c), not --http2" "$T/err.txt"

# 11. Open loop over shared connections.
timeout 120 "${LG[@]}" "$URL/" "${PK[@]}" -R 400 -d 1s --max-inflight 20 --streams 10 -m GET \
  --out "$T/o.csv" -q >/dev/null 2>&1
expect_eq "-R 400 -d 1s: exit 0" "$?" 0
timing_range "... about 400 requests" "$(csv_col "$T/o.csv" requests)" 380 420

# (loadgen beside h2load on h2c is measured in make bench, part h2: a speed
# figure, not a test.)
