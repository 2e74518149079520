#!/usr/bin/env bash
# scripts/e2e.sh [LOADGEN]: loadgen against a real model (make e2e; not part
# of make test: it installs packages, loads torch and scores a few hundred
# images on the CPU, a minute or more).
#
#  1. Installs the scoring service's Debian packages if missing (as root with
#     apt-get; otherwise prints the command): the same list as
#     scripts/scoring-service/Dockerfile.
#  2. Checks that scripts/scoring-service/k8s-{gpu,cpu}.yaml parse and hold a
#     Deployment and the LoadBalancer Service on port 80 that selects it.
#  3. Starts the service (gunicorn, ${E2E_WORKERS:-nproc} workers of one
#     torch thread, MobileNetV2 with random weights) on a free loopback port,
#     its KServe v2 gRPC endpoint on two more (h2c, and TLS with a
#     certificate made here), and waits, at most ${E2E_READY_TIMEOUT:-300} s,
#     until every worker has loaded and warmed its model and serves gRPC.
#  4. Runs loadgen against it, the synthetic corpus every time:
#       /score, 4 threads, 200 requests (results/e2e.csv, results/e2e.json):
#         every request ok, server time (X-Inference-Time-Ms) reported;
#       /score at 1 and 2 threads, ${E2E_SWEEP_N:-100} requests each
#         (results/e2e-sweep.csv): every request ok;
#       /v1/models/mobilenet_v2:predict, --format tfserving --batch 4:
#         every request ok, 4 images each (results/e2e-tfserving.csv);
#       --format raw to /score: every request 415 (http_4xx), as the study's
#         app answers a body that is not application/json;
#       a JSON body whose "input" is not base64: every request 400.
#  5. gRPC, with scripts/scoring-service/grpc_client.py (python3-grpcio):
#       ModelMetadata equals REST's GET /v2/models/mobilenet_v2;
#       6 of loadgen's synthetic JPEGs, one request each way: BYTES (raw
#         and bytes_contents), FP32 NCHW tensors (raw) and NHWC
#         (fp32_contents) made from them give the same top-1 class as REST
#         /score, and an FP32 [6, 1000] output;
#       another model: NOT_FOUND; a wrong shape, datatype or image:
#         INVALID_ARGUMENT;
#     and loadgen --format kserve-grpc (when it has it), h2c (unless this
#     libcurl makes loadgen refuse it) and TLS: 100 requests each of BYTES
#     images, FP32 tensors with the shape from the metadata, and with
#     --shape and --input-name, every one grpc-status OK, each reply the
#     size of one FP32 [1, 1000] output (results/e2e-grpc*.csv).
#  6. Prints throughput, latency and the server/network split per level.
# The service is stopped on exit, Ctrl-C included. Its log and loadgen's
# outputs are in obj/e2e/. Exit 0 when every check passed.
set -uo pipefail
# LOADGEN is taken from the caller's directory; by default the repository's.
bin=${1:-}
if [ -n "$bin" ] && dir=$(cd "$(dirname "$bin")" 2>/dev/null && pwd); then
  bin=$dir/$(basename "$bin")
fi
cd "$(dirname "$0")/.." || exit 1
bin=${bin:-$PWD/loadgen}
svc=scripts/scoring-service
out=obj/e2e
workers=${E2E_WORKERS:-$(nproc)}
ready_timeout=${E2E_READY_TIMEOUT:-300}
sweep_n=${E2E_SWEEP_N:-100}
# Debian's interpreter: a python3 earlier on PATH (pyenv, a venv) does not
# see the packages apt-get installs.
PY=/usr/bin/python3
GUNICORN=/usr/bin/gunicorn
PKGS="python3-flask gunicorn python3-pil python3-torchvision libopenblas0 python3-grpcio python3-grpc-tools python3-yaml"

passed=0
failed=0
ok() { echo "  ok    $1"; passed=$((passed + 1)); }
bad() { echo "  FAIL  $1${2:+: $2}"; failed=$((failed + 1)); }
die() { echo "e2e: $*" >&2; exit 1; }

