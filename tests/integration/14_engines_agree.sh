#!/usr/bin/env bash
# Issue 14: the native HTTP/1.1 engine and libcurl agree. The same runs on
# --engine native and --engine curl give the same counts, error classes and
# bytes, and latencies within noise:
#  - against `loadgen serve` with a fixed service time, --fail-rate and
#    --reset-rate (one client: the fault draws are reproducible exactly);
#  - against a small Python server (h1srv.py, below) whose request path picks
#    the reply: Content-Length, chunked, close-delimited, 1xx first, a body
#    past --max-reply, no answer (--timeout), a close after each reply (the
#    next request reconnects), garbage, a body cut short;
#  - against a closed port (connect), and nginx (keep-alive reuse: one TCP
#    connection per slot; keepalive_requests closes: reconnects).
# Also: the curl path's TTFB on a 500 KB upload is the server's time, not
# the moment the upload started; --engine native refuses https:// (exit 2);
# the JSON result and the summary say which engine ran.
. "$(dirname "$0")/lib.sh"

cat >"$T/h1srv.py" <<'PY'
"""A small HTTP/1.1 server whose replies are shaped by the request path, for
tests/integration/14_engines_agree.sh. Loopback only; exits after LIFETIME
seconds whatever happens. Prints its port on the first line.

  /cl        Content-Length body, keep-alive
  /chunked   chunked body in several chunks, keep-alive
  /close     body delimited by the close (no Content-Length)
  /1xx       100 Continue and 103 Early Hints, then a Content-Length reply
  /big       a 1 MiB Content-Length body
  /hang      reads the request, never answers
  /idle      Content-Length reply, then a FIN 0.5 ms later
  /garbage   not HTTP
  /cut       headers and half the body, then close
"""
import socket
import sys
import threading
import time

LIFETIME = float(sys.argv[1]) if len(sys.argv) > 1 else 60
BODY = b'{"result": "ok", "time_ms": 3.5}'


def read_request(conn, buf):
    while b"\r\n\r\n" not in buf:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    path = lines[0].split(b" ")[1].decode()
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        rest += chunk
    return path, rest[length:]


def cl(body, extra=b""):
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Inference-Time-Ms: 3.5\r\n"
            + extra + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


def serve(conn):
    conn.settimeout(LIFETIME)
    buf = b""
    try:
        while True:
            path, buf = read_request(conn, buf)
            if path is None:
                return
            if path.startswith("/cl"):
                conn.sendall(cl(BODY))
            elif path.startswith("/chunked"):
                out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Inference-Time-Ms: 3.5\r\n\r\n"
                for i in range(0, len(BODY), 7):
                    part = BODY[i:i + 7]
                    out += b"%x\r\n" % len(part) + part + b"\r\n"
                conn.sendall(out + b"0\r\n\r\n")
            elif path.startswith("/close"):
                conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + BODY)
                return
            elif path.startswith("/1xx"):
                conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n")
                time.sleep(0.002)
                conn.sendall(cl(BODY))
            elif path.startswith("/big"):
                conn.sendall(cl(b"x" * (1 << 20)))
            elif path.startswith("/hang"):
                time.sleep(LIFETIME)
                return
            elif path.startswith("/idle"):
                # As a server whose keep-alive timeout ran out: a FIN, then
                # whatever came meanwhile is read and dropped.
                conn.sendall(cl(BODY))
                time.sleep(0.0005)
                conn.shutdown(socket.SHUT_WR)
                conn.settimeout(0.2)
                try:
                    while conn.recv(65536):
                        pass
                except OSError:
                    pass
                return
            elif path.startswith("/garbage"):
                conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\nnot http at all\r\n\r\n")
                return
            elif path.startswith("/cut"):
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 50)
                time.sleep(0.01)
                return
            else:
                conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    except OSError:
        pass
    finally:
        conn.close()


def main():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(512)
    print(s.getsockname()[1], flush=True)
    end = time.monotonic() + LIFETIME
    s.settimeout(0.5)
    while time.monotonic() < end:
        try:
            conn, _ = s.accept()
        except socket.timeout:
            continue
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


main()
PY

S=1
[ "${LOADGEN_SANITIZED:-0}" = 1 ] && S=4

# run ENGINE NAME ARGS...: loadgen with --json $T/NAME-ENGINE.json, bounded.
run() {
  local engine=$1 name=$2; shift 2
  timeout $((60 * S)) "$LOADGEN" --engine "$engine" --no-out -q --json "$T/$name-$engine.json" "$@" \
    >"$T/$name-$engine.txt" 2>"$T/$name-$engine.err"
}
# j NAME ENGINE JQ: a field of the first level of a result
j() { jq -r ".levels[0]$3" "$T/$1-$2.json" 2>/dev/null; }
# same NAME: requests, classes and bytes agree between the engines
same() {
  local n=$1 f
  for f in .requests .classes .bytes_sent .bytes_recv; do
    expect_eq "$n: $f native = curl" "$(j "$n" native "$f" | tr -d ' \n')" "$(j "$n" curl "$f" | tr -d ' \n')"
  done
}

