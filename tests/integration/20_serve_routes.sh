#!/usr/bin/env bash
# loadgen serve as an HTTP/1.1 server, driven with curl, a raw socket and
# loadgen: every route answers 200 in its protocol's shape; wrong content
# types are 415; bad JSON, bad base64 and non-image bytes are 400; bodies
# past --max-body are 413 (with and without Expect: 100-continue); keep-alive,
# pipelining and chunked bodies work; flags fail with one line and exit 2;
# SIGINT/SIGTERM exit 0.
. "$(dirname "$0")/lib.sh"

python3 - "$T" <<'PY'
import base64, json, struct, sys
t = sys.argv[1]
jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + bytes(range(256)) * 4 + b"\xff\xd9"
png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
b64 = base64.b64encode(jpeg).decode()
open(f"{t}/img.jpg", "wb").write(jpeg)
open(f"{t}/img.png", "wb").write(png)
open(f"{t}/text.bin", "wb").write(b"plain text, not an image")
def w(name, obj): open(f"{t}/{name}", "w").write(json.dumps(obj))
w("score.json", {"input": b64})
w("score_nested.json", {"input": {"image": b64}})
w("score_text.json", {"input": base64.b64encode(b"plain text").decode()})
w("score_badb64.json", {"input": "not*base64!"})
w("v1.json", {"instances": [{"b64": b64}, {"b64": b64}]})
w("v2.json", {"inputs": [{"name": "INPUT", "shape": [1], "datatype": "BYTES", "data": [b64]}]})
w("v2cls.json", {"inputs": [{"name": "INPUT", "shape": [1], "datatype": "BYTES", "data": [b64]}],
                 "outputs": [{"name": "predictions", "parameters": {"classification": 3}}]})
el = struct.pack("<I", len(jpeg)) + jpeg
hdr = json.dumps({"inputs": [{"name": "INPUT", "shape": [2], "datatype": "BYTES",
                              "parameters": {"binary_data_size": 2 * len(el)}}]}).encode()
open(f"{t}/v2.bin", "wb").write(hdr + el + el)
open(f"{t}/v2.hlen", "w").write(str(len(hdr)))
open(f"{t}/big.json", "w").write(json.dumps({"input": b64 * 4}))
PY

start_serve --model zero
U=http://127.0.0.1:$SERVE_PORT
# post PATH CONTENT-TYPE FILE [CURL ARGS]: prints "STATUS BODY"
post() {
  local path=$1 ct=$2 file=$3; shift 3
  curl -s -o "$T/body" -w '%{http_code}' -X POST -H "Content-Type: $ct" --data-binary "@$file" "$@" "$U$path"
  printf ' %s' "$(cat "$T/body")"
}
# has JSON-PATH: the body in $T/body has that key path (a.b.0.c)
has() {
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): d = d[int(k)] if isinstance(d, list) else d[k]' "$T/body" "$1" 2>/dev/null
}

first=$(head -1 "$T"/serve.*.out)
expect_eq "first stdout line names the address" "$first" "loadgen serve: listening on 127.0.0.1:$SERVE_PORT"

# --- each route, good bodies ---------------------------------------------------
r=$(post /score application/json "$T/score.json"); expect_eq "POST /score: 200" "${r%% *}" 200
check "POST /score: result is 3 [label, prob] pairs" has result.2.1
check "POST /score: time_ms" has time_ms
hdr=$(curl -s -D - -o /dev/null -X POST -H 'Content-Type: application/json' --data-binary "@$T/score.json" "$U/score")
check "POST /score: X-Inference-Time-Ms header" grep -qi '^X-Inference-Time-Ms: [0-9.]*' <<<"$hdr"
r=$(post /score "application/json; charset=utf-8" "$T/score_nested.json"); expect_eq "POST /score nested input, charset: 200" "${r%% *}" 200
r=$(post /v1/models/resnet50:predict application/json "$T/v1.json"); expect_eq "POST /v1/models/NAME:predict: 200" "${r%% *}" 200
check "V1: one prediction per instance" has predictions.1.scores.0
r=$(post /v2/models/resnet50/infer application/json "$T/v2.json"); expect_eq "POST /v2/models/NAME/infer JSON: 200" "${r%% *}" 200
check "V2: the output tensor, 1000 probabilities an image" has outputs.0.data.999
check "V2: named and typed as the metadata says (predictions, FP32)" grep -q '"name": "predictions", "shape": \[1, 1000\], "datatype": "FP32"' "$T/body"
check "V2: model_name echoed" grep -q '"model_name": "resnet50"' "$T/body"
r=$(post /v2/models/resnet50/infer application/json "$T/v2cls.json"); expect_eq "V2 asking for classification 3: 200" "${r%% *}" 200
check "V2 classification: the top 3 as Triton's strings, BYTES [1, 3]" \
  grep -q '"shape": \[1, 3\], "datatype": "BYTES", "data": \["0.412:281:tabby", ' "$T/body"
