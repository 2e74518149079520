#!/usr/bin/env bash
# loadgen serve answers gRPC over h2c on its HTTP/1.1 port: KServe v2
# (ModelInfer, metadata, liveness) and TF Serving Predict, driven by a real
# gRPC peer (Debian's python3-grpcio, stubs generated here from proto/ with
# grpc_tools.protoc), by h2load and nghttp (nghttp2-client), and by
# hand-made frames for the hostile cases. The model's metadata is the same
# over gRPC and REST; the same faults and limits apply.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3   # Debian's, where python3-grpcio lives
STUBS=$T/stubs
mkdir -p "$STUBS"
check "python stubs generate from proto/" \
  "$PY" -m grpc_tools.protoc -I"$ROOT/proto" --python_out="$STUBS" --grpc_python_out="$STUBS" \
  "$ROOT/proto/grpc_predict_v2.proto" "$ROOT/proto/tensorflow_serving/apis/predict.proto" \
  "$ROOT/proto/tensorflow_serving/apis/model.proto" "$ROOT/proto/tensorflow/core/framework/tensor.proto" \
  "$ROOT/proto/tensorflow/core/framework/tensor_shape.proto" "$ROOT/proto/tensorflow/core/framework/types.proto"
call() { "$PY" "$ROOT/tests/integration/grpc_client.py" "$STUBS" "$SERVE_PORT" "$@" 2>&1; }
# first WORD of a call's line: OK or the status name
code() { call "$@" | head -1 | cut -d' ' -f1; }

start_serve --model mobilenet_v2 --fixed-latency 2ms --idle-timeout 2s --body-timeout 1s --max-images 8
M=mobilenet_v2

expect_eq "ServerLive" "$(call live)" "OK live=True"
expect_eq "ServerReady" "$(call ready)" "OK ready=True"
expect_eq "ModelReady of the model" "$(call model-ready $M)" "OK ready=True"
for n in 1 3 8; do
  expect_eq "ModelInfer FP32 raw, $n image(s): output [$n, 1000] FP32, id echoed" "$(call infer $M $n)" \
    "OK model=$M id=req-1 output=predictions FP32 shape=$n,1000 bytes=$((n * 4000))"
done
expect_eq "ModelInfer FP32 in fp32_contents" "$(call infer $M 2 FP32 - input_1 typed)" \
  "OK model=$M id=req-1 output=predictions FP32 shape=2,1000 bytes=8000"
expect_eq "ModelInfer BYTES of JPEGs, raw" "$(call infer $M 3 BYTES)" \
  "OK model=$M id=req-1 output=predictions FP32 shape=3,1000 bytes=12000"
expect_eq "ModelInfer BYTES of JPEGs, bytes_contents" "$(call infer $M 2 BYTES - input_1 typed)" \
  "OK model=$M id=req-1 output=predictions FP32 shape=2,1000 bytes=8000"
for dt in FP16 UINT8 INT64; do
  expect_eq "ModelInfer $dt raw is accepted" "$(code infer $M 1 $dt)" OK
done
expect_eq "TF Predict FP32: predictions [2, 1000] DT_FLOAT" "$(call predict $M 2)" \
  "OK model=$M version=1 output=DT_FLOAT shape=2,1000 bytes=8000"
expect_eq "TF Predict DT_STRING of JPEGs" "$(call predict $M 1 BYTES)" \
  "OK model=$M version=1 output=DT_FLOAT shape=1,1000 bytes=4000"

# The metadata: gRPC ModelMetadata and REST GET /v2/models/NAME agree.
grpc_meta=$(call metadata $M | sed 's/^OK //')
rest_meta=$(curl -s "http://127.0.0.1:$SERVE_PORT/v2/models/$M" | "$PY" -c 'import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True))')
expect_eq "ModelMetadata equals REST GET /v2/models/NAME" "$grpc_meta" "$rest_meta"
check "the metadata says input_1 FP32 [-1, 224, 224, 3]" grep -q '"datatype": "FP32", "name": "input_1", "shape": \[-1, 224, 224, 3\]' <<<"$grpc_meta"
rest_v=$(curl -s "http://127.0.0.1:$SERVE_PORT/v2/models/$M/versions/1" | "$PY" -c 'import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True))')
expect_eq "REST /v2/models/NAME/versions/1 is the same" "$rest_v" "$rest_meta"
expect_eq "REST metadata of another model: 404" \
  "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SERVE_PORT/v2/models/resnet50")" 404

