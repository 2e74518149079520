#!/usr/bin/env bash
# Tensor inputs (issue 15): images as FP32/UINT8 tensors and perf_analyzer
# --input-data files against `loadgen serve` (whose v2 route answers 400
# unless the data fill the shape), the bytes a server receives checked
# value by value (a capture server on loopback), the model's metadata read
# from nginx, and every bad input: exit 2 and not one request to /infer.
. "$(dirname "$0")/lib.sh"

# serve's model: input_1, FP32 [-1, 32, 32, 3] (its metadata, GET /v2/models/NAME)
start_serve --fixed-latency 1ms --input-px 32
URL=http://127.0.0.1:$SERVE_PORT/v2/models/resnet50/infer

# run_ok NAME CSV ARGS...: 200 requests, all answered 200
run_ok() {
  local name=$1 csv=$2; shift 2
  lg --threads 8 -n 200 --out "$csv" -q "$@" >"$T/out.txt" 2>&1
  local rc=$?
  expect_eq "$name: exit 0" "$rc" 0
  [ "$rc" = 0 ] || sed 's/^/#   /' "$T/out.txt"
  expect_eq "$name: 200 ok" "$(csv_col "$csv" ok)" 200
}

# 1. images as tensors, every format that carries them, one and four a
# request; the input's name and shape come from serve's metadata, which
# checks every tensor against it (a wrong one is a 400)
run_ok "FP32 NHWC imagenet kserve-v2, name and shape from the metadata" "$T/a.csv" --url "$URL" \
  --format kserve-v2 --datatype FP32 --normalize imagenet --synthetic 10
run_ok "UINT8 NHWC kserve-v2-binary --batch 4" "$T/b.csv" --url "$URL" --format kserve-v2-binary \
  --datatype UINT8 --batch 4 --synthetic 10
expect_eq "--batch 4: 4 images a request" "$(awk -v i="$(csv_col "$T/b.csv" images_per_s)" \
  -v r="$(csv_col "$T/b.csv" throughput_rps)" 'BEGIN { printf "%.2f", i / r }')" 4.00
expect_eq "UINT8 binary: 200 x 4 x 3x32x32 bytes of tensors and their headers" \
  "$(awk -v b="$(csv_col "$T/b.csv" bytes_sent)" 'BEGIN { print (b > 200 * 12288 && b < 200 * 12800) }')" 1
run_ok "FP16 kserve-v2 --batch 4" "$T/c.csv" --url "$URL" --format kserve-v2 \
  --datatype FP16 --normalize unit --batch 4 --synthetic 6
run_ok "INT64 kserve-v2-binary" "$T/d.csv" --url "$URL" --input-name input_1 --format kserve-v2-binary \
  --datatype INT64 --shape 1,32,32,3 --synthetic 3
lg --threads 2 -n 10 --no-out -q --url "$URL" --input-name input_1 --format kserve-v2 --datatype FP32 \
  --shape 1,16,16,3 --synthetic 2 >"$T/out.txt" 2>&1
expect_eq "a shape that does not fit serve's model: every request a 400, exit 3" \
  "$?,$(grep -c 'statuses       400 x10' "$T/out.txt")" "3,1"
expect_eq "format column stays the format" "$(csv_col "$T/d.csv" format)" kserve-v2-binary

# 2. perf_analyzer --input-data: flat, content+shape, b64, two inputs
cat >"$T/in.json" <<'EOF'
{"data": [
  {"INPUT0": [1, 2, 3, 4, 5, 6], "MASK": {"content": [1, 0, 1], "shape": [3]}},
  {"INPUT0": {"content": [[0.5, -1], [2, 3], [4, 1e-3]], "shape": [6]},
   "MASK": {"content": [0, 0, 1], "shape": [3]}},
  {"INPUT0": {"b64": "AACAPwAAAEAAAEBAAACAQAAAoEAAAMBA"}, "MASK": {"b64": "AACAPwAAgD8AAIA/", "shape": [3]}}
]}
EOF

# 3. the bytes a server receives: a capture server writes each body to a file
CAP_PORT=$(free_port)
mkdir -p "$T/cap"
python3 - "$CAP_PORT" "$T/cap" <<'EOF' >"$T/cap.log" 2>&1 &
import http.server, sys
port, out = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):  # the tests send one request at a time
        body = self.rfile.read(int(self.headers["Content-Length"]))
        open(f"{out}/0.body", "wb").write(body)
        open(f"{out}/0.ihcl", "w").write(self.headers.get("Inference-Header-Content-Length", ""))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
EOF
PIDS+=($!)
for _ in $(seq 50); do (echo >"/dev/tcp/127.0.0.1/$CAP_PORT") 2>/dev/null && break; sleep 0.1; done
CAP=http://127.0.0.1:$CAP_PORT/v2/models/m/infer

