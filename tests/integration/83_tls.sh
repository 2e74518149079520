#!/usr/bin/env bash
# TLS against nginx from Debian with a self-signed certificate made here:
# untrusted -> class tls for every request and exit 3; --cacert the
# certificate or --insecure -> ok; the host name is still checked with
# --cacert; HTTP/2 over TLS; plain HTTP to the TLS port and TLS to a plain
# port are counted, not fatal.
. "$(dirname "$0")/lib.sh"

make_cert
echo "not a certificate" >"$T/garbage.pem"

# start_tls_nginx: nginx serving /score on TLS (HTTP/1.1 and HTTP/2) and on
# plain HTTP, through lib.sh's nginx_http; sets TLS_PORT,
# PLAIN_PORT.
start_tls_nginx() {
  TLS_PORT=$(free_port)
  PLAIN_PORT=$(free_port)
  nginx_http "access_log $T/access.log conn;
  server {
    listen 127.0.0.1:$TLS_PORT ssl http2;
    listen 127.0.0.1:$PLAIN_PORT;
    ssl_certificate $T/cert.pem;
    ssl_certificate_key $T/key.pem;
    location = /score { return 200 '{\"result\": [[\"tabby\", 0.9]]}'; default_type application/json; }
  }"
}
start_tls_nginx
URL=https://127.0.0.1:$TLS_PORT/score
RUN=(-c 5 -n 20 --synthetic 10 --image-size 32x32 -q)

# class_count OUTFILE CLASS: the count of CLASS on the summary's errors line
class_count() {
  sed -n 's/^  errors *//p' "$1" | tr ' ' '\n' |
    awk -v c="$2" 'prev == c { n = $0 } { prev = $0 } END { print n + 0 }'
}

lg --url "$URL" "${RUN[@]}" --out "$T/untrusted.csv" >"$T/untrusted.out" 2>&1
expect_eq "untrusted certificate: exit 3" "$?" 3
expect_eq "untrusted certificate: class tls for every request" "$(class_count "$T/untrusted.out" tls)" 20
expect_eq "untrusted certificate: the row is written" "$(csv_col "$T/untrusted.csv" errors)" 20

: >"$T/access.log"
lg --url "$URL" "${RUN[@]}" --cacert "$T/cert.pem" --out "$T/cacert.csv" >"$T/cacert.out" 2>&1
expect_eq "--cacert the certificate: exit 0" "$?" 0
expect_eq "--cacert the certificate: ok 20" "$(csv_col "$T/cacert.csv" ok)" 20
expect_range "--cacert: the TLS handshake is in connect_p50_ms" "$(csv_col "$T/cacert.csv" connect_p50_ms)" 0.001 5000
sleep 0.2
expect_eq "--cacert: nginx saw 20 POSTs over HTTP/1.1" "$(grep -c '"POST /score HTTP/1.1" 200' "$T/access.log")" 20
expect_range "--cacert: connections are kept alive (at most 5 handshakes for 5 in flight)" \
  "$(awk '{ print $1 }' "$T/access.log" | sort -u | wc -l)" 1 5

lg --url "$URL" "${RUN[@]}" --insecure --out "$T/insecure.csv" >"$T/insecure.out" 2>&1
expect_eq "--insecure: exit 0" "$?" 0
expect_eq "--insecure: ok 20" "$(csv_col "$T/insecure.csv" ok)" 20

lg --url "https://localhost:$TLS_PORT/score" "${RUN[@]}" --cacert "$T/cert.pem" --no-out >"$T/name.out" 2>&1
expect_eq "--cacert, host name not in the certificate: exit 3" "$?" 3
expect_eq "--cacert, host name not in the certificate: class tls 20" "$(class_count "$T/name.out" tls)" 20

lg --url "$URL" "${RUN[@]}" --cacert "$T/garbage.pem" --no-out >"$T/garbage.out" 2>&1
rc=$?
expect_eq "--cacert a file that is no certificate: counted tls, exit 3" "$rc,$(class_count "$T/garbage.out" tls)" "3,20"

lg --url "$URL" "${RUN[@]}" --cacert "$T/cert.pem" --http2 --out "$T/h2.csv" >"$T/h2.out" 2>&1
expect_eq "--http2 over TLS: exit 0" "$?" 0
expect_eq "--http2 over TLS: ok 20" "$(csv_col "$T/h2.csv" ok)" 20
expect_eq "--http2 over TLS: nginx saw HTTP/2.0" "$(grep -c '"POST /score HTTP/2.0" 200' "$T/access.log")" 20

# --streams 10: 40 in flight share HTTP/2 connections (h2load -m): nginx
# sees 200 requests on a handful of connections, not 40.
: >"$T/access.log"
lg --url "$URL" -c 40 -n 200 --loops 1 --synthetic 2 --image-size 32x32 --cacert "$T/cert.pem" \
  --http2 --streams 10 --out "$T/streams.csv" >"$T/streams.out" 2>&1
expect_eq "--streams 10 over TLS: exit 0, ok 200" "$?,$(csv_col "$T/streams.csv" ok)" "0,200"
# (at most 4 per 32-slot shard, so 5; fewer when replies come back before
# all 40 are out, as under a sanitizer; without --streams it is 40)
expect_range "--streams 10: 40 in flight on a few connections, not 40" \
  "$(awk '{print $1}' "$T/access.log" | sort -u | wc -l)" 1 8
check "--streams 10: no warning of HTTP/1.1" bash -c "! grep -q 'answered in HTTP/1.1' '$T/streams.out'"

lg --url "http://127.0.0.1:$TLS_PORT/score" "${RUN[@]}" --no-out >"$T/plain2tls.out" 2>&1
expect_eq "plain HTTP to the TLS port: exit 3, counted http_4xx" "$?,$(class_count "$T/plain2tls.out" http_4xx)" "3,20"

lg --url "https://127.0.0.1:$PLAIN_PORT/score" "${RUN[@]}" --insecure --no-out >"$T/tls2plain.out" 2>&1
expect_eq "TLS to a plain HTTP port: exit 3, counted tls" "$?,$(class_count "$T/tls2plain.out" tls)" "3,20"

# A TLS server that drops every connection in the handshake.
python3 - "$T/drop.port" <<'PY' &
import socket, struct, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(128)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.settimeout(0.2)
end = time.time() + 30
while time.time() < end:
    try:
        c = s.accept()[0]
        c.recv(100)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()
    except (socket.timeout, OSError):
        pass
PY
PIDS+=($!)
for _ in $(seq 100); do [ -s "$T/drop.port" ] && break; sleep 0.05; done
lg --url "https://127.0.0.1:$(cat "$T/drop.port")/score" "${RUN[@]}" --insecure --no-out >"$T/drop.out" 2>&1
rc=$?
expect_eq "TLS handshake reset by the server: exit 3" "$rc" 3
expect_eq "TLS handshake reset: every request counted (tls or reset)" \
  "$(( $(class_count "$T/drop.out" tls) + $(class_count "$T/drop.out" reset) ))" 20
