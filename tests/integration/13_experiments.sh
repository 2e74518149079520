#!/usr/bin/env bash
# Experiments: --until-stable, --threads auto with an SLO, --slo exit codes,
# and scenario files (validation, overrides, one run_id).
. "$(dirname "$0")/lib.sh"

start_nginx '
    location = /score { return 200 "{\"result\": []}"; default_type application/json; }
'
URL=http://127.0.0.1:$NGINX_PORT/score

# --until-stable converges on a steady server: a fixed 5 ms service time,
# so throughput and p50 hold still even with a slow (sanitized) client
start_serve --fixed-latency 5ms
lg --url "http://127.0.0.1:$SERVE_PORT/score" -c 10 --until-stable --window 300 --synthetic 5 \
   --out "$T/st.csv" -q >/dev/null 2>&1
expect_eq "until-stable, steady server: exit 0" "$?" 0
expect_range "until-stable: took 3 or more windows" "$(csv_col "$T/st.csv" windows)" 3 10
expect_eq "until-stable: reports the last 3 windows (900 requests)" "$(csv_col "$T/st.csv" requests)" 900
expect_eq "until-stable: status complete" "$(csv_col "$T/st.csv" status)" complete

# ... and gives up with exit 4 on a server whose latency doubles every window
python3 - "$T/dbl.port" <<'PY' &
import socket, sys, time, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(128)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
count = [0]; lock = threading.Lock()
def serve(c):
    buf = b""
    try:
        while True:
            while b"\r\n\r\n" not in buf:
                d = c.recv(65536)
                if not d: return
                buf += d
            head, rest = buf.split(b"\r\n\r\n", 1)
            n = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"): n = int(line.split(b":")[1])
            while len(rest) < n:
                rest += c.recv(65536)
            buf = rest[n:]
            with lock:
                k = count[0]; count[0] += 1
            time.sleep(0.002 * 2 ** (k // 50))   # doubles every 50 requests
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
    except OSError: pass
s.settimeout(0.2); end = time.time() + 60
while time.time() < end:
    try: threading.Thread(target=serve, args=(s.accept()[0],), daemon=True).start()
    except socket.timeout: pass
PY
PIDS+=($!)
for _ in $(seq 50); do [ -s "$T/dbl.port" ] && break; sleep 0.1; done
lg --url "http://127.0.0.1:$(cat "$T/dbl.port")/score" -c 1 --until-stable --window 50 --max-windows 5 \
   --synthetic 5 --out "$T/un.csv" -q >/dev/null 2>"$T/un.err"
expect_eq "until-stable, latency doubling every window: exit 4" "$?" 4
expect_eq "until-stable: 5 windows then gave up" "$(csv_col "$T/un.csv" windows)" 5
expect_eq "until-stable: the row is written, status unstable" "$(csv_col "$T/un.csv" status)" unstable
check "until-stable: the message says what to do" grep -q "not stable after 5 windows.*--max-windows" "$T/un.err"

# --slo: a broken threshold is exit 5, the row says so
lg --url "$URL" -c 5 -n 200 --synthetic 5 --slo p99=1us --out "$T/slo.csv" -q >/dev/null 2>&1
expect_eq "slo p99=1us: exit 5" "$?" 5
expect_eq "slo p99=1us: row says broken" "$(csv_col "$T/slo.csv" slo)" broken
lg --url "$URL" -c 5 -n 200 --synthetic 5 --slo p99=10s --max-error-rate 1% --out "$T/slo2.csv" -q >/dev/null 2>&1
expect_eq "slo p99=10s: exit 0, met" "$?,$(csv_col "$T/slo2.csv" slo)" "0,met"

# --threads auto finds the capacity at SLO of a simulated GPU
start_serve --model resnet50 --device gpu --replicas 1
lg --url "http://127.0.0.1:$SERVE_PORT/score" --threads auto --auto-max 64 --slo p50=1s -n 100 \
   --synthetic 5 --out "$T/auto.csv" -q >"$T/auto.txt" 2>&1
expect_eq "auto with a loose SLO: exit 0" "$?" 0
expect_eq "auto: levels 1,2,4,...,64" "$(awk -F, 'NR > 1 { printf "%s ", $9 }' "$T/auto.csv")" "1 2 4 8 16 32 64 "
check "auto: reports the capacity" grep -q "capacity at SLO: at least 64 in flight" "$T/auto.txt"
lg --url "http://127.0.0.1:$SERVE_PORT/score" --threads auto --slo p99=1us -n 50 --synthetic 5 \
   --no-out -q >"$T/auto2.txt" 2>&1
expect_eq "auto with an impossible SLO: exit 5" "$?" 5
check "auto: says none met it" grep -q "capacity at SLO: none" "$T/auto2.txt"
lg --url "$URL" --threads auto --no-out -q 2>"$T/auto3.err"
expect_eq "auto without limits: exit 2" "$?" 2
check "auto without limits: says to give --slo" grep -q -- "--slo" "$T/auto3.err"

# Scenario files: overrides, and one mistake of each kind
cat >"$T/sc.json" <<JSON
{"name": "t", "defaults": {"requests": 100, "threads": "5:10:5", "synthetic": 5, "region": "eastus"},
 "targets": [{"url": "$URL", "label": "gpu-1", "model": "resnet50", "cost_per_hour": 0.9},
             {"url": "$URL", "label": "cpu-35", "threads": 3, "notes": "a comment"}]}
JSON
lg run --scenario "$T/sc.json" --out "$T/sc.csv" -q >/dev/null 2>&1
expect_eq "scenario: exit 0" "$?" 0
expect_eq "scenario: rows label/threads, target override applied" \
  "$(awk -F, 'NR > 1 { printf "%s/%s ", $3, $9 }' "$T/sc.csv")" "gpu-1/5 gpu-1/10 cpu-35/3 "
expect_eq "scenario: one run_id for every target" "$(awk -F, 'NR > 1 { print $1 }' "$T/sc.csv" | sort -u | wc -l)" 1
lg run --scenario "$T/sc.json" --only cpu-35 -n 40 --region westeurope --out "$T/sc2.csv" -q >/dev/null 2>&1
expect_eq "scenario: --only and command-line overrides" \
  "$(awk -F, 'NR > 1 { printf "%s/%s/%s ", $3, $4, $12 }' "$T/sc2.csv")" "cpu-35/westeurope/40 "

bad() { # bad NAME JSON EXPECTED-MESSAGE
  printf '%s' "$2" >"$T/bad.json"
  lg run --scenario "$T/bad.json" --out "$T/bad.csv" -q >/dev/null 2>"$T/bad.err"
  local rc=$?
  if [ "$rc" = 2 ] && grep -qF -- "$3" "$T/bad.err" && [ ! -e "$T/bad.csv" ]; then ok "scenario: $1"
  else fail "scenario: $1" "exit $rc, stderr: $(cat "$T/bad.err")"; fi
}
bad "not JSON" '{"targets": [' "bad.json: line 1 column"
bad "missing url" '{"targets": [{"label": "a"}, {"url": "http://127.0.0.1:1/"}]}' "bad.json: targets[0].url: missing"
bad "unknown key in a target" '{"targets": [{"url": "http://127.0.0.1:1/", "colour": 1}]}' "targets[0].colour: unknown key"
bad "unknown top-level key" '{"targets": [{"url": "http://127.0.0.1:1/"}], "target": 1}' "bad.json: target: unknown key"
bad "wrong type" '{"targets": [{"url": "http://127.0.0.1:1/", "requests": [1]}]}' "targets[0].requests: must be a string or a number"
bad "bad value" '{"targets": [{"url": "http://127.0.0.1:1/", "threads": "20:10"}]}' "targets[0].threads: --threads 20:10"
bad "bad url" '{"targets": [{"url": "ftp://x/"}]}' "targets[0].url: --url ftp://x/"
bad "no targets" '{"defaults": {"requests": 10}}' "bad.json: targets: missing"
head -c 1100000 /dev/zero | tr '\0' ' ' >"$T/huge.json"
lg run --scenario "$T/huge.json" -q >/dev/null 2>"$T/huge.err"
expect_eq "scenario: a huge file is refused with exit 2" "$?" 2
check "scenario: the message gives the limit" grep -q "at most 1048576" "$T/huge.err"
