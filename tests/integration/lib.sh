# tests/integration/lib.sh: sourced by every integration script.
# Starts real servers on loopback (nginx from Debian, `loadgen serve`),
# prints TAP-style results, and cleans up every process it started.
set -u
: "${LOADGEN:?set LOADGEN to the loadgen binary}"
T=$(mktemp -d /tmp/loadgen-test.XXXXXX)
PIDS=()

cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null; done
  [ -f "$T/nginx.pid" ] && kill "$(cat "$T/nginx.pid")" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT

ok()   { echo "ok - $1"; }
fail() { echo "not ok - $1${2:+: $2}"; }
# check NAME CMD...: ok when CMD succeeds
check() { local n=$1; shift; if "$@"; then ok "$n"; else fail "$n" "command failed: $*"; fi; }
# expect_eq NAME GOT WANT
expect_eq() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "got '$2', want '$3'"; fi; }
# expect_range NAME GOT LO HI (numbers, inclusive)
expect_range() {
  if awk -v g="$2" -v lo="$3" -v hi="$4" 'BEGIN { exit !(g != "" && g + 0 >= lo + 0 && g + 0 <= hi + 0) }'; then
    ok "$1"; else fail "$1" "got '$2', want within [$3, $4]"; fi
}

# timing_range NAME GOT LO HI: expect_range for a check of the simulated
# model's timing, which assumes a client at full speed. Under a sanitizer
# or valgrind (LOADGEN_SANITIZED=1, set by make asan/ubsan/valgrind) the
# client is several times slower, so the check is reported as skipped; the
# plain `make test` pass makes it.
timing_range() {
  if [ "${LOADGEN_SANITIZED:-0}" = 1 ]; then echo "ok - $1 # SKIP timing under a sanitizer (got $2)"
  else expect_range "$@"; fi
}

# loadgen ARGS...: the binary, under valgrind when LOADGEN_VALGRIND=1
lg() {
  if [ "${LOADGEN_VALGRIND:-0}" = 1 ]; then
    valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 "$LOADGEN" "$@"
  else
    "$LOADGEN" "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# csv_col FILE COLUMN [ROW]: the value of COLUMN in data row ROW (1 = first)
csv_col() {
  awk -F, -v col="$2" -v row="${3:-1}" '
    NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
    NR == row + 1 { print $c; exit }' "$1"
}
csv_rows() { echo $(( $(wc -l <"$1") - 1 )); }

# nginx_http HTTP_BODY: nginx from Debian (one worker, its files in $T) with
# HTTP_BODY in its http block (access_log and server blocks; log format
# `conn` logs the connection number, the request line and the status).
nginx_http() {
  mkdir -p "$T/nginx"
  cat >"$T/nginx.conf" <<CONF
worker_processes 1;
daemon on;
pid $T/nginx.pid;
error_log $T/nginx-error.log;
events { worker_connections 4096; }
http {
  log_format conn '\$connection "\$request" \$status';
  client_body_temp_path $T/nginx;
  proxy_temp_path $T/nginx;
  fastcgi_temp_path $T/nginx;
  uwsgi_temp_path $T/nginx;
  scgi_temp_path $T/nginx;
  client_max_body_size 100m;
  client_body_buffer_size 1m;
  keepalive_requests 1000000;
  $1
}
CONF
  nginx -c "$T/nginx.conf" -p "$T" || { fail "nginx starts" "$(cat "$T/nginx-error.log")"; exit 1; }
  for _ in $(seq 50); do [ -s "$T/nginx.pid" ] && break; sleep 0.1; done
}

# start_nginx LOCATIONS: nginx on a free port with the given server-block
# body; sets NGINX_PORT and NGINX_LOG (the access log, one line a request).
start_nginx() {
  NGINX_PORT=$(free_port)
  NGINX_LOG=$T/access.log
  nginx_http "access_log $NGINX_LOG;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    $1
  }"
}

# make_cert: a self-signed certificate for 127.0.0.1 in $T/cert.pem, its key
# in $T/key.pem.
make_cert() {
  openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$T/key.pem" -out "$T/cert.pem" -days 2 >/dev/null 2>&1 \
    || { fail "openssl makes a self-signed certificate"; exit 1; }
}

# start_serve ARGS...: `loadgen serve --port 0 ARGS` in the background;
# sets SERVE_PORT (read from its first stdout line) and SERVE_PID.
start_serve() {
  local out=$T/serve.$RANDOM.out
  "$LOADGEN" serve --port 0 "$@" >"$out" 2>"$out.err" &
  SERVE_PID=$!
  PIDS+=("$SERVE_PID")
  for _ in $(seq 100); do
    SERVE_PORT=$(head -1 "$out" 2>/dev/null | grep -o '[0-9]\+$')
    [ -n "$SERVE_PORT" ] && return 0
    sleep 0.05
  done
  fail "loadgen serve starts" "$(cat "$out.err")"; exit 1
}
