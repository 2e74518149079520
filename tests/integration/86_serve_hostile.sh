#!/usr/bin/env bash
# loadgen serve against hostile clients, with crafted raw requests from
# python3 sockets (loopback only; every loop bounded in count and time):
# a V2 shape that claims 10^6 images, answers that are never read, bodies
# and headers that stop arriving, pipelining floods, a connection flood,
# and the stall fault under load. Each case runs on its own serve with
# short limits set by flags, checks from the client's side that the server
# closed what it had to, measures serve's peak resident memory (VmHWM), and
# checks that a normal request still works.
. "$(dirname "$0")/lib.sh"

cat >"$T/h.py" <<'PY'
import json, socket, sys, time

PORT = int(sys.argv[1])
JPEG = "/9j/4AAQSkZJRgABAQ=="   # FF D8 FF E0 ...: serve checks the signature only

def conn():
    s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    return s

def req(path, body, ctype="application/json", extra=""):
    if isinstance(body, str):
        body = body.encode()
    head = ("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s\r\n"
            % (path, ctype, len(body), extra))
    return head.encode() + body

def status(s, limit=5.0):
    """The status of the next answer on s, or 'closed'/'timeout'."""
    s.settimeout(limit)
    buf = b""
    try:
        while b"\r\n" not in buf:
            d = s.recv(4096)
            if not d:
                return "closed"
            buf += d
    except socket.timeout:
        return "timeout"
    except OSError:
        return "closed"
    return buf.split(b" ")[1].decode()

def closed_within(socks, limit):
    """How many of socks the server closed within limit seconds in all."""
    end, n = time.time() + limit, 0
    for s in socks:
        try:
            while time.time() < end:
                s.settimeout(max(0.01, end - time.time()))
                if not s.recv(65536):
                    n += 1
                    break
        except socket.timeout:
            pass
        except OSError:
            n += 1
    return n

V2_EMPTY = json.dumps({"inputs": [{"name": "x", "shape": [1000000, 0], "datatype": "FP32", "data": []}]})
SCORE_ONE = json.dumps({"input": JPEG})
cmd = sys.argv[2]

if cmd == "one":            # a normal request: prints its status
    s = conn(); s.sendall(req("/score", SCORE_ONE)); print(status(s, 3.0))
elif cmd == "v2":           # prints the status of the 10^6-image V2 body
    s = conn(); s.sendall(req("/v2/models/m/infer", V2_EMPTY)); print(status(s))
elif cmd == "v2wrap":       # dimensions whose product wraps to 0 in 64 bits
    b = json.dumps({"inputs": [{"name": "x", "shape": [1048576, 1048576, 16777216],
                                "datatype": "UINT8", "data": []}]})
    s = conn(); s.sendall(req("/v2/models/m/infer", b)); print(status(s))
elif cmd == "ihcl":         # hostile Inference-Header-Content-Length values
    out = []
    for v in ["-5", "99999999999999999999999", "1000", "abc"]:
        s = conn()
        s.sendall(req("/v2/models/m/infer", '{"inputs": []}', "application/octet-stream",
                      "Inference-Header-Content-Length: %s\r\n" % v))
        out.append(status(s)); s.close()
    print(" ".join(out))
elif cmd == "toomany":      # one image past --max-images, as a /score list
    b = json.dumps({"input": [JPEG] * (int(sys.argv[3]) + 1)})
    s = conn(); s.sendall(req("/score", b)); print(status(s))
elif cmd == "noread":       # N clients pipeline R large-answer requests, never read
    n, r, images = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    big = req("/score", json.dumps({"input": [JPEG] * images}))
    v2 = req("/v2/models/m/infer", V2_EMPTY)
    socks = []
    for i in range(n):
        s = conn(); s.setblocking(False)
        data = (v2 + big) * r
        try:
            s.send(data)
        except BlockingIOError:
            pass
        socks.append(s)
    time.sleep(float(sys.argv[6]))
    print(closed_within(socks, 2))