[ -x "$bin" ] || die "no loadgen binary at $bin (run make first)"

# ---------------------------------------------------------------- 1. packages
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    die "missing Debian packages; run: sudo apt-get update && sudo apt-get install -y --no-install-recommends$missing"
  fi
  echo "e2e: installing Debian packages:$missing"
  export DEBIAN_FRONTEND=noninteractive
  # shellcheck disable=SC2086
  if ! apt-get install -y -q --no-install-recommends $missing >/dev/null; then
    apt-get update -q >/dev/null || die "apt-get update failed"
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $missing >/dev/null || die "apt-get install$missing failed"
  fi
fi
[ -x "$PY" ] && [ -x "$GUNICORN" ] || die "$PY or $GUNICORN missing after the install"
err=$("$PY" -c 'import flask, PIL, torch, torchvision, yaml, numpy, grpc, grpc_tools' 2>&1) \
  || die "$PY cannot import the service's modules: $err"
command -v openssl >/dev/null || die "no openssl (for the gRPC endpoint's TLS certificate); run scripts/install-deps.sh"

rm -rf "$out" && mkdir -p "$out" results || die "cannot create $out and results/"
rm -f results/e2e.csv results/e2e.json results/e2e-sweep.csv results/e2e-sweep.json \
      results/e2e-tfserving.csv results/e2e-tfserving.json results/e2e-grpc*.csv results/e2e-grpc*.json

echo "e2e: scoring service checks"

# -------------------------------------------------------- 2. manifests parse
for dev in gpu cpu; do
  if "$PY" - "$svc/k8s-$dev.yaml" "$dev" >"$out/yaml-$dev.err" 2>&1 <<'EOF'
import sys, yaml
path, dev = sys.argv[1], sys.argv[2]
docs = [d for d in yaml.safe_load_all(open(path)) if d]
by = {(d["kind"], d["metadata"]["name"]): d for d in docs}
d = by[("Deployment", "scoring-" + dev)]
s = by[("Service", "scoring-" + dev)]
pod = d["spec"]["template"]
labels = pod["metadata"]["labels"]
assert d["spec"]["selector"]["matchLabels"].items() <= labels.items(), "selector"
assert s["spec"]["type"] == "LoadBalancer" and s["spec"]["selector"].items() <= labels.items()
c = pod["spec"]["containers"][0]
ports = {p["name"]: p["containerPort"] for p in c["ports"]}
(sp,) = s["spec"]["ports"]
assert sp["port"] == 80 and sp["targetPort"] in ports, sp
assert c["readinessProbe"]["httpGet"]["path"] == "/health"
req = c["resources"]["requests"]
if dev == "gpu":
    assert req["nvidia.com/gpu"] == c["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert 1 <= d["spec"]["replicas"] <= 3
    env = {e["name"]: e["value"] for e in c["env"]}
    assert env["SCORING_DEVICE"] == "cuda"
else:
    assert req["cpu"] and d["spec"]["replicas"] == 35
EOF
  then ok "k8s-$dev.yaml parses: a Deployment, a LoadBalancer Service :80 -> its port, /health readiness"
  else bad "k8s-$dev.yaml" "$(tail -n 1 "$out/yaml-$dev.err")"
  fi
done

# The image installs what this script installs and copies files that exist.
docker_pkgs=$(sed -n '/apt-get install/,/rm -rf/p' "$svc/Dockerfile" | tr ' \\&' '\n\n\n' \
  | grep -E '^[a-z0-9][a-z0-9.+-]+$' | grep -vxE 'apt-get|install|rm|update' | sort | xargs)
want_pkgs=$(echo "$PKGS" | tr ' ' '\n' | grep -vx python3-yaml | sort | xargs)
if [ "$docker_pkgs" = "$want_pkgs" ]; then ok "Dockerfile installs the same Debian packages ($want_pkgs)"
else bad "Dockerfile's packages" "'$docker_pkgs', want '$want_pkgs'"
fi
# Its build context is the repository's root.
copy_ok=1
for f in $(sed -n 's/^COPY \(.*\) \/app\/$/\1/p' "$svc/Dockerfile"); do
  [ -f "$f" ] || copy_ok=0
done
[ "$copy_ok" = 1 ] \
  && grep -qx "COPY $svc/app.py $svc/gunicorn.conf.py $svc/grpc_service.py /app/" "$svc/Dockerfile" \
  && grep -qx 'COPY proto/grpc_predict_v2.proto /app/' "$svc/Dockerfile" \
  && ok "Dockerfile copies app.py, gunicorn.conf.py, grpc_service.py and the proto" \
  || bad "Dockerfile COPY" "files missing"

# ---------------------------------------------------------- 3. the service
gpid=
stop_service() {
  [ -n "$gpid" ] || return 0
  local pid=$gpid
  gpid=
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 150); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  # Past its graceful timeout: the master and its workers, by process group
  # (started by setsid below, so the group is ours alone).
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
}
trap stop_service EXIT
trap 'echo; echo "e2e: interrupted"; exit 130' INT TERM

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port=$(free_port) && gport=$(free_port) && gtls=$(free_port) || die "no free loopback port"
# A certificate for 127.0.0.1, trusted by the TLS runs below (--cacert).
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$out/grpc.key" -out "$out/grpc.crt" >"$out/openssl.log" 2>&1 \
  || { cat "$out/openssl.log" >&2; die "openssl could not make the gRPC endpoint's certificate"; }