# Wrong calls and their codes.
expect_eq "unknown model: NOT_FOUND (ModelInfer)" "$(code infer resnet50 1)" NOT_FOUND
expect_eq "unknown model: NOT_FOUND (ModelMetadata)" "$(code metadata resnet50)" NOT_FOUND
expect_eq "unknown model: NOT_FOUND (ModelReady)" "$(code model-ready resnet50)" NOT_FOUND
expect_eq "unknown model: NOT_FOUND (Predict)" "$(code predict resnet50 1)" NOT_FOUND
expect_eq "wrong shape [1,100,100,3]: INVALID_ARGUMENT" "$(code infer $M 1 FP32 1,100,100,3)" INVALID_ARGUMENT
expect_eq "negative dimension: INVALID_ARGUMENT" "$(code infer $M 1 FP32 -1,224,224,3)" INVALID_ARGUMENT
expect_eq "absurd dimension: INVALID_ARGUMENT" "$(code infer $M 1 FP32 4294967296,224,224,3 input_1 empty)" INVALID_ARGUMENT
expect_eq "wrong datatype FP64: INVALID_ARGUMENT" "$(code infer $M 1 FP64)" INVALID_ARGUMENT
expect_eq "wrong datatype FP64 in Predict: INVALID_ARGUMENT" "$(code predict $M 1 FP64)" INVALID_ARGUMENT
expect_eq "wrong input name: INVALID_ARGUMENT" "$(code infer $M 1 FP32 - images)" INVALID_ARGUMENT
expect_eq "data one element short: INVALID_ARGUMENT" "$(code infer $M 1 FP32 - input_1 short)" INVALID_ARGUMENT
r=$(call infer $M 9 BYTES)
expect_eq "more images than --max-images: INVALID_ARGUMENT" "${r%% *}" INVALID_ARGUMENT
check "  ... whose message names --max-images" grep -q -- "--max-images (8)" <<<"$r"
expect_eq "unknown method: UNIMPLEMENTED" "$(code path /inference.GRPCInferenceService/Nope)" UNIMPLEMENTED

# HTTP/1.1 on the same port, and the counters.
expect_eq "HTTP/1.1 REST answers on the same port" \
  "$(curl -s -o /dev/null -w '%{http_code} %{http_version}' "http://127.0.0.1:$SERVE_PORT/v2/health/ready")" "200 1.1"
health=$(curl -s "http://127.0.0.1:$SERVE_PORT/")
g=$("$PY" -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["grpc_requests"], d["grpc_errors"])' "$health")
expect_eq "GET / counts the gRPC calls" "${g% *}" 28
expect_eq "GET / counts the non-zero statuses" "${g#* }" 13

# h2load against ModelInfer with a framed message; nghttp shows the trailers.
"$PY" - "$STUBS" "$T" <<'PY'
import struct, sys
sys.path.insert(0, sys.argv[1])
import grpc_predict_v2_pb2 as pb
q = pb.ModelInferRequest(model_name="mobilenet_v2")
q.inputs.append(pb.ModelInferRequest.InferInputTensor(name="input_1", datatype="FP32", shape=[1, 224, 224, 3]))
q.raw_input_contents.append(b"\0" * (224 * 224 * 3 * 4))
b = q.SerializeToString()
open(sys.argv[2] + "/body.bin", "wb").write(b"\0" + struct.pack(">I", len(b)) + b)
open(sys.argv[2] + "/big.bin", "wb").write(b"\0\xff\xff\xff\xffhello")
open(sys.argv[2] + "/cut.bin", "wb").write(b"\0" + struct.pack(">I", len(b)) + b[:100])
open(sys.argv[2] + "/zip.bin", "wb").write(b"\1\0\0\0\2hi")
PY
URL=http://127.0.0.1:$SERVE_PORT/inference.GRPCInferenceService/ModelInfer
timeout 120 h2load -n 2000 -c 4 -m 8 -d "$T/body.bin" -H 'content-type: application/grpc' -H 'te: trailers' \
  "$URL" >"$T/h2load.out" 2>&1
expect_eq "h2load -n 2000 -c 4 -m 8 ModelInfer: all 2xx" \
  "$(sed -n 's/^status codes: \([0-9]*\) 2xx.*/\1/p' "$T/h2load.out")" 2000