# (serve's one model takes one image input: the two-input file goes to the
# capture server, which answers 200 to anything)
run_ok "--input-data kserve-v2" "$T/e.csv" --url "$CAP" --format kserve-v2 --datatype FP32 \
  --shape -1,6 --input-data "$T/in.json"
run_ok "--input-data kserve-v2-binary --batch 3" "$T/f.csv" --url "$CAP" \
  --format kserve-v2-binary --datatype FP32 --shape -1,6 --batch 3 --input-data "$T/in.json"


capture() { # capture NAME ARGS...: one request; its body is $T/cap/0.body
  # (images need --input-name: the capture server has no metadata)
  rm -f "$T/cap/"*
  local name=$1; shift
  lg --threads 1 -n 1 --no-out -q --url "$CAP" "$@" >"$T/out.txt" 2>&1
  expect_eq "$name: sent" "$?" 0
}

capture "UINT8 NHWC" --format kserve-v2 --input-name IN --datatype UINT8 --shape 1,24,32,3 --synthetic 1 --seed 7
cp "$T/cap/0.body" "$T/u8.json"
capture "FP32 NCHW imagenet binary" --format kserve-v2-binary --input-name IN --datatype FP32 \
  --shape 1,3,24,32 --normalize imagenet --synthetic 1 --seed 7
cp "$T/cap/0.body" "$T/f32.bin"; cp "$T/cap/0.ihcl" "$T/f32.ihcl"
capture "FP16 NHWC unit" --format kserve-v2-binary --input-name IN --datatype FP16 --shape 1,24,32,3 \
  --normalize unit --synthetic 1 --seed 7
cp "$T/cap/0.body" "$T/f16.bin"; cp "$T/cap/0.ihcl" "$T/f16.ihcl"
# The same image: the FP32 NCHW tensor must be the UINT8 NHWC one moved to
# channels-first and normalised, value for value, in float32.
python3 - "$T" >"$T/verify.txt" 2>&1 <<'EOF'
import json, struct, sys
t = sys.argv[1]
u8 = json.load(open(f"{t}/u8.json"))["inputs"][0]
assert u8["shape"] == [1, 24, 32, 3] and u8["datatype"] == "UINT8" and len(u8["data"]) == 24 * 32 * 3, u8["shape"]
px = u8["data"]
def split(name):
    body = open(f"{t}/{name}.bin", "rb").read()
    n = int(open(f"{t}/{name}.ihcl").read())
    return json.loads(body[:n]), body[n:]
head, raw = split("f32")
inp = head["inputs"][0]
assert inp["shape"] == [1, 3, 24, 32] and inp["datatype"] == "FP32", inp
assert inp["parameters"]["binary_data_size"] == len(raw) == 3 * 24 * 32 * 4
f = struct.unpack(f"<{3 * 24 * 32}f", raw)
mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
f32 = lambda v: struct.unpack("<f", struct.pack("<f", v))[0]
for c in range(3):
    for y in range(24):
        for x in range(32):
            want = f32((px[(y * 32 + x) * 3 + c] / 255 - mean[c]) / std[c])
            got = f[(c * 24 + y) * 32 + x]
            assert got == want, (c, y, x, got, want)
head, raw = split("f16")
assert head["inputs"][0]["shape"] == [1, 24, 32, 3] and head["inputs"][0]["datatype"] == "FP16"
h = struct.unpack(f"<{24 * 32 * 3}e", raw)
f16 = lambda v: struct.unpack("<e", struct.pack("<e", v))[0]
assert all(h[i] == f16(px[i] / 255) for i in range(len(px))), "FP16 values"
print("verified")
EOF
expect_eq "the bytes sent: FP32 NCHW = UINT8 NHWC normalised, FP16 = UINT8/255 (round to even)" \
  "$(tail -1 "$T/verify.txt")" verified

capture "tfserving instances" --format tfserving --input-name IN --datatype UINT8 --shape 1,24,32,3 \
  --synthetic 1 --seed 7 --batch 2
expect_eq "tfserving: two instances nested [24][32][3], the same values as kserve-v2" "$(python3 -c '
import json, sys
inst = json.load(open(sys.argv[1]))["instances"]
u8 = json.load(open(sys.argv[2]))["inputs"][0]["data"]
flat = [v for row in inst[0] for px in row for v in px]
print(len(inst), len(inst[0]), len(inst[0][0]), len(inst[0][0][0]), flat == u8, inst[0] == inst[1])
' "$T/cap/0.body" "$T/u8.json")" "2 24 32 3 True True"

capture "--input-data binary --batch 3" --format kserve-v2-binary --datatype FP32 --shape -1,6 \
  --batch 3 --input-data "$T/in.json"
