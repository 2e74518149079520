#!/usr/bin/env bash
# Faults from the server: each is counted in its error class, never fatal,
# and nothing is lost: requests = ok + errors = -n, the summary row and the
# per-request log are written, and the run ends in bounded time.
# `loadgen serve` injects 503s, resets and stalls; a small Python server
# (faultsrv.py, below) plays the rest: resets mid-reply, a byte a second, a
# 2 GB body, garbage instead of HTTP, HTTP/1.0 close-delimited replies,
# empty replies, short bodies, endless headers, redirect loops.
# (10_run_nginx.sh covers closed ports, 503/404 classes, 302 and a silent
# server.)
. "$(dirname "$0")/lib.sh"

# make valgrind: the runs go under memcheck, and time bounds stretch.
VG=(); S=1
if [ "${LOADGEN_VALGRIND:-0}" = 1 ]; then
  VG=(valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99); S=8
fi

cat >"$T/faultsrv.py" <<'PY'
# faultsrv.py PORTFILE SECONDS: misbehaving HTTP on loopback; the request
# path names the misbehaviour (POST /reset_mid). Lives at most SECONDS; one
# thread per connection; never buffers a big body.
import socket, struct, sys, threading, time

portfile, lifetime = sys.argv[1], float(sys.argv[2])
CHUNK = b"\0" * 65536

def read_request(c, buf):
    """One request (headers + Content-Length body): (mode, rest), or (None, None) at EOF."""
    while b"\r\n\r\n" not in buf:
        d = c.recv(65536)
        if not d:
            return None, None
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    mode = head.split(b" ")[1].decode().strip("/").split("/")[0]
    n = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            n = int(line.split(b":")[1])
    while len(rest) < n:
        d = c.recv(65536)
        if not d:
            return None, None
        rest += d
    return mode, rest[n:]

def rst(c):
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()

def reply(body, extra=b""):
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n"
            % (len(body), extra)) + body