r=$(post /v2/models/resnet50/infer application/octet-stream "$T/v2.bin" -H "Inference-Header-Content-Length: $(cat "$T/v2.hlen")")
expect_eq "POST /v2 binary extension: 200" "${r%% *}" 200
check "V2 binary: 2 images, shape [2, 1000]" grep -q '"shape": \[2, 1000\]' "$T/body"
r=$(post /predictions/resnet50 image/jpeg "$T/img.jpg"); expect_eq "POST /predictions/NAME raw JPEG: 200" "${r%% *}" 200
check "TorchServe: label -> probability" has tabby
code=$(curl -s -o "$T/body" -w '%{http_code}' -F "data=@$T/img.png" "$U/predictions/resnet50")
expect_eq "POST /predictions/NAME multipart: 200" "$code" 200
check "TorchServe multipart: label -> probability" has tiger_cat
code=$(curl -s -o "$T/body" -w '%{http_code}' "$U/"); expect_eq "GET /: 200" "$code" 200
check "GET /: status Healthy" grep -q Healthy "$T/body"
code=$(curl -s -o /dev/null -w '%{http_code}' "$U/v2/health/ready"); expect_eq "GET /v2/health/ready: 200" "$code" 200

# --- refusals -------------------------------------------------------------------
r=$(post /score text/plain "$T/score.json"); expect_eq "POST /score text/plain: 415" "${r%% *}" 415
r=$(post /predictions/m application/json "$T/score.json"); expect_eq "POST /predictions JSON: 415" "${r%% *}" 415
r=$(post /v1/models/m:predict application/x-www-form-urlencoded "$T/v1.json"); expect_eq "POST /v1 form: 415" "${r%% *}" 415
printf '{"input": "abc' >"$T/trunc.json"
r=$(post /score application/json "$T/trunc.json"); expect_eq "bad JSON: 400" "${r%% *}" 400
check "bad JSON: a JSON error body" has error
r=$(post /score application/json "$T/score_badb64.json"); expect_eq "bad base64: 400" "${r%% *}" 400
r=$(post /score application/json "$T/score_text.json"); expect_eq "non-image bytes in JSON: 400" "${r%% *}" 400
check "non-image: says not an image" grep -q "not an image" "$T/body"
r=$(post /predictions/m image/jpeg "$T/text.bin"); expect_eq "non-image raw bytes: 400" "${r%% *}" 400
code=$(curl -s -o /dev/null -w '%{http_code}' "$U/nowhere"); expect_eq "unknown path: 404" "$code" 404
code=$(curl -s -o /dev/null -w '%{http_code}' "$U/score"); expect_eq "GET /score: 405" "$code" 405