python3 - "$T" >"$T/verify2.txt" 2>&1 <<'EOF'
import json, struct, sys
t = sys.argv[1]
body = open(f"{t}/cap/0.body", "rb").read()
n = int(open(f"{t}/cap/0.ihcl").read())
head, raw = json.loads(body[:n]), body[n:]
i0, m = head["inputs"]
assert i0["name"] == "INPUT0" and i0["shape"] == [3, 6] and i0["parameters"]["binary_data_size"] == 72, i0
assert m["name"] == "MASK" and m["shape"] == [3, 3] and m["datatype"] == "FP32", m
v = struct.unpack("<18f9f", raw)
f32 = lambda x: struct.unpack("<f", struct.pack("<f", x))[0]
assert list(v[:18]) == [1, 2, 3, 4, 5, 6, 0.5, -1, 2, 3, 4, f32(1e-3), 1, 2, 3, 4, 5, 6], v[:18]
assert list(v[18:]) == [1, 0, 1, 0, 0, 1, 1, 1, 1], v[18:]
print("verified")
EOF
expect_eq "the bytes sent: three entries, two inputs, in order" "$(tail -1 "$T/verify2.txt")" verified
[ "$(tail -1 "$T/verify2.txt")" = verified ] || sed 's/^/#   /' "$T/verify2.txt"

capture "--input-data kserve-v2 JSON" --format kserve-v2 --datatype FP32 --shape -1,6 \
  --input-data "$T/in.json"
expect_eq "JSON data: shortest exact numbers" "$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))["inputs"]
print(d[0]["shape"], d[0]["data"], d[1]["data"])' "$T/cap/0.body")" \
  "[1, 6] [1, 2, 3, 4, 5, 6] [1, 0, 1]"

# 4. the model's metadata, from nginx (serve's model, as another server
# would state it); /infer goes on to loadgen serve
cat >"$T/meta.json" <<'EOF'
{"name":"resnet50","versions":["1"],"platform":"onnxruntime_onnx",
 "inputs":[{"name":"input_1","datatype":"FP32","shape":[-1,32,32,3]}],
 "outputs":[{"name":"predictions","datatype":"FP32","shape":[-1,1000]}]}
EOF
META=$(tr -d '\n' <"$T/meta.json")
start_nginx "
    location = /v2/models/resnet50 { default_type application/json; return 200 '$META'; }
    location = /v2/models/bad { default_type application/json; return 200 'not json'; }
    location = /v2/models/fp99 { default_type application/json;
      return 200 '{\"inputs\":[{\"name\":\"a\",\"datatype\":\"FP99\",\"shape\":[1]}]}'; }
    location ~ /infer\$ { proxy_pass http://127.0.0.1:$SERVE_PORT; }
    location /v2/models/ { return 404; }"
NG=http://127.0.0.1:$NGINX_PORT
infers() { grep -c '/infer' "$NGINX_LOG" 2>/dev/null || true; }

run_ok "datatype and shape from GET /v2/models/resnet50" "$T/g.csv" \
  --url "$NG/v2/models/resnet50/infer" --format kserve-v2-binary --normalize imagenet --synthetic 4
expect_eq "metadata read once, then 200 requests to /infer" \
  "$(grep -c 'GET /v2/models/resnet50 ' "$NGINX_LOG") $(infers)" "1 200"
gets=$(grep -c 'GET /v2/models/resnet50 ' "$NGINX_LOG")
run_ok "--datatype and --shape given: the input's name from the metadata" "$T/h.csv" \
  --url "$NG/v2/models/resnet50/infer" --format kserve-v2-binary --datatype FP32 \
  --shape -1,32,32,3 --synthetic 2
expect_eq "the metadata read for the name" "$(grep -c 'GET /v2/models/resnet50 ' "$NGINX_LOG")" \
  $((gets + 1))
rm -f "$T/cap/"*
lg --threads 1 -n 1 --no-out -q --url "$NG/v2/models/resnet50/infer" --format kserve-v2 \
  --datatype UINT8 --synthetic 1 >/dev/null 2>&1
expect_eq "--datatype wins over the metadata; the shape comes from it" "$(tail -1 "$NGINX_LOG" |
  grep -c 'POST /v2/models/resnet50/infer')" 1

# bad input: exit 2, one line, and not one request to /infer
before=$(infers)
no_send() { # no_send NAME WANT_IN_ERROR ARGS...
  local name=$1 want=$2; shift 2
  lg --threads 2 -n 10 --no-out -q "$@" >"$T/out.txt" 2>"$T/err.txt"
  expect_eq "$name: exit 2" "$?" 2
  expect_eq "$name: one line naming it" "$(wc -l <"$T/err.txt") $(grep -cF -- "$want" "$T/err.txt")" "1 1"
  [ "$(grep -cF -- "$want" "$T/err.txt")" = 1 ] || sed 's/^/#   /' "$T/err.txt"
  expect_eq "$name: nothing sent to /infer" "$(infers)" "$before"
}
no_send "metadata 404" "model metadata $NG/v2/models/missing: HTTP 404" \
  --url "$NG/v2/models/missing/infer" --format kserve-v2 --datatype FP32