SCORING_BIND=127.0.0.1:$port SCORING_WORKERS=$workers SCORING_THREADS=1 SCORING_GRPC_PORT=$gport \
  SCORING_GRPC_TLS_PORT=$gtls SCORING_GRPC_TLS_CERT=$PWD/$out/grpc.crt SCORING_GRPC_TLS_KEY=$PWD/$out/grpc.key \
  setsid "$GUNICORN" -c "$svc/gunicorn.conf.py" --chdir "$svc" --pid "$PWD/$out/gunicorn.pid" app:app \
  >"$out/gunicorn.log" 2>&1 </dev/null &
launcher=$!
for _ in $(seq 300); do
  [ -s "$out/gunicorn.pid" ] && break
  kill -0 "$launcher" 2>/dev/null || break
  sleep 0.1
done
[ -s "$out/gunicorn.pid" ] || { cat "$out/gunicorn.log" >&2; die "gunicorn did not start"; }
gpid=$(cat "$out/gunicorn.pid")
echo "e2e: gunicorn (pid $gpid) on 127.0.0.1:$port, $workers worker(s) x 1 torch thread; loading the model"

url=http://127.0.0.1:$port
t0=$(date +%s)
while :; do
  kill -0 "$gpid" 2>/dev/null || { cat "$out/gunicorn.log" >&2; die "gunicorn exited while starting"; }
  n_ready=$(grep -c 'scoring: worker .* ready' "$out/gunicorn.log")
  n_grpc=$(grep -c 'scoring: worker .* gRPC on' "$out/gunicorn.log")
  if [ "$n_ready" -ge "$workers" ] && [ "$n_grpc" -ge "$workers" ] \
     && curl -sf -m 5 -o /dev/null "$url/health"; then
    break
  fi
  [ $(( $(date +%s) - t0 )) -lt "$ready_timeout" ] \
    || { cat "$out/gunicorn.log" >&2; die "not ready after ${ready_timeout}s ($n_ready of $workers workers)"; }
  sleep 1
done
echo "e2e: ready after $(( $(date +%s) - t0 )) s"
grep 'scoring: worker .* \(ready\|gRPC on\)' "$out/gunicorn.log" | sed 's/^/e2e:   /'

# Readiness endpoints as the probes see them.
for path in / /health; do
  code=$(curl -s -m 10 -o "$out/get.body" -w '%{http_code}' "$url$path")
  [ "$code" = 200 ] && ok "GET $path: 200" || bad "GET $path" "status $code"
done

