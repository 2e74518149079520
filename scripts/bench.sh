#!/usr/bin/env bash
# scripts/bench.sh LOADGEN: loadgen side by side with wrk, hey, h2load and
# ab on loopback, then loadgen's own accuracy and scale checks. Run by
# `make bench`, never by `make test`. docs/performance.md says how to read
# the results and how to profile.
#
# Servers: nginx (one worker, /score answers a small JSON) for the peers
# table; `loadgen serve` (zero latency, or exactly 20 ms) for the checks.
# The server is pinned to BENCH_SERVER_CPU, every client to BENCH_CLIENT_CPU.
# Each round runs loadgen and every peer back to back, in an order that
# rotates from round to round; ratios are taken round by round.
#
# Writes results/bench-runs.csv (every run), results/bench.csv (a row per
# workload x connections x tool), results/bench-checks.csv, and markdown
# tables on stdout.
#
# Environment (defaults in brackets):
#   BENCH_QUICK=1       a try-out: 1 round of 3 s, shorter checks
#   BENCH_ROUNDS [5]  BENCH_DURATION [10] seconds per run
#   BENCH_CONNS ["50 1000"]  BENCH_WORKLOADS ["get post100k jpeg10k"]
#   BENCH_PEERS ["wrk hey h2load ab"]  (ab runs the GET workload only)
#   BENCH_PARTS ["peers accuracy scale h2"]  (h2: h2c GET against nginx and gRPC
#                      ModelInfer against serve, --streams 10 beside h2load -m 10)
#   BENCH_CLIENT_CPU [1]  BENCH_SERVER_CPU [0]  (taskset core lists)
#   BENCH_CANDIDATE     another loadgen binary (an engine change under test),
#                       maybe with flags ("./loadgen --engine curl"): runs in
#                       every round as tool "candidate"
#   BENCH_SERVE         the binary whose `serve` the checks use [LOADGEN]
#   BENCH_IDLE_LOAD     wait until the 1-minute load average is below this
#                       before starting, for at most BENCH_IDLE_WAIT [1200] s
#   BENCH_RESULTS [results]
set -u
LG=${1:?usage: scripts/bench.sh LOADGEN_BINARY}
case $LG in /*) ;; *) LG=$PWD/$LG ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
B=$HERE/bench
cd "$HERE/.." || exit 1 # `loadgen serve` finds scenarios/profiles.json here

if [ "${BENCH_QUICK:-0}" = 1 ]; then
  ROUNDS=${BENCH_ROUNDS:-1}; DUR=${BENCH_DURATION:-3}; CHECK_DUR=3
else
  ROUNDS=${BENCH_ROUNDS:-5}; DUR=${BENCH_DURATION:-10}; CHECK_DUR=10
fi
CONNS=${BENCH_CONNS:-50 1000}
WORKLOADS=${BENCH_WORKLOADS:-get post100k jpeg10k}
PEERS=${BENCH_PEERS:-wrk hey h2load ab}
PARTS=${BENCH_PARTS:-peers accuracy scale h2}
NCPU=$(nproc)
if [ "$NCPU" -ge 2 ]; then
  CLIENT_CPU=${BENCH_CLIENT_CPU:-1}; SERVER_CPU=${BENCH_SERVER_CPU:-0}
else
  CLIENT_CPU=${BENCH_CLIENT_CPU:-0}; SERVER_CPU=${BENCH_SERVER_CPU:-0}
  echo "bench: one core only: client and server share it, figures are pessimistic" >&2
fi
RES=${BENCH_RESULTS:-results}
RUNS=$RES/bench-runs.csv
CHECKS=$RES/bench-checks.csv

die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }
[ -x "$LG" ] || die "$LG is not an executable; run make first"
CAND=${BENCH_CANDIDATE:-}
# A binary, and maybe flags of its own: BENCH_CANDIDATE="./loadgen --engine curl".
[ -z "$CAND" ] || [ -x "${CAND%% *}" ] || die "BENCH_CANDIDATE=$CAND: ${CAND%% *} is not an executable"
SERVE_BIN=${BENCH_SERVE:-$LG}
for t in nginx python3 taskset timeout /usr/bin/time; do
  command -v "$t" >/dev/null || die "$t is missing; run scripts/install-deps.sh --bench"
done
have_peers=""
for p in $PEERS; do
  if command -v "$p" >/dev/null; then have_peers="$have_peers $p"
  else note "$p is missing, left out (scripts/install-deps.sh --bench installs it)"; fi
done
mkdir -p "$RES" || die "cannot create $RES"

T=$(mktemp -d /tmp/loadgen-bench.XXXXXX)
SERVE_PID=""
cleanup() {
  [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
  [ -s "$T/nginx.pid" ] && kill "$(cat "$T/nginx.pid")" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

load1() { cut -d' ' -f1 /proc/loadavg; }
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Ten thousand connections need as many descriptors in the client and in
# the server, which inherits this shell's limit.
want_fds=12000
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$want_fds" ]; then
  FD_NOTE="the open-file hard limit is $hard, below the $want_fds that 10,000 connections need: raise it (ulimit -Hn $want_fds as root, or LimitNOFILE= for a service)"
  ulimit -n "$hard"
else
  FD_NOTE=""
  [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$want_fds" ] && ulimit -n "$want_fds"
fi

if [ -n "${BENCH_IDLE_LOAD:-}" ]; then
  waited=0
  while awk -v l="$(load1)" -v m="$BENCH_IDLE_LOAD" 'BEGIN { exit !(l >= m) }' &&
        [ "$waited" -lt "${BENCH_IDLE_WAIT:-1200}" ]; do
    sleep 10; waited=$((waited + 10))
  done
  note "load average $(load1) after waiting ${waited}s for < $BENCH_IDLE_LOAD"
fi
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- payloads ---------------------------------------------------------------
"$LG" --url http://127.0.0.1:9/ --synthetic 1 --image-size 512x512 --seed 7 \
  --save-synthetic "$T/src" -n 1 -c 1 --timeout 1s --no-out -q >/dev/null 2>&1
src=$(ls "$T"/src/*.jpg 2>/dev/null | head -1)
[ -n "$src" ] || die "loadgen --save-synthetic made no JPEG"
python3 "$B/payloads.py" "$src" "$T" || die "cannot build the request bodies"

body_of() { case $1 in post100k) echo "$T/body-100k.json" ;; jpeg10k) echo "$T/image-10k.jpg" ;; esac; }
ctype_of() { case $1 in post100k) echo application/json ;; jpeg10k) echo image/jpeg ;; esac; }

# ---- servers ----------------------------------------------------------------
start_nginx() {
  NGINX_PORT=$(free_port)
  NGINX_H2_PORT=$(free_port)
  mkdir -p "$T/nginx"
  cat >"$T/nginx.conf" <<CONF
worker_processes 1;
daemon on;
pid $T/nginx.pid;
error_log $T/nginx-error.log;
worker_rlimit_nofile $want_fds;
events { worker_connections 11000; }
http {
  access_log off;
  client_body_temp_path $T/nginx;
  proxy_temp_path $T/nginx;
  fastcgi_temp_path $T/nginx;
  uwsgi_temp_path $T/nginx;
  scgi_temp_path $T/nginx;
  client_max_body_size 10m;
  client_body_buffer_size 1m;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  server {
    listen 127.0.0.1:$NGINX_PORT backlog=4096;
    listen 127.0.0.1:$NGINX_H2_PORT http2 backlog=4096;
    location = /score {
      default_type application/json;
      return 200 '{"result": [{"label": "tabby", "prob": 0.91}]}';
    }
  }
}
CONF
  taskset -c "$SERVER_CPU" nginx -c "$T/nginx.conf" -p "$T" 2>"$T/nginx.start" ||
    die "nginx does not start: $(cat "$T/nginx.start" "$T/nginx-error.log" 2>/dev/null)"
  for _ in $(seq 50); do [ -s "$T/nginx.pid" ] && break; sleep 0.1; done
  NGINX_URL=http://127.0.0.1:$NGINX_PORT/score
}

stop_nginx() {
  [ -s "$T/nginx.pid" ] && kill "$(cat "$T/nginx.pid")" 2>/dev/null
  for _ in $(seq 50); do [ -e "$T/nginx.pid" ] || break; sleep 0.1; done
  rm -f "$T/nginx.pid"
}

# start_serve ARGS...: `loadgen serve` on the server core; sets SERVE_URL.
start_serve() {
  stop_serve
  taskset -c "$SERVER_CPU" "$SERVE_BIN" serve --port 0 "$@" >"$T/serve.out" 2>"$T/serve.err" &
  SERVE_PID=$!
  local port=""
  for _ in $(seq 100); do
    port=$(head -1 "$T/serve.out" 2>/dev/null | grep -o '[0-9]\+$')
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || die "loadgen serve does not start: $(cat "$T/serve.err")"
  SERVE_BASE=http://127.0.0.1:$port
  SERVE_URL=$SERVE_BASE/predictions/bench
}

stop_serve() {
  [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
  SERVE_PID=""
}

# ---- one client run ---------------------------------------------------------
# client OUT SECONDS CMD...: CMD on the client core, killed if it overruns;
# OUT.time gets "user_s sys_s peak_rss_kb" of the client process.
client() {
  local out=$1 secs=$2; shift 2
  /usr/bin/time -f '%U %S %M' -o "$out.time" \
    timeout -k 5 $((secs + 60)) taskset -c "$CLIENT_CPU" "$@" >"$out" 2>&1
}

# peer_cmd TOOL WORKLOAD CONNS URL JSON: the command line of one run.
peer_cmd() {
  local tool=$1 w=$2 c=$3 url=$4 json=$5 body ctype
  body=$(body_of "$w"); ctype=$(ctype_of "$w")
  case $tool in
    loadgen|candidate)
      echo "$([ "$tool" = loadgen ] && echo "$LG" || echo "$CAND") --url $url -c $c -d ${DUR}s --loops 1 --no-out --json $json -q" \
        "$([ "$w" = get ] && echo "--method GET" || echo "--body-file $body --content-type $ctype")" ;;
    wrk)
      echo "wrk -t1 -c$c -d${DUR}s $([ "$w" = get ] || echo "-s $B/post.lua") $url" ;;
    hey)
      echo "hey -z ${DUR}s -c $c $([ "$w" = get ] || echo "-m POST -D $body -T $ctype") $url" ;;
    h2load)
      echo "h2load --h1 -t1 -c$c -m1 -D $DUR $([ "$w" = get ] || echo "-d $body -H content-type:$ctype") $url" ;;
    ab)
      echo "ab -k -q -c $c -t $DUR -n 5000000 $url" ;;
  esac
}

run_peers() {
  start_nginx
  echo "workload,connections,round,tool,rps,ok,errors,user_s,sys_s,rss_kb,load1" >"$RUNS"
  local w c r tools n i k tool cmd out rps ok errs tm
  for w in $WORKLOADS; do
    export BENCH_BODY; BENCH_BODY=$(body_of "$w")
    export BENCH_CTYPE; BENCH_CTYPE=$(ctype_of "$w")
    for c in $CONNS; do
      tools="loadgen${CAND:+ candidate}"
      for p in $have_peers; do
        [ "$p" = ab ] && [ "$w" != get ] && continue
        tools="$tools $p"
      done
      set -- $tools
      n=$#
      for r in $(seq "$ROUNDS"); do
        for i in $(seq 0 $((n - 1))); do
          k=$(( (i + r - 1) % n + 1 ))
          tool=${!k}
          out=$T/$w-$c-$r-$tool.out
          cmd=$(peer_cmd "$tool" "$w" "$c" "$NGINX_URL" "$out.json")
          note "$w c=$c round $r/$ROUNDS: $tool (load $(load1))"
          client "$out" "$DUR" $cmd
          read -r rps ok errs < <(python3 "$B/parse.py" "${tool/candidate/loadgen}" "$out" "$out.json")
          tm=$(tail -1 "$out.time" 2>/dev/null)
          set -- $tm
          [ $# -eq 3 ] || set -- nan nan nan
          echo "$w,$c,$r,$tool,$rps,$ok,$errs,$1,$2,$3,$(load1)" >>"$RUNS"
          [ "$rps" = nan ] && note "$tool failed: $(tail -3 "$out" | tr '\n' ' ')"
          set -- $tools
        done
      done
    done
  done
  stop_nginx
}

# ---- checks -----------------------------------------------------------------
# check NAME VALUE TARGET MET NOTE: one row of bench-checks.csv (commas become ";")
check() {
  local f out=""
  for f in "$@"; do out="$out${out:+,}${f//,/;}"; done
  echo "$out" >>"$CHECKS"
}

# lgjson FILE EXPR: a figure of levels[0] of a loadgen --json file
lgjson() {
  python3 -c 'import json,sys; l=json.load(open(sys.argv[1]))["levels"][0]; print(eval(sys.argv[2]))' \
    "$1" "$2" 2>/dev/null || echo nan
}
# median X...: the median of numbers (nan when there are none)
median() {
  printf '%s\n' "$@" | sort -g | awk '/^-?[0-9.]+$/ { v[n++] = $1 }
    END { if (!n) print "nan"; else if (n % 2) print v[(n - 1) / 2]; else printf "%.3f\n", (v[n / 2 - 1] + v[n / 2]) / 2 }'
}
within() {
  awk -v v="$1" -v w="$2" -v t="$3" 'BEGIN { d = v - w; if (d < 0) d = -d; print (v ~ /^-?[0-9.]+$/ && d <= t) ? "yes" : "no" }'
}

# h2_versus WHAT C H2LOAD_CMD... -- LOADGEN_CMD...: ROUNDS interleaved runs of
# each on the client core; a check row with the ratio of the best runs.
h2_versus() {
  local what=$1 c=$2; shift 2
  local h2=() best_h=0 best_l=0 h l ratio
  while [ "$1" != -- ]; do h2+=("$1"); shift; done
  shift
  for _ in $(seq "$ROUNDS"); do
    client "$T/h2load.out" "$DUR" "${h2[@]}"
    h=$(awk '/^finished in/ {gsub(/req\/s,?/, "", $4); print $4}' "$T/h2load.out")
    client "$T/lg-h2.out" "$DUR" "$@" --no-out -q --json "$T/lg-h2.json"
    l=$(lgjson "$T/lg-h2.json" 'round(l["throughput_rps"])')
    best_h=$(awk -v a="$best_h" -v b="${h:-0}" 'BEGIN { print (b > a ? b : a) }')
    best_l=$(awk -v a="$best_l" -v b="${l:-0}" 'BEGIN { print (b + 0 > a + 0 ? b : a) }')
  done
  ratio=$(awk -v l="$best_l" -v h="$best_h" 'BEGIN { if (h > 0) printf "%.2f", l / h; else print "nan" }')
  check "$what c=$c m=10: loadgen/h2load req/s" "$ratio" ">= 0.9" \
    "$(awk -v r="$ratio" 'BEGIN { print (r + 0 >= 0.9) ? "yes" : "no" }')" \
    "h2load $best_h req/s; loadgen -c $((c * 10)) --streams 10 $best_l req/s"
}

# HTTP/2 cleartext, many streams on few connections: h2load -c C -m 10
# against loadgen -c 10C --streams 10 (the native h2 transport), GET, one
# client core each, interleaved rounds; the ratio of the best runs.
run_h2() {
  command -v h2load >/dev/null || { note "h2: no h2load (nghttp2-client); skipped"; return; }
  start_nginx
  local url=http://127.0.0.1:$NGINX_H2_PORT/score n=$((DUR * 20000))
  for c in 4 50; do
    h2_versus "h2c GET" "$c" h2load -n "$n" -c "$c" -m 10 "$url" -- \
      "$LG" "$url" --http2-prior-knowledge -n "$n" -c $((c * 10)) --streams 10 --loops 1 -m GET
  done
  stop_nginx
  run_grpc
}

# gRPC: KServe v2 ModelInfer against `loadgen serve --model zero` (answers at
# once), one encoded 64x64 JPEG per call as BYTES: h2load -c C -m 10 with
# the same framed message (built by Debian's python3-grpcio from proto/)
# beside loadgen --format kserve-grpc -c 10C --streams 10.
run_grpc() {
  local PY=/usr/bin/python3 # Debian's, where python3-grpcio lives
  $PY -c 'import grpc_tools' 2>/dev/null || { note "grpc: no python3-grpc-tools; skipped"; return; }
  local stubs=$T/stubs
  mkdir -p "$stubs" "$T/img"
  $PY -m grpc_tools.protoc -I"$HERE/../proto" --python_out="$stubs" \
    "$HERE/../proto/grpc_predict_v2.proto" || { note "grpc: stubs do not build; skipped"; return; }
  "$LG" --synthetic 1 --image-size 64x64 --save-synthetic "$T/img" --url http://127.0.0.1:1/ -n 1 \
    --fail-fast 0 --no-out -q >/dev/null 2>&1
  $PY - "$stubs" "$(ls "$T"/img/*.jpg | head -1)" "$T/grpc-body.bin" <<'PY' || { note "grpc: no body"; return; }
import struct, sys
sys.path.insert(0, sys.argv[1])
import grpc_predict_v2_pb2 as pb
img = open(sys.argv[2], "rb").read()
q = pb.ModelInferRequest(model_name="zero")
q.inputs.append(pb.ModelInferRequest.InferInputTensor(name="INPUT", datatype="BYTES", shape=[1]))
q.raw_input_contents.append(struct.pack("<I", len(img)) + img)
b = q.SerializeToString()
open(sys.argv[3], "wb").write(b"\0" + struct.pack(">I", len(b)) + b)
PY
  start_serve --model zero
  local n=$((DUR * 10000))
  for c in 4 50; do
    h2_versus "gRPC ModelInfer" "$c" h2load -n "$n" -c "$c" -m 10 -d "$T/grpc-body.bin" \
      -H 'content-type: application/grpc' -H 'te: trailers' \
      "$SERVE_BASE/inference.GRPCInferenceService/ModelInfer" -- \
      "$LG" "$SERVE_BASE" --format kserve-grpc --model zero --images "$T/img" -n "$n" \
      -c $((c * 10)) --streams 10 --loops 1
  done
  stop_serve
}

run_accuracy() {
  local jpg=$T/image-10k.jpg o=$T/acc
  local args="--body-file $jpg --content-type image/jpeg --loops 1 --no-out -q"
  # The loopback overhead: one request at a time against a zero-latency server.
  start_serve --model zero
  client "$o-zero" "$CHECK_DUR" "$LG" --url "$SERVE_URL" -c 1 -d "${CHECK_DUR}s" $args --json "$o-zero.json"
  local o50 o99
  o50=$(lgjson "$o-zero.json" 'l["latency_ms"]["p50"]')
  o99=$(lgjson "$o-zero.json" 'l["latency_ms"]["p99"]')
  check "loopback overhead p50 (ms)" "$o50" "" "" "c=1 against loadgen serve --model zero"
  check "loopback overhead p99 (ms)" "$o99" "" "" "c=1 against loadgen serve --model zero"
  # How late a 20 ms sleep wakes up on the server core: the server's timer
  # is late by as much, and no client can see less.
  local w50 w99
  read -r w50 w99 < <(taskset -c "$SERVER_CPU" python3 -c '
import select, time
late = []
for _ in range(200):
    t = time.perf_counter()
    select.select([], [], [], 0.020)
    late.append((time.perf_counter() - t - 0.020) * 1e3)
late.sort()
print(round(late[100], 3), round(late[197], 3))')
  check "20 ms sleep wakes late by p50 (ms)" "$w50" "" "" "server core; p99 $w99 ms"

  # Open loop at 5000/s against the same server, on its cheapest route: the
  # check is of loadgen's pacing, not of the server's capacity.
  client "$o-open" "$CHECK_DUR" "$LG" --url "$SERVE_BASE/ping" --method GET -R 5000 -d "${CHECK_DUR}s" \
    --max-inflight 1000 --loops 1 --no-out -q --json "$o-open.json"
  local got late
  got=$(lgjson "$o-open.json" 'round(l["requests"] / l["duration_s"], 1)')
  late=$(lgjson "$o-open.json" 'round(100.0 * l["late_sends"] / max(l["requests"], 1), 3)')
  check "open loop 5000/s: achieved req/s" "$got" "5000 +-1%" "$(within "$got" 5000 50)" \
    "errors $(lgjson "$o-open.json" 'l["errors"]'), p99 $(lgjson "$o-open.json" 'l["latency_ms"]["p99"]') ms"
  check "open loop 5000/s: late sends (%)" "$late" "" "" "sends starting > 1 ms after their intended time"

  # A fixed 20 ms service: latency = 20 ms + the overhead; throughput by
  # Little's law = in flight / 20 ms. wrk runs beside loadgen, round by
  # round in alternating order, on the same server: issue 14's target is
  # loadgen's p50 within 0.3 ms of wrk's, taken as the median of the
  # rounds' differences.
  start_serve --fixed-latency 20ms
  export BENCH_BODY=$jpg BENCH_CTYPE=image/jpeg
  local c r p50 p99 rps wp50 wp99 d50s d99s lg50s wrk50s
  for c in 1 50; do
    d50s="" d99s="" lg50s="" wrk50s=""
    for r in $(seq "$ROUNDS"); do
      if [ $((r % 2)) = 1 ]; then
        client "$o-fixed$c" "$CHECK_DUR" "$LG" --url "$SERVE_URL" -c $c -d "${CHECK_DUR}s" $args \
          --json "$o-fixed$c.json"
      fi
      : >"$o-wrk$c"
      ! command -v wrk >/dev/null ||
        client "$o-wrk$c" "$CHECK_DUR" wrk -t1 -c$c -d"${CHECK_DUR}s" -s "$B/latency.lua" "$SERVE_URL"
      if [ $((r % 2)) = 0 ]; then
        client "$o-fixed$c" "$CHECK_DUR" "$LG" --url "$SERVE_URL" -c $c -d "${CHECK_DUR}s" $args \
          --json "$o-fixed$c.json"
      fi
      p50=$(lgjson "$o-fixed$c.json" 'l["latency_ms"]["p50"]')
      p99=$(lgjson "$o-fixed$c.json" 'l["latency_ms"]["p99"]')
      read -r wp50 wp99 < <(awk '/^wrk-latency-us/ { print $3 / 1000, $5 / 1000 }' "$o-wrk$c")
      d50s="$d50s $(awk -v a="$p50" -v b="${wp50:-nan}" 'BEGIN { print a - b }')"
      d99s="$d99s $(awk -v a="$p99" -v b="${wp99:-nan}" 'BEGIN { print a - b }')"
      lg50s="$lg50s $p50" wrk50s="$wrk50s ${wp50:-nan}"
    done
    local d50 d99
    d50=$(median $d50s) d99=$(median $d99s)
    check "fixed 20 ms, c=$c: p50 minus wrk's p50 (ms)" "$d50" "+-0.3" "$(within "$d50" 0 0.3)" \
      "$(command -v wrk >/dev/null || echo "not measured: wrk is missing (scripts/install-deps.sh --bench); ")median of $ROUNDS rounds; loadgen p50 $(median $lg50s) ms, wrk $(median $wrk50s) ms"
    check "fixed 20 ms, c=$c: p99 minus wrk's p99 (ms)" "$d99" "" "" "median of $ROUNDS rounds"
    check "fixed 20 ms, c=$c: p50 (ms)" "$p50" "" "" \
      "$(awk -v p="$p50" -v o="$o50" -v w="$w50" 'BEGIN { printf "%.3f ms over 20 + loopback overhead + timer lateness", p - 20 - o - w }')"
  done
  # Little's law: in flight = throughput x mean latency. 2500/s if the
  # server took exactly 20 ms; against the measured mean, it checks that
  # loadgen's count and its clock agree.
  local little dev
  rps=$(lgjson "$o-fixed50.json" 'round(l["throughput_rps"], 1)')
  little=$(lgjson "$o-fixed50.json" 'round(50e3 / l["latency_ms"]["mean"], 1)')
  dev=$(awk -v r="$rps" -v l="$little" 'BEGIN { printf "%.2f", 100 * (r - l) / l }')
  check "fixed 20 ms, c=50: req/s" "$rps" "" "" \
    "2500 needs a server that takes exactly 20 ms; mean latency $(lgjson "$o-fixed50.json" 'round(l["latency_ms"]["mean"], 3)') ms"
  check "fixed 20 ms, c=50: req/s vs 50 / mean latency (%)" "$dev" "+-2" \
    "$(within "$dev" 0 2)" "Little's law predicts $little req/s"
  stop_serve
}

run_scale() {
  local o=$T/scale
  start_serve --model zero
  if [ -n "$FD_NOTE" ]; then
    check "10000 connections: errors" "not run" "0" "no" "$FD_NOTE"
  else
    client "$o-10k" "$CHECK_DUR" "$LG" --url "$SERVE_URL" -c 10000 -d "${CHECK_DUR}s" --loops 1 \
      --body-file "$T/image-10k.jpg" --content-type image/jpeg --timeout 60s --no-out -q --json "$o-10k.json"
    local errs lrps wrps werrs
    errs=$(lgjson "$o-10k.json" 'l["errors"]')
    lrps=$(lgjson "$o-10k.json" 'round(l["throughput_rps"])')
    check "10000 connections: errors" "$errs" "0" "$([ "$errs" = 0 ] && echo yes || echo no)" \
      "$(lgjson "$o-10k.json" 'l["requests"]') requests, $lrps req/s, p99 $(lgjson "$o-10k.json" 'l["latency_ms"]["p99"]') ms, peak RSS $(( $(tail -1 "$o-10k.time" | cut -d' ' -f3) / 1024 )) MB"
    # The same with wrk: issue 14 wants at least 0.8x its requests/s.
    if command -v wrk >/dev/null; then
      BENCH_BODY=$T/image-10k.jpg BENCH_CTYPE=image/jpeg client "$o-10k-wrk" "$CHECK_DUR" \
        wrk -t1 -c10000 -d"${CHECK_DUR}s" --timeout 60s -s "$B/post.lua" "$SERVE_URL"
      read -r wrps _ werrs < <(python3 "$B/parse.py" wrk "$o-10k-wrk")
      local r10k
      r10k=$(awk -v l="$lrps" -v w="$wrps" 'BEGIN { if (w > 0) printf "%.2f", l / w; else print "nan" }')
      check "10000 connections: req/s vs wrk" "$r10k" ">= 0.8" \
        "$(awk -v r="$r10k" 'BEGIN { print (r + 0 >= 0.8) ? "yes" : "no" }')" \
        "loadgen $lrps req/s; wrk $wrps req/s with $werrs errors"
    fi
  fi

  # Memory: 1000 images, pre-encoded as JSON, and 5000 connections.
  "$LG" --url http://127.0.0.1:9/ --synthetic 1000 --save-synthetic "$T/corpus" -n 1 -c 1 --timeout 1s \
    --no-out -q >/dev/null 2>&1
  local enc_mb
  enc_mb=$(python3 -c '
import os, sys
d = sys.argv[1]
n = sum(len("{\"input\": \"\"}") + (os.path.getsize(os.path.join(d, f)) + 2) // 3 * 4 for f in os.listdir(d))
print(round(n / 2**20, 1))' "$T/corpus")
  client "$o-rss" "$CHECK_DUR" "$LG" --url "$SERVE_BASE/score" -c 5000 -d "${CHECK_DUR}s" \
    --loops 1 --images "$T/corpus" --format json-b64 --timeout 60s --no-out -q --json "$o-rss.json"
  local rss_mb limit
  rss_mb=$(awk '{ printf "%.1f", $3 / 1024 }' <<<"$(tail -1 "$o-rss.time")")
  limit=$(awk -v e="$enc_mb" 'BEGIN { printf "%.1f", 1.5 * e + 32 }')
  check "peak RSS, 1000 images x 5000 conns (MB)" "$rss_mb" "<= 1.5 x $enc_mb + 32 = $limit" \
    "$(awk -v r="$rss_mb" -v l="$limit" 'BEGIN { print (r != "" && r + 0 <= l + 0) ? "yes" : "no" }')" \
    "corpus pre-encoded $enc_mb MB; errors $(lgjson "$o-rss.json" 'l["errors"]') of $(lgjson "$o-rss.json" 'l["requests"]')"
  stop_serve
}

# ---- main -------------------------------------------------------------------
echo "name,value,target,met,note" >"$CHECKS"
DID_PEERS=0
START=$(date +%s)
for part in $PARTS; do
  case $part in
    peers) run_peers; DID_PEERS=1 ;;
    accuracy) run_accuracy ;;
    scale) run_scale ;;
    h2) run_h2 ;;
    *) die "BENCH_PARTS: unknown part '$part' (peers, accuracy, scale, h2)" ;;
  esac
done

echo "# loadgen bench: $(date -u +%Y-%m-%dT%H:%MZ), $("$LG" --version 2>/dev/null | head -1)"
echo
echo "$ROUNDS round(s) of ${DUR} s per tool; client on core $CLIENT_CPU, server on core $SERVER_CPU" \
  "of $NCPU; load average $LOAD_START at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end;" \
  "$(( $(date +%s) - START )) s in all."
echo
if [ "$DID_PEERS" = 1 ]; then
  python3 "$B/summarize.py" "$RUNS" "$RES/bench.csv" "$CHECKS"
else
  python3 "$B/summarize.py" /dev/null /dev/null "$CHECKS"
fi