# --- loadgen serve with faults: exactly the same counts ---------------------
for e in native curl; do
  start_serve --fixed-latency 2ms --fail-rate 0.1 --seed 7
  run "$e" faults --url "http://127.0.0.1:$SERVE_PORT/score" -c 1 -n 300 --synthetic 10
  kill "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null
done
same faults
expect_range "faults: some 5xx" "$(j faults native .classes.http_5xx)" 10 60
p50n=$(j faults native .latency_ms.p50); p50c=$(j faults curl .latency_ms.p50)
timing_range "faults: p50 native ($p50n ms) within 1 ms of curl ($p50c ms)" \
  "$(awk -v a="$p50n" -v b="$p50c" 'BEGIN { print a - b }')" -1 1

# Resets (RST) answer 5% of requests. The native engine counts each one
# (81_faults holds it to that); libcurl 7.88 sends some of them again on a
# new connection (it retries a reused connection on a receive error before
# any reply byte), so here the engines agree on the totals, not the split.
for e in native curl; do
  start_serve --fixed-latency 2ms --reset-rate 0.05 --seed 7
  run "$e" resets --url "http://127.0.0.1:$SERVE_PORT/score" -c 1 -n 300 --synthetic 10
  kill "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null
  expect_eq "resets: ok + reset = 300 ($e)" \
    "$(jq '.levels[0].classes | .ok + .reset' "$T/resets-$e.json")" 300
done
expect_range "resets: native counts each server reset (5% of 300)" "$(j resets native .classes.reset)" 5 30

# --- loadgen serve, 8 in flight, checks on both engines ---------------------
start_serve --fixed-latency 5ms
URL="http://127.0.0.1:$SERVE_PORT/score"
for e in native curl; do
  run "$e" checks --url "$URL" -c 8 -n 800 --synthetic 20 --expect-json result \
    --server-time-header X-Inference-Time-Ms
done
same checks
expect_eq "checks: all ok (native)" "$(j checks native .ok)" 800
expect_eq "checks: engine key (native)" "$(j checks native .engine)" native
expect_eq "checks: engine key (curl)" "$(j checks curl .engine)" curl
check "checks: the summary names the engine" grep -q "engine  *native" "$T/checks-native.txt"
for e in native curl; do
  st=$(grep -o 'server time *p50 *[0-9.]*' "$T/checks-$e.txt" | grep -o '[0-9.]*$')
  timing_range "checks: server time p50 ($e, $st ms)" "$st" 4.5 6
  timing_range "checks: latency p50 ($e) near 5 ms" "$(j checks $e .latency_ms.p50)" 4.9 9
done
for e in native curl; do
  run "$e" nohdr --url "$URL" -c 2 -n 20 --synthetic 2 --expect-header X-Not-There
  expect_eq "--expect-header missing: invalid ($e)" "$(j nohdr $e .classes.invalid)" 20
done

# --- the curl path's TTFB on a 500 KB upload --------------------------------
start_serve --fixed-latency 20ms
for e in native curl; do
  run "$e" upload --url "http://127.0.0.1:$SERVE_PORT/score" -c 2 -n 20 --synthetic 2 --image-size 1024x1024
  ttfb=$(grep -o 'ttfb p50 *[0-9.]*' "$T/upload-$e.txt" | grep -o '[0-9.]*$')
  timing_range "500 KB upload: ttfb p50 ($e, $ttfb ms) is the server's 20 ms" "$ttfb" 19 60
done
same upload

# --- reply shapes from the Python server --------------------------------------
python3 "$T/h1srv.py" $((90 * S)) >"$T/h1srv.port" &
PIDS+=($!)
for _ in $(seq 50); do [ -s "$T/h1srv.port" ] && break; sleep 0.1; done
HP=$(head -1 "$T/h1srv.port")
# shape PATH WANT_CLASS N [ARGS...]
shape() {
  local path=$1 want=$2 n=$3; shift 3
  for e in native curl; do
    run "$e" "$path" --url "http://127.0.0.1:$HP/$path" -c 2 -n "$n" --synthetic 2 --timeout 1s "$@"
    expect_eq "/$path: $n $want ($e)" "$(j "$path" $e ".classes.$want")" "$n"
  done
}
shape cl ok 40;        same cl
shape chunked ok 40 --expect-json result --server-time-json time_ms;   same chunked
shape close ok 20;     same close
shape 1xx ok 20;       same 1xx
# The server closes each connection (a FIN) just after its reply, often
# after the next request went out on it: that request is sent again on a
# new connection (once; nothing of its reply had come) by the native engine;
# libcurl 7.88 does not always (18 or 20 of 20 in trials): counted, not held to it.
run native idle --url "http://127.0.0.1:$HP/idle" -c 2 -n 20 --synthetic 2 --timeout 1s
expect_eq "/idle: a close between requests is retried on a new connection: 20 ok (native)" \
  "$(j idle native .classes.ok)" 20
