"""The study's image-scoring service, in PyTorch: a Flask app for gunicorn.

MobileNetV2 (torchvision 0.14, ``weights=None``: random weights, since no
weights can be downloaded; seeded, so every worker and every run holds the
same ones; batch-norm statistics set from one pass over noise, see below)
scores JPEG/PNG images sent in two request shapes:

  POST /score                          the study's Flask app
      Content-Type must be exactly application/json (415 otherwise, as the
      study's app did); body {"input": "<b64>"}, {"input": {"image": "<b64>"}}
      or a batch {"input": ["<b64>", ...]}. Reply {"result": [[label, prob]
      x3], "time_ms": ms} (a batch: "result" is one such list per image).
  POST /v1/models/mobilenet_v2:predict TensorFlow Serving / KServe V1
      {"instances": [{"b64": "<b64>"}, ...]} -> {"predictions": [[[label,
      prob] x3], ...]}: the instances are scored as one batch.
  GET / and GET /health                200 once the model is loaded (probes)

Every scoring reply carries X-Inference-Time-Ms (the model's forward pass,
softmax and top-3, for the whole batch) and X-Server-Time-Ms (the whole
handler: JSON, base64, JPEG decode, resize, normalise and inference).
Bad JSON, bad base64 or bytes PIL cannot decode: 400 {"error": "..."}.

Environment (read when a worker imports this module):
  SCORING_THREADS  torch intra-op threads per worker (default 1; with W
                   gunicorn workers, W x threads should not exceed the cores)
  SCORING_SEED     seed of the random weights (default 0)
  SCORING_MODEL    model name in the TF Serving path (default mobilenet_v2)
  SCORING_DEVICE   cpu (default) or cuda (needs a CUDA build of torch)
  SCORING_MAX_BATCH  most images in one request (default 64; more: 400)
  SCORING_MAX_BODY   largest request body in bytes (default 64 MiB; more: 413)
"""

import base64
import binascii
import io
import json
import os
import sys
import threading
import time

THREADS = max(1, int(os.environ.get("SCORING_THREADS", "1")))
# BLAS and OpenMP pools read these when torch is imported: set them first so a
# worker never starts a pool as wide as the machine.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, str(THREADS))

import torch  # noqa: E402
import torchvision  # noqa: E402
from flask import Flask, Response, request  # noqa: E402
from PIL import Image, UnidentifiedImageError  # noqa: E402
from torchvision import transforms  # noqa: E402

SEED = int(os.environ.get("SCORING_SEED", "0"))
MODEL_NAME = os.environ.get("SCORING_MODEL", "mobilenet_v2")
DEVICE = torch.device(os.environ.get("SCORING_DEVICE", "cpu"))
MAX_BATCH = int(os.environ.get("SCORING_MAX_BATCH", "64"))
MAX_BODY = int(os.environ.get("SCORING_MAX_BODY", str(64 << 20)))
TOP_K = 3
SCORE_LOCK = threading.Lock()

torch.set_num_threads(THREADS)
try:
    torch.set_num_interop_threads(1)
except RuntimeError:  # already set (a second import in the same process)
    pass

torch.manual_seed(SEED)
MODEL = torchvision.models.mobilenet_v2(weights=None)
# With its initial batch-norm statistics (mean 0, variance 1) the random
# network's activations shrink to about 1e-9 by the last layer: every class
# gets probability 0.001 and the top 3 is class_0..2 whatever the image. One
# pass in training mode over 8 seeded noise images sets the statistics to
# what the random weights produce, so the top 3 depends on the image (the
# weights stay random; the cost per request is unchanged).
for _m in MODEL.modules():
    if isinstance(_m, torch.nn.modules.batchnorm._BatchNorm):
        _m.momentum = None  # a plain average over the calibration pass
        _m.reset_running_stats()
with torch.no_grad():
    MODEL.train()(torch.randn(8, 3, 224, 224))