elif cmd == "stallbody":    # N clients send a body's first MB of CL and stop
    n, cl, first = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    socks = []
    for i in range(n):
        s = conn()
        s.sendall(("POST /score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   "Content-Length: %d\r\n\r\n" % cl).encode())
        chunk = b"x" * 65536
        sent = 0
        s.settimeout(5)
        try:
            while sent < first:
                sent += s.send(chunk)
        except OSError:
            pass
        socks.append(s)
    print(closed_within(socks, float(sys.argv[6])))
elif cmd == "claims":       # N clients send headers claiming a large body, then a normal request
    n, cl = int(sys.argv[3]), int(sys.argv[4])
    socks = []
    for i in range(n):
        s = conn()
        s.sendall(("POST /score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   "Content-Length: %d\r\n\r\n{" % cl).encode())
        socks.append(s)
    time.sleep(0.3)
    s = conn(); s.sendall(req("/score", SCORE_ONE)); print(status(s, 3.0))
elif cmd == "slowloris":    # N clients trickle header bytes, one every 200 ms
    n, secs = int(sys.argv[3]), float(sys.argv[4])
    socks = [conn() for _ in range(n)]
    for s in socks:
        s.sendall(b"POST /score HTTP/1.1\r\nX-A: ")
    end, alive = time.time() + secs, set(range(n))
    while time.time() < end and alive:
        for i in list(alive):
            try:
                socks[i].sendall(b"a")
            except OSError:
                alive.discard(i)
        time.sleep(0.2)
    print(n - len(alive))
elif cmd == "silent":       # N clients connect and send nothing
    n = int(sys.argv[3])
    socks = [conn() for _ in range(n)]
    print(closed_within(socks, float(sys.argv[4])))
elif cmd == "idle":         # N keep-alive clients go quiet after one answer
    n = int(sys.argv[3])
    socks = []
    for _ in range(n):
        s = conn(); s.sendall(req("/score", SCORE_ONE))
        socks.append(s)
    print(closed_within(socks, float(sys.argv[4])))
elif cmd == "flood":        # one client pipelines GETs without reading
    s = conn(); s.setblocking(False)
    chunk = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 2000
    end, sent = time.time() + float(sys.argv[3]), 0
    while time.time() < end:
        try:
            sent += s.send(chunk)
        except BlockingIOError:
            time.sleep(0.01)
        except OSError:
            break
    print(closed_within([s], 2))
elif cmd == "conns":        # N connections at once: how many got a 503
    n = int(sys.argv[3])
    socks = [conn() for _ in range(n)]
    time.sleep(0.3)
    got = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(64).startswith(b"HTTP/1.1 503"):
                got += 1
        except OSError:
            pass
    print(got)
elif cmd == "headers":      # 90 KB of headers in 900 small ones
    s = conn()
    s.sendall(b"GET / HTTP/1.1\r\n" + b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 90) for i in range(900)) + b"\r\n")
    print(status(s))
elif cmd == "stalled":      # N clients pipeline R requests under --stall-rate 1
    n, r = int(sys.argv[3]), int(sys.argv[4])
    socks = [conn() for _ in range(n)]
    for s in socks:
        s.sendall(req("/score", SCORE_ONE) * r)
    print(n)
PY

h() { timeout 60 python3 "$T/h.py" "$SERVE_PORT" "$@"; }
hwm_kb() { awk '/^VmHWM/ { print $2 }' "/proc/$SERVE_PID/status"; }
# mem_below NAME KB: serve's peak resident memory is below KB (not under a
# sanitizer, whose shadow memory is not serve's)
mem_below() {
  local got; got=$(hwm_kb)
  if [ "${LOADGEN_SANITIZED:-0}" = 1 ]; then echo "ok - $1 # SKIP memory under a sanitizer (VmHWM $got kB)"
  else expect_range "$1 (VmHWM $got kB)" "$got" 1 "$2"; fi
}
normal_ok() { expect_eq "$1: a normal request still succeeds" "$(h one)" 200; }
LIMITS=(--header-timeout 1s --body-timeout 1s --idle-timeout 2s --send-timeout 1s)
serve() { start_serve "$@"; }

# --- request bodies -----------------------------------------------------------
# The simulated resnet50 used to take 20 minutes on the 10^6 images of this
# 120-byte body, and every other client timed out behind it.
serve
expect_eq "V2 shape [1000000, 0] with empty data: 400" "$(h v2)" 400
expect_eq "V2 shape whose product wraps to 0: 400" "$(h v2wrap)" 400
normal_ok "after the 10^6-image body"
expect_eq "Inference-Header-Content-Length -5, 10^23, past the body, abc: 400" "$(h ihcl)" "400 400 400 400"
serve --model zero --max-images 8
expect_eq "--max-images 8: 9 images is 400" "$(h toomany 8)" 400
serve --model zero
expect_eq "65 images (past the default --max-images 64): 400" "$(h toomany 64)" 400

# --- answers that are never read -----------------------------------------------
# 20 clients pipeline requests for the largest answers (4096 images, 400 KB)
# and never read. The 10^6-image body once answered 68 MB each (1.3 GB for
# 20). Each connection holds one answer until --send-timeout closes it.
serve --model zero "${LIMITS[@]}" --max-images 4096
expect_eq "20 clients that never read: closed by --send-timeout" "$(h noread 20 20 4096 3)" 20
mem_below "20 clients that never read: memory bounded" 150000
normal_ok "after 20 non-reading clients"

# --- bodies that stop arriving ---------------------------------------------------
# 30 clients announce 16 MB and stop after 8 MB: at most --max-inflight of
# it is held (the rest get 503), and --body-timeout closes them all.
serve --model zero "${LIMITS[@]}" --max-body 16MiB --max-inflight 64MiB
got=$(h stallbody 30 16000000 8000000 4)
expect_eq "30 stalled bodies: all closed by --body-timeout" "$got" 30
mem_below "30 stalled bodies: memory bounded by --max-inflight" 150000
normal_ok "after 30 stalled bodies"

# 300 clients that send only headers claiming 1 MB bodies (and one byte of
# it) reserve nothing for it: a normal request still gets its 200, not a 503.
serve --model zero "${LIMITS[@]}" --max-body 16MiB --max-inflight 64MiB
expect_eq "300 bodies claimed but not sent: a normal request is not refused" "$(h claims 300 1000000)" 200

# --- headers that stop arriving, silent and idle clients ------------------------
serve --model zero "${LIMITS[@]}"
expect_eq "30 slowloris clients (a header byte every 200 ms): closed by --header-timeout" "$(h slowloris 30 4)" 30
expect_eq "20 clients that connect and say nothing: closed" "$(h silent 20 3)" 20
expect_eq "20 keep-alive clients that go quiet: closed by --idle-timeout" "$(h idle 20 4)" 20
expect_eq "900 headers (90 KB): 431" "$(h headers)" 431
normal_ok "after slow clients"

# --- pipelining flood --------------------------------------------------------------
serve --model zero "${LIMITS[@]}"
expect_eq "a pipelining flood that never reads: closed by --send-timeout" "$(h flood 3)" 1
mem_below "a pipelining flood that never reads: memory bounded" 60000
normal_ok "after a pipelining flood"

# --- connection flood ----------------------------------------------------------------
serve --model zero "${LIMITS[@]}" --max-connections 50
expect_eq "--max-connections 50: the 10 past it get 503" "$(h conns 60)" 10
normal_ok "after a connection flood"

# --- the stall fault under load -----------------------------------------------------------
# Held answers are one per connection: pipelining behind a stall holds no more.
serve --model zero --stall-rate 1 --stall 2s
h stalled 200 50 >/dev/null
mem_below "200 stalled clients pipelining 50 requests each: memory bounded" 60000
expect_eq "under --stall-rate 1, a new client is still answered after --stall" "$(h one)" 200

# --- the flags ------------------------------------------------------------------------------
help=$("$LOADGEN" serve --help)
for f in --max-images --max-inflight --max-connections --header-timeout --body-timeout --idle-timeout --send-timeout; do
  check "--help lists $f" grep -q -- "$f" <<<"$help"
done
err=$("$LOADGEN" serve --max-body 512MiB 2>&1 >/dev/null); rc=$?
expect_eq "--max-body past --max-inflight: exit 2" "$rc" 2
expect_eq "--max-body past --max-inflight: one line" "$(wc -l <<<"$err")" 1
err=$("$LOADGEN" serve --idle-timeout 0 2>&1 >/dev/null); rc=$?
expect_eq "--idle-timeout 0: exit 2 naming it" "$rc: $err" "2: loadgen serve: --idle-timeout 0: must be at least 1ms"