run curl idle --url "http://127.0.0.1:$HP/idle" -c 2 -n 20 --synthetic 2 --timeout 1s
expect_eq "/idle: ok + reset = 20 (curl)" "$(jq '.levels[0].classes | .ok + .reset' "$T/idle-curl.json")" 20
shape big invalid 4 --max-reply 64KiB
shape hang timeout 2
shape garbage invalid 4
shape cut reset 4
for e in native curl; do
  timing_range "--timeout 1s: run ends in time ($e)" "$(j hang $e .duration_s)" 0.9 3
done

# --- connect refused ---------------------------------------------------------
CP=$(free_port)
for e in native curl; do
  run "$e" refused --url "http://127.0.0.1:$CP/score" -c 2 -n 10 --synthetic 2
  expect_eq "closed port: connect errors ($e)" "$(j refused $e .classes.connect)" 10
done

# --- nginx: keep-alive reuse, and server closes -------------------------------
start_nginx '
  location /ka { keepalive_requests 1000; return 200 "ok\n"; }
  location /kr { keepalive_requests 10; return 200 "ok\n"; }'
sed -i 's|access_log .*;|log_format c "$connection $request_uri"; access_log '"$NGINX_LOG"' c;|' "$T/nginx.conf"
nginx -c "$T/nginx.conf" -p "$T" -s reload 2>/dev/null; sleep 0.3
for e in native curl; do
  : >"$NGINX_LOG"
  run "$e" ka --url "http://127.0.0.1:$NGINX_PORT/ka" -c 4 -n 400 --method GET
  expect_eq "nginx keep-alive: 400 ok ($e)" "$(j ka $e .ok)" 400
  expect_eq "nginx keep-alive: 4 connections for 4 slots ($e)" "$(awk '{print $1}' "$NGINX_LOG" | sort -u | wc -l)" 4
  : >"$NGINX_LOG"
  run "$e" kr --url "http://127.0.0.1:$NGINX_PORT/kr" -c 4 -n 400 --method GET
  expect_eq "nginx closes every 10 requests: 400 ok ($e)" "$(j kr $e .ok)" 400
  expect_range "nginx closes every 10 requests: about 40 connections ($e)" \
    "$(awk '{print $1}' "$NGINX_LOG" | sort -u | wc -l)" 40 48
done
same ka
# nginx's `return` answers before it has read a 4 MB body: the reply counts,
# the rest of the body still goes out, and the connection serves the next
# request (the native engine once closed it instead: 20 connections).
python3 -c 'print("{\"input\": \"" + "A" * 4000000 + "\"}")' >"$T/body4m.json"
for e in native curl; do
  : >"$NGINX_LOG"
  run "$e" early --url "http://127.0.0.1:$NGINX_PORT/ka" -c 2 -n 20 --body-file "$T/body4m.json"
  expect_eq "reply before the body is read: 20 ok ($e)" "$(j early $e .ok)" 20
  expect_eq "reply before the body is read: 2 connections ($e)" "$(awk '{print $1}' "$NGINX_LOG" | sort -u | wc -l)" 2
done
same early
# When nginx closes a connection depends on timing, so the replies that say
# "Connection: close" (5 bytes fewer) may differ by a few.
same_but_bytes() {
  local f
  for f in .requests .classes .bytes_sent; do
    expect_eq "$1: $f native = curl" "$(j "$1" native "$f" | tr -d ' \n')" "$(j "$1" curl "$f" | tr -d ' \n')"
  done
  expect_range "$1: bytes_recv native within 0.5% of curl" \
    "$(awk -v a="$(j "$1" native .bytes_recv)" -v b="$(j "$1" curl .bytes_recv)" 'BEGIN { print a / b }')" 0.995 1.005
}
same_but_bytes kr

# --- what native cannot do -----------------------------------------------------
timeout 10 "$LOADGEN" --engine native --url https://127.0.0.1:1/ -n 1 --no-out -q 2>"$T/https.err"
expect_eq "--engine native with https://: exit 2" "$?" 2
check "--engine native with https://: says why" grep -q "http:// only" "$T/https.err"
timeout 10 "$LOADGEN" --engine tcp --url http://127.0.0.1:1/ -n 1 --no-out -q 2>/dev/null
expect_eq "--engine tcp: exit 2" "$?" 2