MODEL = MODEL.eval().to(DEVICE)
NUM_CLASSES = MODEL.classifier[-1].out_features
# No ImageNet label file ships with Debian's torchvision (and none can be
# downloaded): labels are class_<index>.
LABELS = ["class_%d" % i for i in range(NUM_CLASSES)]

# KServe v2 model metadata, for the gRPC endpoint's ModelMetadata and REST
# GET /v2/models/NAME alike. One input, NCHW as PyTorch takes it; the gRPC
# ModelInfer also takes NHWC, and BYTES [N] of encoded images in the same
# input (scored as /score scores them). The name is loadgen's default
# --input-name, so a BYTES run needs none.
MODEL_VERSION = "1"
INPUT_NAME = "INPUT"
OUTPUT_NAME = "OUTPUT"
SIDE = 224
METADATA = {
    "name": MODEL_NAME,
    "versions": [MODEL_VERSION],
    "platform": "pytorch_libtorch",
    "inputs": [{"name": INPUT_NAME, "datatype": "FP32", "shape": [-1, 3, SIDE, SIDE]}],
    "outputs": [{"name": OUTPUT_NAME, "datatype": "FP32", "shape": [-1, NUM_CLASSES]}],
}

# As torchvision's ImageNet models expect: 224x224, [0, 1], then the ImageNet
# mean and standard deviation.
PREPROCESS = transforms.Compose([
    transforms.Resize((SIDE, SIDE)),
    transforms.ToTensor(),
    transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
])


class BadRequest(Exception):
    """A request we answer with 400 and {"error": str(e)}."""


def decode_image(b64):
    """base64 text -> normalised 3x224x224 tensor, or BadRequest."""
    if not isinstance(b64, str):
        raise BadRequest("image must be a base64 string")
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError) as e:
        raise BadRequest("bad base64: %s" % e)
    return decode_bytes(raw)


def decode_bytes(raw):
    """Encoded JPEG/PNG bytes -> normalised 3x224x224 tensor, or BadRequest."""
    try:
        with Image.open(io.BytesIO(raw)) as img:
            img = img.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError,
            Image.DecompressionBombError) as e:
        raise BadRequest("cannot decode the image: %s" % e)
    return PREPROCESS(img)


def probabilities(batch):
    """Nx3x224x224 tensor -> Nx1000 softmax probabilities (on DEVICE)."""
    # One forward pass at a time per process: the gRPC endpoint's threads
    # (grpc_service.py) share the worker, and its SCORING_THREADS, with the
    # HTTP request gunicorn's sync worker is handling.
    with SCORE_LOCK, torch.no_grad():
        return torch.nn.functional.softmax(MODEL(batch.to(DEVICE)), dim=1)


def score(tensors):
    """list of 3x224x224 tensors -> (per image top-3 [[label, prob]], ms)."""
    t0 = time.perf_counter()
    probs = probabilities(torch.stack(tensors))
    top_p, top_i = probs.topk(TOP_K, dim=1)
    top_p, top_i = top_p.cpu().tolist(), top_i.cpu().tolist()
    ms = (time.perf_counter() - t0) * 1000.0
    return [[[LABELS[i], p] for i, p in zip(ii, pp)]
            for ii, pp in zip(top_i, top_p)], ms


def reply(obj, status=200, headers=None):
    return Response(json.dumps(obj), status=status,
                    mimetype="application/json", headers=headers)


def error(msg, status=400):
    return reply({"error": msg}, status)


def parse_json():
    try:
        return json.loads(request.get_data())
    except (ValueError, UnicodeDecodeError) as e:
        raise BadRequest("bad JSON: %s" % e)


def timed(t_start, infer_ms):
    return {"X-Inference-Time-Ms": "%.3f" % infer_ms,
            "X-Server-Time-Ms": "%.3f" % ((time.perf_counter() - t_start) * 1000.0)}


def check_batch(items):
    if not items:
        raise BadRequest("no images")
    if len(items) > MAX_BATCH:
        raise BadRequest("%d images: at most %d per request" % (len(items), MAX_BATCH))


app = Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = MAX_BODY


@app.before_request
def read_body():
    # Read the whole body before any answer, refusals included: a server that
    # closes the connection with request bytes still unread makes the kernel
    # send a reset, and the client sees that instead of the 415 or 404.
    if request.method == "POST":
        request.get_data()


@app.errorhandler(BadRequest)
def bad_request(e):
    return error(str(e), 400)


@app.errorhandler(413)
def too_large(e):
    return error("body larger than %d bytes" % MAX_BODY, 413)


@app.errorhandler(404)
def not_found(e):
    return error("no such route: %s %s" % (request.method, request.path), 404)


@app.errorhandler(405)
def not_allowed(e):
    return error("%s not allowed on %s" % (request.method, request.path), 405)


@app.route("/", methods=["GET"])
@app.route("/health", methods=["GET"])
def health():
    return reply({"status": "ok", "model": MODEL_NAME, "device": str(DEVICE),
                  "threads": torch.get_num_threads(), "pid": os.getpid()})


@app.route("/score", methods=["POST"])
def score_study():
    t_start = time.perf_counter()
    # The study's app compared the header with == "application/json": no
    # charset, no other type.
    if request.headers.get("Content-Type") != "application/json":
        return error("Content-Type must be application/json", 415)
    body = parse_json()
    if not isinstance(body, dict) or "input" not in body:
        raise BadRequest('expected {"input": "<base64 image>"}')
    inp = body["input"]
    if isinstance(inp, dict):  # the nested variant {"input": {"image": ...}}
        if "image" not in inp:
            raise BadRequest('expected {"input": {"image": "<base64 image>"}}')
        inp = inp["image"]
    if isinstance(inp, list):
        check_batch(inp)
        results, ms = score([decode_image(x) for x in inp])
        result = results
    else:
        results, ms = score([decode_image(inp)])
        result = results[0]
    return reply({"result": result, "time_ms": round(ms, 3)},
                 headers=timed(t_start, ms))


@app.route("/v2/models/<name>", methods=["GET"])
@app.route("/v2/models/<name>/versions/<version>", methods=["GET"])
def v2_metadata(name, version=None):
    if name != MODEL_NAME or version not in (None, MODEL_VERSION):
        return error("model %s version %s not found; this server has %s version %s"
                     % (name, version or "(latest)", MODEL_NAME, MODEL_VERSION), 404)
    return reply(METADATA)


def instance_b64(inst):
    """TF Serving instance -> base64: {"b64": s} or {"<input>": {"b64": s}}."""
    if isinstance(inst, dict):
        if "b64" in inst:
            return inst["b64"]
        if len(inst) == 1:
            (v,) = inst.values()
            if isinstance(v, dict) and "b64" in v:
                return v["b64"]
    raise BadRequest('each instance must be {"b64": "<base64 image>"}')


@app.route("/v1/models/<name>:predict", methods=["POST"])
def score_tfserving(name):
    t_start = time.perf_counter()
    if name != MODEL_NAME:
        return error("model %s not found; this server has %s" % (name, MODEL_NAME), 404)
    body = parse_json()
    if not isinstance(body, dict) or not isinstance(body.get("instances"), list):
        raise BadRequest('expected {"instances": [{"b64": "<base64 image>"}, ...]}')
    check_batch(body["instances"])
    results, ms = score([decode_image(instance_b64(i)) for i in body["instances"]])
    return reply({"predictions": results}, headers=timed(t_start, ms))


# One forward pass at start-up, so the first request does not pay for the
# allocator and kernel selection (and a broken install fails here, before the
# worker takes traffic).
_, _warm_ms = score([torch.zeros(3, 224, 224)])
# scripts/e2e.sh counts these lines to know every worker is ready.
print("scoring: worker %d ready: %s on %s, %d torch thread(s), warm-up %.0f ms"
      % (os.getpid(), MODEL_NAME, DEVICE, torch.get_num_threads(), _warm_ms),
      file=sys.stderr, flush=True)