# --- protocol -------------------------------------------------------------------
n=$(curl -s -o /dev/null -o /dev/null -w '%{num_connects}\n' "$U/" "$U/" | tr '\n' ' ')
expect_eq "keep-alive: the second request reuses the connection" "$n" "1 0 "
code=$(curl -s -o "$T/body" -w '%{http_code}' -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' \
  --data-binary "@$T/score.json" "$U/score")
expect_eq "chunked body: 200" "$code" 200
pipelined=$(python3 - "$SERVE_PORT" "$T/score.json" <<'PY'
import re, socket, sys
body = open(sys.argv[2], "rb").read()
reqs = (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        + b"POST /score HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % len(body) + body
        + b"POST /score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body
        + b"GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(reqs)
data = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    data += d
print(" ".join(c.decode() for c in re.findall(rb"HTTP/1\.1 (\d{3}) ", data)))
PY
)
expect_eq "pipelined requests answered in order, then closed" "$pipelined" "200 415 200 404"
http10=$(printf 'GET / HTTP/1.0\r\n\r\n' | timeout 5 python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); s.sendall(sys.stdin.buffer.read())
d = b""
while True:
    x = s.recv(4096)
    if not x: break
    d += x
print(d.split(b"\r\n")[0].decode())' "$SERVE_PORT")
expect_eq "HTTP/1.0 request answered, then closed" "$http10" "HTTP/1.1 200 OK"

# --- loadgen drives every format against its route -------------------------------
for f in "json-b64 /score" "raw /predictions/m" "multipart /predictions/m" "tfserving /v1/models/m:predict" \
         "kserve-v2 /v2/models/m/infer" "kserve-v2-binary /v2/models/m/infer"; do
  set -- $f
  lg --url "$U$2" --format "$1" -c 4 -n 40 --synthetic 8 --out "$T/$1.csv" -q >/dev/null 2>"$T/$1.err"
  expect_eq "loadgen --format $1 -> $2: 40 ok" "$(csv_col "$T/$1.csv" ok)" 40
done
for f in "tfserving /v1/models/m:predict" "kserve-v2 /v2/models/m/infer" "multipart /predictions/m"; do
  set -- $f
  lg --url "$U$2" --format "$1" --batch 4 -c 2 -n 10 --synthetic 8 --out "$T/b$1.csv" -q >/dev/null 2>"$T/b$1.err"
  expect_eq "loadgen --format $1 --batch 4: 10 ok" "$(csv_col "$T/b$1.csv" ok)" 10
done

# --- limits ---------------------------------------------------------------------
start_serve --model zero --max-body 1KiB
U=http://127.0.0.1:$SERVE_PORT
r=$(post /score application/json "$T/big.json"); expect_eq "body past --max-body: 413" "${r%% *}" 413
r=$(post /score application/json "$T/big.json" -H 'Expect: 100-continue'); expect_eq "past --max-body with Expect: 100-continue: 413" "${r%% *}" 413
r=$(post /score application/json "$T/big.json" -H 'Transfer-Encoding: chunked'); expect_eq "chunked past --max-body: 413" "${r%% *}" 413
cont=$(curl -sv -o /dev/null -H 'Expect: 100-continue' -H 'Content-Type: application/json' \
  --data-binary "@$T/score_text.json" "$U/score" 2>&1 | grep -o '^< HTTP/1.1 [0-9]*' | tr '\n' ' ')
expect_eq "under --max-body with Expect: 100-continue: 100 then the answer" "$cont" "< HTTP/1.1 100 < HTTP/1.1 400 "

# --- flags and signals ------------------------------------------------------------
err=$("$LOADGEN" serve --replicas abc 2>&1 >/dev/null); rc=$?
expect_eq "--replicas abc: exit 2" "$rc" 2
expect_eq "--replicas abc: one line naming it" "$err" "loadgen serve: --replicas abc: not a whole number; write e.g. 1000 or 10k"
err=$("$LOADGEN" serve --model nope --port 0 2>&1 >/dev/null); rc=$?
expect_eq "--model nope: exit 2" "$rc" 2
check "--model nope: lists the models" grep -q "choose one of mobilenet_v2" <<<"$err"
"$LOADGEN" serve --help | grep -q -- "--fixed-latency"; expect_eq "--help: exit 0 and lists the flags" "$?" 0
for sig in INT TERM; do
  out=$T/sig.$sig
  "$LOADGEN" serve --port 0 --model zero >"$out" 2>"$out.err" &
  pid=$!
  for _ in $(seq 100); do [ -s "$out" ] && break; sleep 0.05; done
  port=$(head -1 "$out" | grep -o '[0-9]*$')
  curl -s -o /dev/null "http://127.0.0.1:$port/"   # leaves a keep-alive connection behind
  kill -$sig $pid; wait $pid; rc=$?
  expect_eq "SIG$sig: exit 0 with every handle closed" "$rc/$(cat "$out.err" | grep -c 'left open')" "0/0"
done
