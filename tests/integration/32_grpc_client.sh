#!/usr/bin/env bash
# loadgen as a gRPC client (--format kserve-grpc / tfserving-grpc) over
# libcurl, TLS and ALPN h2, through Debian's nginx (grpc_pass) in front of
# `loadgen serve`: BYTES images, FP32 tensors from the model's metadata, TF
# Predict; every reply classed by its grpc-status (from the trailers, or
# the headers of a Trailers-Only reply), non-zero codes counted in the text
# and the JSON; serve's own counters agree; many streams on few
# connections; bad input refused before anything is sent.
. "$(dirname "$0")/lib.sh"

make_cert

M=resnet50
# Every answer of the failing serve fails, GET / too: its counters are read
# from its --stats line.
start_serve --model $M --fixed-latency 2ms --input-px 32 --fail-rate 1 --fail-status 503 --stats
FAILING=$SERVE_PORT
FAIL_ERR=$(ls "$T"/serve.*.err)
start_serve --model $M --fixed-latency 2ms --input-px 32
GOOD=$SERVE_PORT
DEAD=$(free_port)   # nothing listens: nginx answers 502 itself

# One TLS server per upstream: gRPC to serve, and the REST metadata route
# (GET /v2/models/NAME, which loadgen reads for what the flags leave out)
# to serve's HTTP/1.1 on the same port.
PORTS=()
servers=""
for up in $GOOD $FAILING $DEAD; do
  p=$(free_port); PORTS+=("$p")
  servers+="
  server {
    listen 127.0.0.1:$p ssl http2;
    ssl_certificate $T/cert.pem;
    ssl_certificate_key $T/key.pem;
    location / { grpc_pass grpc://127.0.0.1:$up; }
    location /v2/ { proxy_pass http://127.0.0.1:$up; }
  }"
done
nginx_http "access_log $T/access.log conn; $servers"
URL=https://127.0.0.1:${PORTS[0]}
FAIL_URL=https://127.0.0.1:${PORTS[1]}
DEAD_URL=https://127.0.0.1:${PORTS[2]}
RUN=(-c 10 -n 200 --synthetic 20 --image-size 32x32 --cacert "$T/cert.pem" -q)

# grpc_requests and grpc_errors from serve's GET /
serve_counts() {
  curl -s "http://127.0.0.1:$1/" | python3 -c \
    'import json,sys; d=json.load(sys.stdin); print(d["grpc_requests"], d["grpc_errors"])'
}
# jq-free reads of the JSON result's first level
jget() { python3 -c 'import json,sys; l=json.load(open(sys.argv[1]))["levels"][0]
v=l
for k in sys.argv[2].split("."): v=v.get(k, 0) if isinstance(v, dict) else 0
print(v)' "$1" "$2"; }

# ---- ok replies -------------------------------------------------------------
lg "$URL" --format kserve-grpc --model $M --input-name input_1 "${RUN[@]}" \
  --out "$T/bytes.csv" --json "$T/bytes.json" >"$T/bytes.out" 2>&1
expect_eq "kserve-grpc, BYTES images: exit 0, 200 requests, ok 200" \
  "$?,$(csv_col "$T/bytes.csv" requests),$(csv_col "$T/bytes.csv" ok)" "0,200,200"
expect_eq "... the target is the method's path" "$(csv_col "$T/bytes.csv" target)" \
  "$URL/inference.GRPCInferenceService/ModelInfer"
expect_eq "... JSON: grpc_statuses OK 200, class grpc 0" \
  "$(jget "$T/bytes.json" grpc_statuses.OK),$(jget "$T/bytes.json" classes.grpc)" "200,0"
expect_eq "... nginx saw 200 POSTs of ModelInfer in HTTP/2" \
  "$(grep -c '"POST /inference.GRPCInferenceService/ModelInfer HTTP/2.0" 200' "$T/access.log")" 200

lg "$URL" --format kserve-grpc --model $M --datatype FP32 --normalize unit "${RUN[@]}" \
  --out "$T/fp32.csv" >"$T/fp32.out" 2>&1
expect_eq "kserve-grpc, FP32 tensors with the shape and name from the metadata: exit 0, ok 200" \
  "$?,$(csv_col "$T/fp32.csv" ok)" "0,200"
check "... the metadata was read over gRPC (ModelMetadata) through nginx" \
  grep -q "\"POST /inference.GRPCInferenceService/ModelMetadata HTTP/2.0\" 200" "$T/access.log"

lg "$URL" --format tfserving-grpc --model $M --input-name input_1 --batch 2 "${RUN[@]}" \
  --out "$T/tf.csv" >"$T/tf.out" 2>&1
expect_eq "tfserving-grpc, 2 images a request: exit 0, ok 200, 400 images" \
  "$?,$(csv_col "$T/tf.csv" ok),$(csv_col "$T/tf.csv" images)" "0,200,400"
expect_eq "... nginx saw 200 Predict calls" \
  "$(grep -c '"POST /tensorflow.serving.PredictionService/Predict HTTP/2.0" 200' "$T/access.log")" 200

# --streams 10: 40 in flight share a few HTTP/2 connections.
: >"$T/access.log"
lg "$URL" --format kserve-grpc --model $M --input-name input_1 "${RUN[@]}" -c 40 --loops 1 \
  --streams 10 --out "$T/streams.csv" >"$T/streams.out" 2>&1
expect_eq "--streams 10: exit 0, ok 200" "$?,$(csv_col "$T/streams.csv" ok)" "0,200"
# (fewer than 4 when replies come back before all 40 are out, as under a
# sanitizer; without --streams it is 40)
expect_range "--streams 10: 40 in flight on a few connections, not 40" \
  "$(awk '{print $1}' "$T/access.log" | sort -u | wc -l)" 1 8

# (800 inferences and the FP32 run's one ModelMetadata call)
expect_eq "serve counted every call, none failed" "$(serve_counts $GOOD)" "801 0"

# ---- error replies ----------------------------------------------------------
lg "$FAIL_URL" --format kserve-grpc --model $M --input-name input_1 "${RUN[@]}" -n 50 \
  --no-out --json "$T/fail.json" -q >"$T/fail.out" 2>&1
expect_eq "serve --fail-rate 1 --fail-status 503: exit 3 (nothing ok)" "$?" 3
check "... text: every request in class grpc" grep -q "^  errors         grpc 50$" "$T/fail.out"
check "... text: grpc statuses UNAVAILABLE(14) x50" grep -q "^  grpc statuses  UNAVAILABLE(14) x50$" "$T/fail.out"
check "... text: the first error is serve's grpc-message" \
  grep -q "first errors   grpc-status 14 UNAVAILABLE: " "$T/fail.out"
expect_eq "... JSON: classes.grpc 50, grpc_statuses.UNAVAILABLE 50, statuses 200: 50" \
  "$(jget "$T/fail.json" classes.grpc),$(jget "$T/fail.json" grpc_statuses.UNAVAILABLE),$(jget "$T/fail.json" statuses.200)" \
  "50,50,50"
sleep 1.2   # the next --stats line
expect_eq "... serve counted 50 calls, 50 failed" \
  "$(grep -o 'grpc [0-9]* (non-zero status [0-9]*)' "$FAIL_ERR" | tail -1)" "grpc 50 (non-zero status 50)"

lg "$URL" --format kserve-grpc --model nosuch --input-name input_1 "${RUN[@]}" -n 20 \
  --no-out --json "$T/nf.json" >"$T/nf.out" 2>&1
expect_eq "an unknown model: exit 3, NOT_FOUND x20" \
  "$?,$(jget "$T/nf.json" grpc_statuses.NOT_FOUND)" "3,20"
check "... text: NOT_FOUND(5) x20" grep -q "grpc statuses  NOT_FOUND(5) x20" "$T/nf.out"

lg "$URL" --format kserve-grpc --model $M --datatype FP32 --shape 1,16,16,3 "${RUN[@]}" -n 20 \
  --no-out --json "$T/shape.json" >"$T/shape.out" 2>&1
expect_eq "a shape serve's model does not take: exit 3, INVALID_ARGUMENT x20" \
  "$?,$(jget "$T/shape.json" grpc_statuses.INVALID_ARGUMENT)" "3,20"
check "... serve's message names the shape" grep -q "first errors   grpc-status 3 INVALID_ARGUMENT: .*shape" "$T/shape.out"

expect_eq "serve's counters agree: 840 inferences + 2 ModelMetadata calls, 40 failed" \
  "$(serve_counts $GOOD)" "842 40"

# nginx answers 502 itself when its upstream is down: the HTTP class is
# kept, and the code a gRPC client would infer (UNAVAILABLE) is counted.
lg "$DEAD_URL" --format kserve-grpc --model $M --input-name input_1 "${RUN[@]}" -n 10 \
  --no-out --json "$T/dead.json" >"$T/dead.out" 2>&1
expect_eq "upstream down (nginx 502): class http_5xx 10, grpc_statuses.UNAVAILABLE 10" \
  "$(jget "$T/dead.json" classes.http_5xx),$(jget "$T/dead.json" grpc_statuses.UNAVAILABLE)" "10,10"

# ---- bad input: exit 2, one line, nothing sent -------------------------------
: >"$T/access.log"
bad() { # NAME WANT_TEXT ARGS...: exit 2, one line containing WANT_TEXT
  local name=$1 want=$2; shift 2
  lg "$@" -n 5 --no-out -q --cacert "$T/cert.pem" --synthetic 2 --image-size 32x32 >"$T/bad.out" 2>&1
  local rc=$?
  expect_eq "$name: exit 2, one line" "$rc,$(wc -l <"$T/bad.out")" "2,1"
  grep -q -- "$want" "$T/bad.out" || fail "$name: says '$want'" "$(cat "$T/bad.out")"
}
bad "a gRPC URL with a path" "a gRPC URL is the server's address" \
  "$URL/v2/models/$M/infer" --format kserve-grpc --model $M
bad "a gRPC URL with a query" "drop the path and query" "$URL/?x=1" --format kserve-grpc --model $M
bad "no --model" "no --model" "$URL" --format tfserving-grpc
bad "--model-version with tfserving-grpc" "tfserving-grpc sends no version" \
  "$URL" --format tfserving-grpc --model $M --model-version 2
bad "--model-version with a REST format" "only kserve-grpc sends a version" \
  "$URL/v2/models/$M/infer" --format kserve-v2 --model $M --model-version 2
bad "--expect-json with gRPC" "drop --expect-status, --expect-json" \
  "$URL" --format kserve-grpc --model $M --expect-json outputs
bad "--http2 on http:// with gRPC" "give --http2-prior-knowledge or https://" \
  "http://127.0.0.1:$GOOD" --format kserve-grpc --model $M --http2
bad "gRPC on http:// through libcurl 7.88 (--engine curl)" "curl issue 10634" \
  "http://127.0.0.1:$GOOD" --format kserve-grpc --model $M --engine curl
echo '{"data":[{"A":{"content":[1],"shape":[1]},"B":{"content":[2],"shape":[1]}}]}' >"$T/two.json"
lg "$URL" --format kserve-grpc --model $M --input-data "$T/two.json" --datatype FP32 -n 5 --no-out -q \
  >"$T/bad.out" 2>&1
expect_eq "two inputs from --input-data: exit 2, one line" "$?,$(wc -l <"$T/bad.out")" "2,1"
check "... says a gRPC message carries one input" grep -q "loadgen's gRPC messages carry one" "$T/bad.out"
expect_eq "bad input sent nothing to nginx" "$(wc -l <"$T/access.log")" 0
expect_eq "... nor to serve" "$(serve_counts $GOOD)" "842 40"

# The help says what a gRPC format needs.
"$LOADGEN" --help >"$T/help.out" 2>&1
check "--help: the gRPC formats imply HTTP/2" grep -q -- "HTTP/2 is implied" "$T/help.out"

expect_eq "no sanitizer report from any serve or client" \
  "$(cat "$T"/serve.*.err "$T"/*.out | grep -c 'Sanitizer\|runtime error')" 0

# h2c straight to serve: the native HTTP/2 transport (libcurl 7.88 cannot
# reuse prior-knowledge connections), many streams on few connections,
# images and tensors, classes from the trailers as over TLS.
lg "http://127.0.0.1:$GOOD" --format kserve-grpc --model $M -c 40 --streams 10 -n 400 --synthetic 4 \
  --image-size 32x32 --json "$T/h2c.json" --no-out -q >"$T/h2c.out" 2>&1
expect_eq "h2c kserve-grpc BYTES: exit 0" "$?" 0
check "h2c: the native HTTP/2 engine ran, 400 ok" python3 -c '
import json, sys; d = json.load(open(sys.argv[1])); l = d["levels"][0]
sys.exit(not (l["classes"]["ok"] == 400 and l.get("engine", d.get("engine")) == "native-h2"))' "$T/h2c.json"
lg "http://127.0.0.1:$GOOD" --format kserve-grpc --model $M -c 8 -n 100 --datatype FP32 --normalize imagenet \
  --synthetic 2 --image-size 32x32 --no-out -q >"$T/h2c-fp32.out" 2>&1
expect_eq "h2c kserve-grpc FP32, input and shape from gRPC ModelMetadata: exit 0" "$?" 0
lg "http://127.0.0.1:$GOOD" --format kserve-grpc --model nosuch -n 5 --datatype FP32 --synthetic 1 \
  --image-size 32x32 --no-out -q >"$T/h2c-meta.out" 2>&1
expect_eq "ModelMetadata of an unknown model: exit 2" "$?" 2
check "... naming NOT_FOUND and what to do" grep -q "(model nosuch): NOT_FOUND: .*check --model" "$T/h2c-meta.out"
lg "http://127.0.0.1:$FAILING" --format kserve-grpc --model $M -c 4 -n 20 --synthetic 2 --image-size 32x32 \
  --no-out -q >"$T/h2c-bad.out" 2>&1
expect_eq "h2c against a failing serve: exit 3" "$?" 3
check "h2c: grpc-status from the trailers, counted by name" grep -q "grpc statuses  UNAVAILABLE(14) x20" "$T/h2c-bad.out"