# ------------------------------------------------------------- 4. loadgen
# lg NAME ARGS...: run loadgen, its stdout and stderr in $out/NAME.{out,err};
# sets rc. loadgen handles Ctrl-C itself (exit 130), so bash does not take
# the signal as its own: stop here (and the EXIT trap stops the service).
lg() {
  local name=$1
  shift
  "$bin" "$@" >"$out/$name.out" 2>"$out/$name.err"
  rc=$?
  if [ "$rc" = 130 ]; then
    echo
    echo "e2e: interrupted"
    exit 130
  fi
}
# jq_check JSON PYTHON: run PYTHON with l = the list of levels of JSON.
jq_check() {
  "$PY" -c "
import json, sys
d = json.load(open(sys.argv[1])); L = d['levels']; l = L[0]
$2" "$1" 2>"$out/check.err"
}

echo "e2e: loadgen runs (each takes a while: the model scores on the CPU)"

lg score --url "$url/score" --threads 4 -n 200 --synthetic 50 --expect-json result \
  --server-time-header X-Inference-Time-Ms --out results/e2e.csv --json results/e2e.json -q \
  --label e2e-score --model mobilenet_v2
if [ "$rc" = 0 ] && jq_check results/e2e.json '
assert len(L) == 1 and l["concurrency"] == 4, (len(L), l["concurrency"])
assert l["ok"] == 200 and l["errors"] == 0, (l["ok"], l["classes"])
assert l["histograms"]["server_time"] and l["histograms"]["network"]'; then
  ok "/score, 4 threads: 200 of 200 ok, replies carry \"result\""
else
  bad "/score, 4 threads" "loadgen exit $rc; $(tail -n 2 "$out/score.err" "$out/check.err" | tr '\n' ' ')"
fi
if "$PY" - results/e2e.csv <<'EOF' 2>"$out/check.err"
import csv, sys
(row,) = list(csv.DictReader(open(sys.argv[1])))
assert row["ok"] == "200", row["ok"]
assert float(row["server_p50_ms"]) > 0 and row["network_p50_ms"] != "", row
EOF
then ok "server time reported (X-Inference-Time-Ms): server_p50_ms and network_p50_ms in results/e2e.csv"
else bad "server time" "$(tail -n 1 "$out/check.err")"
fi

lg sweep --url "$url/score" --threads 1:2 -n "$sweep_n" --synthetic 50 --expect-json result \
  --server-time-header X-Inference-Time-Ms --out results/e2e-sweep.csv --json results/e2e-sweep.json -q \
  --label e2e-sweep --model mobilenet_v2
if [ "$rc" = 0 ] && jq_check results/e2e-sweep.json "
assert [x['concurrency'] for x in L] == [1, 2], [x['concurrency'] for x in L]
assert all(x['ok'] == $sweep_n and x['errors'] == 0 for x in L), [x['classes'] for x in L]"; then
  ok "/score, 1 and 2 threads: $sweep_n of $sweep_n ok at each"
else
  bad "/score sweep" "loadgen exit $rc; $(tail -n 2 "$out/sweep.err" "$out/check.err" | tr '\n' ' ')"
fi

lg tfserving --url "$url/v1/models/mobilenet_v2:predict" --format tfserving --batch 4 \
  --threads 4 -n 50 --synthetic 50 --expect-json predictions \
  --server-time-header X-Inference-Time-Ms --out results/e2e-tfserving.csv \
  --json results/e2e-tfserving.json -q --label e2e-tfserving --model mobilenet_v2
if [ "$rc" = 0 ] && jq_check results/e2e-tfserving.json '
assert l["ok"] == 50 and l["errors"] == 0, l["classes"]
assert l["images_ok"] == 200, l["images_ok"]'; then
  ok "TF Serving shape, batch 4: 50 of 50 ok, 200 images, replies carry \"predictions\""
else
  bad "TF Serving shape" "loadgen exit $rc; $(tail -n 2 "$out/tfserving.err" "$out/check.err" | tr '\n' ' ')"
fi

# Every request refused: loadgen exits 3 and counts them as http_4xx.
lg raw415 --url "$url/score" --format raw --threads 2 -n 10 --synthetic 5 \
  --no-out --json "$out/raw415.json" -q