no_send "metadata not JSON" "model metadata $NG/v2/models/bad: not JSON" \
  --url "$NG/v2/models/bad/infer" --format kserve-v2 --shape 1,8,8,3
no_send "metadata with an unknown datatype" "datatype FP99 is not one loadgen knows" \
  --url "$NG/v2/models/fp99/infer" --format kserve-v2-binary --shape 1,8,8,3
DEAD=$(free_port)
lg --threads 2 -n 10 --no-out -q --url "http://127.0.0.1:$DEAD/v2/models/m/infer" \
  --format kserve-v2 --datatype FP32 >/dev/null 2>"$T/err.txt"
expect_eq "metadata server down: exit 2, says so" "$? $(grep -c 'is the server up' "$T/err.txt")" "2 1"
no_send "shape does not fit the model's" "input INPUT0: 6 values, but the shape [1,4] holds 4" \
  --url "$NG/v2/models/resnet50/infer" --format kserve-v2 --datatype FP32 --shape -1,4 \
  --input-data "$T/in.json"
echo '{"data": [{"INPUT0": [1, 2' >"$T/broken.json"
no_send "input-data that does not parse" "$T/broken.json: not valid JSON" \
  --url "$NG/v2/models/resnet50/infer" --format kserve-v2 --datatype FP32 --shape -1,2 \
  --input-data "$T/broken.json"
echo '{"data": [{"INPUT0": [1, "x"]}]}' >"$T/str.json"
no_send "a string for FP32" "entry 0, input INPUT0: FP32 values must be numbers" \
  --url "$NG/v2/models/resnet50/infer" --format kserve-v2 --datatype FP32 --shape -1,2 \
  --input-data "$T/str.json"
no_send "input-data names an input the model lacks" "input INPUT0: not an input of the model (its inputs are: input_1)" \
  --url "$NG/v2/models/resnet50/infer" --format kserve-v2 --input-data "$T/in.json"
no_send "unknown --datatype" "--datatype FP99: unknown" \
  --url "$NG/v2/models/resnet50/infer" --format kserve-v2 --datatype FP99
no_send "-1 past the batch" "--shape 1,-1,3: dimension 2 is negative" \
  --url "$NG/v2/models/resnet50/infer" --format kserve-v2 --shape 1,-1,3
no_send "tensors in json-b64" "tensors go in --format kserve-v2" \
  --url "$NG/v2/models/resnet50/infer" --datatype FP32 --shape 1,8,8,3
no_send "--normalize imagenet into UINT8" "which UINT8 cannot hold" \
  --url "$NG/v2/models/resnet50/infer" --format kserve-v2 --datatype UINT8 --shape 1,8,8,3 \
  --normalize imagenet
no_send "--batch 4 without a batch dimension" "--batch 4: input input_1's shape [8,8,3] has no batch dimension" \
  --url "$NG/v2/models/resnet50/infer" --format kserve-v2 --datatype FP32 --shape 8,8,3 --batch 4
no_send "--input-data with --images" "drop --images" \
  --url "$NG/v2/models/resnet50/infer" --format kserve-v2 --input-data "$T/in.json" --synthetic 5
no_send "--normalize in json-b64" "tensors go in --format kserve-v2" \
  --url "$NG/v2/models/resnet50/infer" --normalize unit

no_send "--input-data with --input-name" "names the inputs; drop --input-name" \
  --url "$NG/v2/models/resnet50/infer" --format kserve-v2 --input-data "$T/in.json" --input-name x
no_send "--datatype BYTES with --shape" "--datatype BYTES sends each encoded image as it is" \
  --url "$NG/v2/models/resnet50/infer" --format kserve-v2 --datatype BYTES --shape 1,8,8,3
no_send "--input-data unreadable" "--input-data $T/nope.json: cannot read it" \
  --url "$NG/v2/models/resnet50/infer" --format kserve-v2 --input-data "$T/nope.json"
no_send "tensors and --body-file" "drop --body-file" \
  --url "$NG/v2/models/resnet50/infer" --datatype FP32 --shape 1,8,8,3 --body-file "$T/in.json"
# 5. today's bodies are untouched: no tensor flag, no metadata fetch
gets=$(grep -c 'GET /v2/models/' "$NGINX_LOG")
lg --threads 2 -n 10 --no-out -q --url "$NG/v2/models/resnet50/infer" --format kserve-v2 \
  --synthetic 2 >/dev/null 2>&1
expect_eq "BYTES by default: no GET of the metadata, 10 requests" \
  "$(grep -c 'GET /v2/models/' "$NGINX_LOG") $(infers)" "$gets $((before + 10))"
