#!/usr/bin/env bash
# loadgen run against nginx from Debian: exact request counts (from nginx's
# access log), error classes, exit codes, outputs and Ctrl-C.
. "$(dirname "$0")/lib.sh"

start_nginx '
    location = /score { return 200 "{\"result\": [[\"tabby\", 0.9]]}"; default_type application/json; }
    location = /fail  { return 503; }
    location = /bad   { return 404; }
    location = /redirect { return 302 /score; }
'
URL=http://127.0.0.1:$NGINX_PORT

# 1. exactly 1000 requests at 50 in flight, counted by nginx
: >"$NGINX_LOG"
lg --url "$URL/score" --threads 50 -n 1000 --out "$T/s.csv" --json "$T/r.json" \
   --requests-log "$T/req.csv" --history "$T/history.csv" -q >"$T/out.txt" 2>&1
expect_eq "threads 50 -n 1000: exit 0" "$?" 0
sleep 0.2
expect_eq "threads 50: nginx saw exactly 1000 POSTs" "$(grep -c '"POST /score' "$NGINX_LOG")" 1000
expect_eq "threads 50: summary requests=1000" "$(csv_col "$T/s.csv" requests)" 1000
expect_eq "threads 50: summary ok=1000" "$(csv_col "$T/s.csv" ok)" 1000
expect_eq "threads 50: summary concurrency=50" "$(csv_col "$T/s.csv" concurrency)" 50
expect_eq "summary header has the design's columns" \
  "$(head -1 "$T/s.csv" | cut -d, -f1-32)" \
  "run_id,timestamp,label,region,model,target,format,mode,concurrency,rate,cycle,requests,ok,errors,timeouts,duration_s,throughput_rps,images_per_s,lat_mean_ms,lat_p50_ms,lat_p90_ms,lat_p95_ms,lat_p99_ms,lat_p999_ms,lat_max_ms,ttfb_p50_ms,connect_p50_ms,bytes_sent,bytes_recv,cost_per_hour,cost_per_1k_images,images_per_dollar"
expect_eq "requests log has 1000 rows" "$(csv_rows "$T/req.csv")" 1000
expect_eq "history.csv has the old harness's header" "$(head -1 "$T/history.csv")" \
  "TestNo,TestCountTotal,ThreadCount,Records,Failures,AITime,TotalTime,RPS,MaxRecords,MinRecords"
expect_eq "history.csv records=1000" "$(csv_col "$T/history.csv" Records)" 1000
check "json result parses with 1000 requests" python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); l=d["levels"][0]
assert d["schema_version"]==1 and l["requests"]==1000 and l["ok"]==1000, l
assert l["histograms"]["latency"].startswith("v1:")' "$T/r.json"
rps=$(csv_col "$T/s.csv" throughput_rps)
expect_range "throughput is positive" "$rps" 1 10000000
check "stdout summary names throughput and p99" grep -q "p99" "$T/out.txt"

# 2. 20 in flight: exactly 1000 again; a second row appended under the header
: >"$NGINX_LOG"
lg --url "$URL/score" --threads 20 -n 1000 --out "$T/s.csv" -q >/dev/null 2>&1
expect_eq "threads 20: exit 0" "$?" 0
sleep 0.2
expect_eq "threads 20: nginx saw exactly 1000 POSTs" "$(grep -c '"POST /score' "$NGINX_LOG")" 1000
expect_eq "second run appends a row, header once" "$(grep -c '^run_id' "$T/s.csv"),$(csv_rows "$T/s.csv")" "1,2"
expect_eq "threads 20: row 2 requests=1000" "$(csv_col "$T/s.csv" requests 2)" 1000

# 3. 503 -> http_5xx, 404 -> http_4xx, every request failed -> exit 3
lg --url "$URL/fail" --threads 10 -n 100 --out "$T/e.csv" -q >/dev/null 2>&1
expect_eq "503: exit 3 (every request failed)" "$?" 3
expect_eq "503: errors=100" "$(csv_col "$T/e.csv" errors)" 100
check "503: counted as http_5xx" grep -q "http_5xx 100" <(lg --url "$URL/fail" -c 5 -n 100 --no-out -q 2>&1)
check "404: counted as http_4xx" grep -q "http_4xx 50" <(lg --url "$URL/bad" -c 5 -n 50 --no-out -q 2>&1)

# 4. a closed port: class connect for every request, exit 3 (--fail-fast 0:
#    every request is tried; 18_habits.sh tests the early stop)
closed=$(free_port)
lg --url "http://127.0.0.1:$closed/score" --threads 10 -n 50 --fail-fast 0 --out "$T/c.csv" -q >"$T/c.txt" 2>&1
expect_eq "closed port: exit 3" "$?" 3
check "closed port: class connect 50" grep -q "connect 50" "$T/c.txt"
expect_eq "closed port: the row is still written" "$(csv_col "$T/c.csv" errors)" 50

# 5. redirects are not followed unless --follow
lg --url "$URL/redirect" -c 2 -n 10 --no-out -q >"$T/r.txt" 2>&1
check "302 without --follow: counted invalid" grep -q "invalid 10" "$T/r.txt"
lg --url "$URL/redirect" -c 2 -n 10 --follow --no-out -q >"$T/r.txt" 2>&1
expect_eq "302 with --follow: exit 0" "$?" 0

# 6. a server that accepts and never answers: class timeout
python3 - "$T/slow.port" <<'PY' &
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(128)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
conns = []
end = time.time() + 20
s.settimeout(0.2)
while time.time() < end:
    try: conns.append(s.accept()[0])
    except socket.timeout: pass
PY
PIDS+=($!)
for _ in $(seq 50); do [ -s "$T/slow.port" ] && break; sleep 0.1; done
lg --url "http://127.0.0.1:$(cat "$T/slow.port")/score" -c 5 -n 10 --timeout 300ms --out "$T/t.csv" -q >"$T/t.txt" 2>&1
expect_eq "silent server: exit 3" "$?" 3
expect_eq "silent server: timeouts=10" "$(csv_col "$T/t.csv" timeouts)" 10

# 7. SIGINT mid-run: the partial level is written, marked interrupted, exit 130
python3 - "$T/slow2.port" <<'PY' &
import socket, sys, time, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(128)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
def serve(c):
    buf = b""
    try:
        while True:
            d = c.recv(65536)
            if not d: return
            buf += d
            while b"\r\n\r\n" in buf:
                head, rest = buf.split(b"\r\n\r\n", 1)
                n = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"): n = int(line.split(b":")[1])
                while len(rest) < n:
                    rest += c.recv(65536)
                buf = rest[n:]
                time.sleep(0.05)
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}")
    except OSError: pass
end = time.time() + 30
s.settimeout(0.2)
while time.time() < end:
    try: threading.Thread(target=serve, args=(s.accept()[0],), daemon=True).start()
    except socket.timeout: pass
PY
PIDS+=($!)
for _ in $(seq 50); do [ -s "$T/slow2.port" ] && break; sleep 0.1; done
"$LOADGEN" --url "http://127.0.0.1:$(cat "$T/slow2.port")/score" -c 10 -n 100000 --synthetic 20 --out "$T/i.csv" -q >/dev/null 2>&1 &
pid=$!
sleep 1.5
kill -INT $pid
wait $pid
expect_eq "SIGINT: exit 130" "$?" 130
expect_eq "SIGINT: the row is written" "$(csv_rows "$T/i.csv")" 1
expect_eq "SIGINT: status interrupted" "$(csv_col "$T/i.csv" status)" interrupted
expect_range "SIGINT: some requests completed" "$(csv_col "$T/i.csv" ok)" 10 99999