if [ "$rc" = 3 ] && jq_check "$out/raw415.json" '
assert l["classes"]["http_4xx"] == 10 and l["ok"] == 0, l["classes"]'; then
  ok "/score with an image/jpeg body: 10 of 10 answered 415 (http_4xx)"
else
  bad "415 for a body that is not application/json" "loadgen exit $rc (want 3); $(tail -n 1 "$out/check.err")"
fi
code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json; charset=utf-8' \
  --data '{"input": ""}' "$url/score")
[ "$code" = 415 ] && ok "Content-Type 'application/json; charset=utf-8': 415, as the study's app" \
  || bad "415 for a Content-Type with parameters" "status $code"

printf '{"input": "this is not base64!"}' >"$out/bad-b64.json"
lg bad400 --url "$url/score" --body-file "$out/bad-b64.json" --content-type application/json \
  --threads 2 -n 4 --no-out --json "$out/bad400.json" -q
code=$(curl -s -m 10 -o "$out/bad400.body" -w '%{http_code}' -H 'Content-Type: application/json' \
  --data '{"input": "aGVsbG8="}' "$url/score")
if [ "$rc" = 3 ] && jq_check "$out/bad400.json" '
assert l["classes"]["http_4xx"] == 4, l["classes"]' && [ "$code" = 400 ] \
  && grep -q '"error"' "$out/bad400.body"; then
  ok "bad base64 and bytes PIL cannot decode: 400 with a JSON error"
else
  bad "400 for bad input" "loadgen exit $rc, curl status $code"
fi

# ------------------------------------------------------------------ 5. gRPC
echo "e2e: gRPC (KServe v2) on 127.0.0.1:$gport (h2c) and 127.0.0.1:$gtls (TLS)"
# gc ARGS...: grpc_client.py against the h2c port; its output on stdout.
gc() { "$PY" "$svc/grpc_client.py" --addr "127.0.0.1:$gport" "$@" 2>&1; }

rest_meta=$(curl -s -m 10 "$url/v2/models/mobilenet_v2")
grpc_meta=$(gc --metadata)
if "$PY" -c 'import json, sys; a, b = (json.loads(x) for x in sys.argv[1:]); assert a == b, (a, b)
assert a["inputs"] == [{"name": "INPUT", "datatype": "FP32", "shape": [-1, 3, 224, 224]}], a["inputs"]' \
   "$rest_meta" "$grpc_meta" 2>"$out/check.err"; then
  ok "ModelMetadata over gRPC = GET /v2/models/mobilenet_v2: INPUT FP32 [-1, 3, 224, 224] -> OUTPUT FP32 [-1, 1000]"
else
  bad "model metadata" "REST '$rest_meta', gRPC '$grpc_meta'"
fi

# The same images both ways: 6 of loadgen's synthetic JPEGs, written out by
# a short /score run; REST's top-1 per image from one batch request.
lg synth --url "$url/score" --threads 1 -n 6 --synthetic 6 --save-synthetic "$out/synth" \
  --expect-json result --no-out -q