def serve(c):
    buf = b""
    try:
        while True:
            mode, buf = read_request(c, buf)
            if buf is None:
                return
            if mode == "reset_mid":      # headers and part of the body, then RST
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"result\": ")
                time.sleep(0.02)
                return rst(c)
            if mode == "dribble":        # a byte a second, for ever
                for b in b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 100000:
                    c.sendall(bytes([b]))
                    time.sleep(1)
            if mode == "dribble_short":  # a whole reply, the first 6 bytes 0.2 s apart
                r = reply(b"{}")
                for i in range(len(r)):
                    if i < 6:
                        time.sleep(0.2)
                    c.sendall(r[i:i + 1])
                continue
            if mode in ("huge", "huge10"):  # 2 GB announced, generated lazily
                if mode == "huge":
                    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2147483648\r\n\r\n")
                else:
                    c.sendall(b"HTTP/1.0 200 OK\r\n\r\n")
                sent = 0
                while sent < 2147483648:
                    c.sendall(CHUNK)
                    sent += len(CHUNK)
                return
            if mode == "chunked_forever":
                c.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                while True:
                    c.sendall(b"10000\r\n" + CHUNK + b"\r\n")
            if mode == "garbage":        # not HTTP at all
                c.sendall(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")
                return c.close()
            if mode == "bad_status":
                c.sendall(b"HTTP/1.1 abc Whatever\r\nContent-Length: 0\r\n\r\n")
                return c.close()
            if mode == "http10":         # close-delimited body, no length
                c.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"result\": [1]}")
                return c.close()
            if mode == "close_each":     # HTTP/1.1 with Connection: close
                c.sendall(reply(b"{\"result\": 1}", b"Connection: close\r\n"))
                return c.close()
            if mode == "close_silently": # keep-alive promised, closed anyway
                c.sendall(reply(b"{\"result\": 1}"))
                return c.close()
            if mode == "empty":          # read the request, answer nothing
                return c.close()
            if mode == "short_body":     # fewer bytes than Content-Length
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"result\"")
                return c.close()
            if mode == "endless_headers":
                c.sendall(b"HTTP/1.1 200 OK\r\n")
                for i in range(100000):
                    c.sendall(b"X-Filler-%d: %s\r\n" % (i, b"y" * 1000))
                return c.close()
            if mode == "redirect_loop":
                c.sendall(b"HTTP/1.1 302 Found\r\nLocation: /redirect_loop\r\nContent-Length: 0\r\n\r\n")
                continue
            if mode == "json_2mib":      # a valid 2 MiB JSON reply
                c.sendall(reply(b"{\"result\": [1], \"pad\": \"" + b"p" * (2 << 20) + b"\"}"))
                continue
            c.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    except OSError:
        pass
    finally:
        try: c.close()
        except OSError: pass

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(256)
open(portfile + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(portfile + ".tmp", portfile)
s.settimeout(0.2)
end = time.time() + lifetime
while time.time() < end:
    try:
        threading.Thread(target=serve, args=(s.accept()[0],), daemon=True).start()
    except socket.timeout:
        pass
PY

python3 "$T/faultsrv.py" "$T/faultsrv.port" $((120 * S)) &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$T/faultsrv.port" ] && break; sleep 0.05; done
[ -s "$T/faultsrv.port" ] || { fail "faultsrv.py starts"; exit 1; }
FURL=http://127.0.0.1:$(cat "$T/faultsrv.port")

# class_count OUTFILE CLASS: the count of CLASS on the summary's errors line
class_count() {
  sed -n 's/^  errors *//p' "$1" | tr ' ' '\n' |
    awk -v c="$2" 'prev == c { n = $0 } { prev = $0 } END { print n + 0 }'
}

# run_fault NAME N ARGS...: loadgen -n N with ARGS, --out/--requests-log in
# $T/NAME.*; sets RC and SECS; checks that every request is accounted for.
run_fault() {
  local name=$1 n=$2; shift 2
  local t0 t1
  t0=$(date +%s.%N)
  timeout $((60 * S)) "${VG[@]}" "$LOADGEN" -n "$n" --synthetic 10 --out "$T/f_$name.csv" --requests-log "$T/f_$name.req" \
    -q "$@" >"$T/f_$name.out" 2>"$T/f_$name.err"
  RC=$?
  t1=$(date +%s.%N)
  SECS=$(echo "$t1 - $t0" | bc)
  local req ok err
  req=$(csv_col "$T/f_$name.csv" requests); ok=$(csv_col "$T/f_$name.csv" ok); err=$(csv_col "$T/f_$name.csv" errors)
  if [ "$req" = "$n" ] && [ $((ok + err)) = "$n" ] && [ "$(csv_rows "$T/f_$name.req")" = "$n" ]; then
    ok "$name: all $n requests accounted for (ok $ok, errors $err) in the row and the log"
  else
    fail "$name: all $n requests accounted for" "requests=$req ok=$ok errors=$err log rows=$(csv_rows "$T/f_$name.req" 2>/dev/null) rc=$RC $(head -c 300 "$T/f_$name.err")"
  fi
}

# --- loadgen serve fault flags ----------------------------------------------
start_serve --model zero --fail-rate 20% --fail-status 503 --seed 3
run_fault serve_fail 500 --url "http://127.0.0.1:$SERVE_PORT/score" -c 10
expect_eq "serve --fail-rate 20%: exit 0 (some requests ok)" "$RC" 0
expect_range "serve --fail-rate 20%: http_5xx near 100 of 500" "$(class_count "$T/f_serve_fail.out" http_5xx)" 60 140
expect_eq "serve --fail-rate 20%: no other error class" "$(class_count "$T/f_serve_fail.out" http_5xx)" "$(csv_col "$T/f_serve_fail.csv" errors)"

start_serve --model zero --reset-rate 20% --seed 4
run_fault serve_reset 500 --url "http://127.0.0.1:$SERVE_PORT/score" -c 10
expect_eq "serve --reset-rate 20%: exit 0" "$RC" 0
expect_range "serve --reset-rate 20%: class reset near 100 of 500" "$(class_count "$T/f_serve_reset.out" reset)" 60 140

start_serve --model zero --stall-rate 10% --stall 3s --seed 5
run_fault serve_stall 200 --url "http://127.0.0.1:$SERVE_PORT/score" -c 20 --timeout 300ms
expect_eq "serve --stall-rate 10% --stall 3s --timeout 300ms: exit 0" "$RC" 0
expect_range "serve stalls: class timeout near 20 of 200" "$(csv_col "$T/f_serve_stall.csv" timeouts)" 5 40
expect_range "serve stalls: the run is not held up by the 3 s stalls (s)" "$SECS" 0 $((8 * S))

# --- purpose-built misbehaving servers --------------------------------------
run_fault reset_mid 20 --url "$FURL/reset_mid" -c 4
expect_eq "reset mid-response: exit 3" "$RC" 3
expect_eq "reset mid-response: class reset 20" "$(class_count "$T/f_reset_mid.out" reset)" 20

run_fault dribble 4 --url "$FURL/dribble" -c 4 --timeout 1500ms
expect_eq "a byte a second, --timeout 1500ms: exit 3" "$RC" 3
expect_eq "a byte a second: timeouts=4" "$(csv_col "$T/f_dribble.csv" timeouts)" 4
expect_range "a byte a second: ends at the timeout (s)" "$SECS" 1 $((6 * S))

run_fault dribble_short 2 --url "$FURL/dribble_short" -c 2 --timeout 10s
expect_eq "a slow but whole reply: exit 0" "$RC" 0
expect_range "a slow but whole reply: its latency is counted (p50 ms)" "$(csv_col "$T/f_dribble_short.csv" lat_p50_ms)" 1100 $((5000 * S))

run_fault huge 8 --url "$FURL/huge" -c 4 --max-reply 1MiB
expect_eq "2 GB body, --max-reply 1MiB: exit 3" "$RC" 3
expect_eq "2 GB body, --max-reply 1MiB: class invalid 8" "$(class_count "$T/f_huge.out" invalid)" 8
expect_range "2 GB body: at most ~1 MiB read per request (bytes_recv)" "$(csv_col "$T/f_huge.csv" bytes_recv)" 8388608 $((8 * 1200000 + 65536 * 8))
expect_range "2 GB body: cut off quickly (s)" "$SECS" 0 $((10 * S))
# the default cap (64 MiB), and memory stays small while reading it
maxrss=$(python3 -c '
import resource, subprocess, sys
subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' \
  "$LOADGEN" --url "$FURL/huge" -c 2 -n 2 --synthetic 10 --out "$T/f_huge64.csv" -q)
expect_eq "2 GB body, default --max-reply 64MiB: both counted" "$(csv_col "$T/f_huge64.csv" errors)" 2
expect_range "2 GB body, default cap: bytes_recv about 2 x 64 MiB" "$(csv_col "$T/f_huge64.csv" bytes_recv)" $((2 * 67108864)) $((2 * 67108864 + 2 * 1048576))
expect_range "2 GB body: peak RSS stays under 100 MiB (KiB)" "$maxrss" 1 102400

run_fault huge_close_delimited 4 --url "$FURL/huge10" -c 4 --max-reply 1MiB
expect_eq "2 GB close-delimited body: class invalid 4" "$(class_count "$T/f_huge_close_delimited.out" invalid)" 4

run_fault chunked_forever 4 --url "$FURL/chunked_forever" -c 4 --max-reply 2MiB
expect_eq "endless chunked body: class invalid 4" "$(class_count "$T/f_chunked_forever.out" invalid)" 4

run_fault garbage 10 --url "$FURL/garbage" -c 2
expect_eq "not HTTP: exit 3" "$RC" 3
expect_eq "not HTTP: class invalid 10" "$(class_count "$T/f_garbage.out" invalid)" 10

run_fault bad_status 10 --url "$FURL/bad_status" -c 2
expect_eq "malformed status line: class invalid 10" "$(class_count "$T/f_bad_status.out" invalid)" 10

run_fault http10 50 --url "$FURL/http10" -c 5 --expect-json result
expect_eq "HTTP/1.0 close-delimited replies: exit 0" "$RC" 0
expect_eq "HTTP/1.0 close-delimited replies: ok 50" "$(csv_col "$T/f_http10.csv" ok)" 50

run_fault close_each 50 --url "$FURL/close_each" -c 5
expect_eq "Connection: close on every reply: ok 50" "$(csv_col "$T/f_close_each.csv" ok)" 50

# A keep-alive connection closed right after a reply races the next
# request on it: curl may send it on the dying connection. Such requests
# are counted as reset, never lost, and the rest succeed.
run_fault close_silently 50 --url "$FURL/close_silently" -c 5
expect_eq "keep-alive promised, then closed: every request ok or reset" \
  "$(( $(csv_col "$T/f_close_silently.csv" ok) + $(class_count "$T/f_close_silently.out" reset) ))" 50

run_fault empty 10 --url "$FURL/empty" -c 2
expect_eq "empty reply: exit 3" "$RC" 3
expect_eq "empty reply: class reset 10" "$(class_count "$T/f_empty.out" reset)" 10

run_fault short_body 10 --url "$FURL/short_body" -c 2
expect_eq "body shorter than Content-Length: class reset 10" "$(class_count "$T/f_short_body.out" reset)" 10

run_fault endless_headers 4 --url "$FURL/endless_headers" -c 2
expect_eq "endless headers: exit 3" "$RC" 3
expect_range "endless headers: cut off quickly (s)" "$SECS" 0 $((10 * S))

run_fault redirect_loop 10 --url "$FURL/redirect_loop" -c 2 --follow
expect_eq "redirect loop with --follow: class invalid 10" "$(class_count "$T/f_redirect_loop.out" invalid)" 10

run_fault json_2mib 4 --url "$FURL/json_2mib" -c 2 --expect-json result
expect_eq "a valid 2 MiB JSON reply passes --expect-json (under the 64 MiB cap)" "$(csv_col "$T/f_json_2mib.csv" ok)" 4

# Every error above was counted, none was fatal: no run said anything but
# "every request failed" on stderr.
bad=$(cat "$T"/f_*.err | grep -v 'every request failed' | head -3)
expect_eq "no run printed an unexpected error" "$bad" ""