nghttp_status() {  # FILE [CONTENT-TYPE]: the :status and grpc-status lines nghttp saw
  timeout 20 nghttp -v -d "$1" -H "content-type: ${2:-application/grpc}" -H 'te: trailers' "$URL" 2>&1 |
    sed -n 's/.*recv (stream_id=[0-9]*) \(:status\|grpc-status\): \(.*\)/\2/p' | tr '\n' ' '
}
expect_eq "nghttp ModelInfer: 200, trailer grpc-status 0" "$(nghttp_status "$T/body.bin")" "200 0 "
expect_eq "declared 4 GB message: RESOURCE_EXHAUSTED (8)" "$(nghttp_status "$T/big.bin")" "200 8 "
expect_eq "message cut short at END_STREAM: INTERNAL (13)" "$(nghttp_status "$T/cut.bin")" "200 13 "
expect_eq "compressed flag: UNIMPLEMENTED (12)" "$(nghttp_status "$T/zip.bin")" "200 12 "
expect_eq "content-type application/json: HTTP 415" "$(nghttp_status "$T/body.bin" application/json)" "415 "

# Hostile peers: silence after a partial message or frame, a flood of streams.
s=$(call raw-partial)
expect_range "a message cut short then silence: closed by --body-timeout 1s (s)" "$s" 0.9 3
s=$(call raw-frame)
expect_range "half a frame then silence: closed by --idle-timeout 2s (s)" "$s" 1.9 4
expect_eq "300 streams at once: 172 refused (128 per connection)" "$(call raw-streams 300)" 172
expect_eq "serve still answers after them" "$(call live)" "OK live=True"
kill "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null

# Faults: --fail-status maps to a grpc-status; --reset-rate resets the stream.
for fs in "503 UNAVAILABLE" "429 RESOURCE_EXHAUSTED" "500 INTERNAL" "502 UNKNOWN"; do
  start_serve --model mobilenet_v2 --fixed-latency 1ms --fail-rate 1 --fail-status "${fs% *}"
  expect_eq "--fail-rate 1 --fail-status ${fs% *}: ${fs#* }" "$(code infer $M 1)" "${fs#* }"
  kill "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null
done
start_serve --model mobilenet_v2 --fixed-latency 1ms --reset-rate 1
expect_eq "--reset-rate 1: the stream is reset (INTERNAL)" "$(code infer $M 1)" INTERNAL
kill "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null

# Another model's input size reaches both metadata routes.
start_serve --model nasnet_large --fixed-latency 1ms
check "nasnet_large: gRPC metadata input [-1, 331, 331, 3]" grep -q '\[-1, 331, 331, 3\]' <<<"$(call metadata nasnet_large)"
check "nasnet_large: REST metadata input [-1, 331, 331, 3]" grep -q '\[-1, 331, 331, 3\]' \
  <<<"$(curl -s "http://127.0.0.1:$SERVE_PORT/v2/models/nasnet_large")"
expect_eq "nasnet_large: ModelInfer [1, 331, 331, 3]" "$(code infer nasnet_large 1 FP32 1,331,331,3)" OK
expect_eq "nasnet_large: 224 pixels is INVALID_ARGUMENT" "$(code infer nasnet_large 1)" INVALID_ARGUMENT
kill "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null

# Streams the model still holds when their client goes away, under
# valgrind: nothing leaks, nothing is touched after it is freed.
if [ "${LOADGEN_SANITIZED:-0}" != 1 ] && command -v valgrind >/dev/null; then
  out=$T/vg.out
  valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
    "$LOADGEN" serve --port 0 --model mobilenet_v2 --fixed-latency 300ms >"$out" 2>"$out.err" &
  VG=$!; PIDS+=("$VG")
  for _ in $(seq 200); do SERVE_PORT=$(head -1 "$out" 2>/dev/null | grep -o '[0-9]\+$'); [ -n "$SERVE_PORT" ] && break; sleep 0.05; done
  call infer $M 2 >/dev/null; call predict $M 1 >/dev/null; call metadata nope >/dev/null
  call raw-streams 200 >/dev/null   # 128 streams left open, then the client leaves
  timeout 20 h2load -n 50 -c 2 -m 8 -d "$T/body.bin" -H 'content-type: application/grpc' "$URL" >/dev/null 2>&1 &
  sleep 0.2; kill "$VG"; wait "$VG"; rc=$?
  expect_eq "serve under valgrind: clean exit, no leak, no error" "$rc" 0
  [ "$rc" = 0 ] || head -30 "$out.err"
else
  echo "ok - serve under valgrind # SKIP sanitized build or no valgrind"
fi

# Every serve above stopped cleanly: under ASan/UBSan (make asan) a report
# would be in its stderr.
expect_eq "no sanitizer report from any serve" \
  "$(cat "$T"/serve.*.err | grep -c 'Sanitizer\|runtime error')" 0