imgs=("$out"/synth/*.jpg)
if [ "$rc" = 0 ] && [ "${#imgs[@]}" = 6 ] && "$PY" - "$url/score" "${imgs[@]}" >"$out/rest-top1" \
  2>"$out/check.err" <<'EOF2'
import base64, json, sys, urllib.request
url, paths = sys.argv[1], sys.argv[2:]
body = json.dumps({"input": [base64.b64encode(open(p, "rb").read()).decode() for p in paths]})
req = urllib.request.Request(url, body.encode(), {"Content-Type": "application/json"})
result = json.load(urllib.request.urlopen(req, timeout=120))["result"]
for p, top3 in zip(paths, result):
    print(p, top3[0][0])
EOF2
then
  echo "e2e:   REST /score top-1: $(cut -d' ' -f2 "$out/rest-top1" | xargs)"
  for how in "bytes" "bytes --typed" "fp32" "fp32-nhwc --typed"; do
    # shellcheck disable=SC2086
    gc --as $how "${imgs[@]}" >"$out/grpc-top1"
    what="gRPC $(echo "$how" | sed 's/^bytes/BYTES images/; s/^fp32-nhwc/FP32 NHWC tensors/; s/^fp32/FP32 NCHW tensors/; s/--typed/(typed contents)/')"
    if [ "$(head -n 6 "$out/grpc-top1" | cut -d' ' -f1,2)" = "$(cat "$out/rest-top1")" ] \
       && [ "$(sed -n 7p "$out/grpc-top1")" = "output OUTPUT FP32 [6, 1000]" ]; then
      ok "$what: the same top-1 as REST /score for 6 of 6 images; output OUTPUT FP32 [6, 1000]"
    else
      bad "$what" "$(paste -d' ' "$out/rest-top1" "$out/grpc-top1" | tr '\n' ';')"
    fi
  done
else
  bad "REST top-1 of the synthetic images" "loadgen exit $rc; $(tail -n 1 "$out/synth.err" "$out/check.err" | tr '\n' ' ')"
fi

img=$out/synth/synthetic-0001.jpg
printf 'not an image' >"$out/not-an-image.jpg"
for probe in "NOT_FOUND|another model|--model resnet50 $img" \
             "INVALID_ARGUMENT|FP32 shape [1, 3, 224, 223]|--as fp32 --shape 1,3,224,223 $img" \
             "INVALID_ARGUMENT|datatype FP16|--as fp32 --datatype FP16 $img" \
             "INVALID_ARGUMENT|BYTES [2] with one image|--shape 2 $img" \
             "INVALID_ARGUMENT|BYTES that are no image|$out/not-an-image.jpg"; do
  IFS='|' read -r want what args <<<"$probe"
  # shellcheck disable=SC2086
  got=$(gc $args | head -n 1)
  [ "${got%% *}" = "$want" ] && [ -n "${got#"$want"}" ] && ok "$what: $want: ${got#"$want" }" \
    || bad "$what" "'$got', want $want"
done

# loadgen_grpc NAME URL WHAT ARGS...: 100 requests through loadgen's gRPC
# client; every one grpc-status OK, and each reply the size of one
# FP32 [1, 1000] output (4000 bytes of probabilities and the message's few
# other fields: loadgen counts the bytes, grpc_client.py above checked the
# shape).
loadgen_grpc() {
  local name=$1 target=$2 what=$3
  shift 3
  lg "$name" "$target" --format kserve-grpc --model mobilenet_v2 -c 2 -n 100 --synthetic 10 \
    --out "results/e2e-$name.csv" --json "results/e2e-$name.json" -q --label "e2e-$name" "$@"
  local per
  if [ "$rc" = 0 ] && per=$(jq_check "results/e2e-$name.json" '
assert l["ok"] == 100 and l["errors"] == 0, l["classes"]
assert l["grpc_statuses"] == {"OK": 100}, l["grpc_statuses"]
per = l["bytes_recv"] / l["requests"]
assert 4000 < per < 8000, "%.0f bytes per reply" % per
print("%.0f" % per)'); then
    ok "loadgen, $what: 100 of 100 grpc-status OK, $per bytes per reply"
  else
    bad "loadgen, $what" "exit $rc; $(tail -n 1 "$out/$name.err" "$out/check.err" 2>/dev/null | grep -v '^==' | tr '\n' ' ')"
  fi
}
# grpc_runs TAG WHAT URL ARGS...: BYTES images, FP32 tensors with the shape
# and input name from the model's metadata, and with them given. (Triton's
# and this service's gRPC port speaks gRPC only: the metadata has to come
# from ModelMetadata, not from a GET /v2/models/NAME on that port.)
grpc_runs() {
  local tag=$1 what=$2 target=$3
  shift 3
  loadgen_grpc "$tag-bytes" "$target" "$what, BYTES images" "$@"
  loadgen_grpc "$tag-fp32" "$target" "$what, FP32 tensors, shape from the metadata" "$@" \
    --datatype FP32 --normalize imagenet
  loadgen_grpc "$tag-fp32s" "$target" "$what, FP32 tensors, --shape -1,3,224,224 --input-name INPUT" "$@" \
    --datatype FP32 --normalize imagenet --shape -1,3,224,224 --input-name INPUT
}
if ! "$bin" --help 2>&1 | grep -c kserve-grpc >/dev/null; then  # -c reads it all: no SIGPIPE under pipefail
  echo "  skip: loadgen has no --format kserve-grpc yet"
else
  gurl=http://127.0.0.1:$gport
  lg probe-h2c "$gurl" --format kserve-grpc --model mobilenet_v2 --http2-prior-knowledge -n 1 \
    --synthetic 1 --no-out -q
  if [ "$rc" = 2 ] && grep -q 'use https://' "$out/probe-h2c.err"; then
    # A libcurl that cannot reuse an h2c connection: loadgen refuses it.
    echo "  skip: h2c: $(tail -n 1 "$out/probe-h2c.err")"
  else
    grpc_runs grpc h2c "$gurl" --http2-prior-knowledge
  fi
  grpc_runs grpcs TLS "https://127.0.0.1:$gtls" --cacert "$out/grpc.crt"
fi

if grep -q 'WORKER TIMEOUT' "$out/gunicorn.log" \
   || [ "$(grep -c 'Booting worker' "$out/gunicorn.log")" -gt "$workers" ]; then
  bad "gunicorn workers" "a worker was restarted (see $out/gunicorn.log)"
else
  ok "no gunicorn worker timed out or restarted"
fi
rss=$(for p in $(pgrep -P "$gpid"); do awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null; done \
  | awk '{ s += $1; n++ } END { if (n) printf "%d worker(s), %.0f MB resident each", n, s / n / 1024 }')

# ------------------------------------------------------------- 6. summary
echo
echo "e2e: MobileNetV2 (random weights) in PyTorch $("$PY" -c 'import torch; print(torch.__version__)') on $(nproc) cores, $workers gunicorn worker(s) x 1 thread${rss:+; $rss}"
# Other work on the machine shares the cores with the model: say how much.
echo "e2e: load average $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) on $(nproc) cores"
"$PY" - results/e2e-sweep.csv results/e2e.csv results/e2e-tfserving.csv results/e2e-grpc*.csv <<'EOF'
import csv, sys
rows = []
for path in sys.argv[1:]:
    try:
        rows += list(csv.DictReader(open(path)))
    except OSError:
        pass
fmt = "  %-13s %4s %6s %7s %8s %8s %8s %8s %10s %10s"
print(fmt % ("run", "thr", "ok", "req/s", "images/s", "mean ms", "p50 ms", "p99 ms",
             "server p50", "net+q p50"))
# /score's levels together, then the other runs in the order given.
order = ["e2e-sweep", "e2e-score", "e2e-tfserving"] + ["e2e-%s-%s" % (t, f)
         for t in ("grpc", "grpcs") for f in ("bytes", "fp32", "fp32s")]
rank = lambda label: 0 if label in ("e2e-sweep", "e2e-score") else order.index(label)
for r in sorted(rows, key=lambda r: (rank(r["label"]), int(r["concurrency"]))):
    print(fmt % (r["label"][4:], r["concurrency"], "%s/%s" % (r["ok"], r["requests"]),
                 "%.2f" % float(r["throughput_rps"]), "%.2f" % float(r["images_per_s"]),
                 r["lat_mean_ms"], r["lat_p50_ms"], r["lat_p99_ms"],
                 r["server_p50_ms"] or "-", r["network_p50_ms"] or "-"))
print("  server = X-Inference-Time-Ms (forward pass, softmax, top-3); net+q = latency - server:")
print("  network, gunicorn's accept queue, JSON, base64, JPEG decode and resize. The gRPC")
print("  runs (grpc: h2c, grpcs: TLS) carry no server time.")
EOF
echo
echo "e2e: $passed passed, $failed failed (logs in $out/)"
[ "$failed" = 0 ]
