#!/usr/bin/python3
"""grpc_client.py [OPTIONS] IMAGE...: score images with the scoring service's
KServe v2 gRPC endpoint (ModelInfer), all of them in one request.

  --addr HOST:PORT   the endpoint (default 127.0.0.1:8001)
  --model NAME       the model (default mobilenet_v2)
  --as FORM          bytes (default): the encoded files, BYTES [N];
                     fp32: tensors [N,3,224,224] made here as /score makes
                     them (RGB, bilinear resize to 224x224, ImageNet mean and
                     std); fp32-nhwc: the same as [N,224,224,3]
  --typed            the data in the tensor's contents (bytes_contents,
                     fp32_contents) instead of raw_input_contents
  --datatype T, --shape A,B,..  send these instead (to see what the server
                     refuses)
  --metadata         no images: print the model's metadata (ModelMetadata)
                     as JSON with REST's keys, as GET /v2/models/NAME has it

Prints one line per image, "IMAGE LABEL PROBABILITY" (its top-1 class),
then "output NAME DATATYPE [N, 1000]"; exit 0. A refused call: one line,
"STATUS details", exit 1. Needs only Debian's python3-grpcio,
python3-grpc-tools, python3-pil and python3-numpy: the stubs are generated
into a temporary directory from proto/grpc_predict_v2.proto, as the service
does (SCORING_GRPC_PROTO to use another copy).
"""
import argparse
import json
import os
import struct
import sys

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import grpc_service  # noqa: E402

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def tensor(path, nchw):
    """An image file -> 3x224x224 (or 224x224x3) float32, as app.PREPROCESS."""
    with Image.open(path) as img:
        rgb = img.convert("RGB").resize((224, 224), Image.BILINEAR)
    x = (np.asarray(rgb, dtype=np.float32) / 255.0 - MEAN) / STD
    return x.transpose(2, 0, 1) if nchw else x


def request(pb, args):
    n = len(args.images)
    t = pb.ModelInferRequest.InferInputTensor(name="INPUT")
    q = pb.ModelInferRequest(model_name=args.model, id="grpc_client")
    if args.form == "bytes":
        files = [open(p, "rb").read() for p in args.images]
        t.datatype, t.shape[:] = "BYTES", [n]
        if args.typed:
            t.contents.bytes_contents.extend(files)
        else:
            q.raw_input_contents.append(b"".join(struct.pack("<I", len(f)) + f for f in files))
    else:
        x = np.stack([tensor(p, args.form == "fp32") for p in args.images]).astype("<f4")
        t.datatype, t.shape[:] = "FP32", list(x.shape)
        if args.typed:
            t.contents.fp32_contents.extend(x.ravel().tolist())
        else:
            q.raw_input_contents.append(x.tobytes())
    if args.datatype:
        t.datatype = args.datatype
    if args.shape:
        t.shape[:] = [int(d) for d in args.shape.split(",")]
    q.inputs.append(t)
    return q


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--addr", default="127.0.0.1:8001")
    ap.add_argument("--model", default="mobilenet_v2")
    ap.add_argument("--as", dest="form", choices=("bytes", "fp32", "fp32-nhwc"), default="bytes")
    ap.add_argument("--typed", action="store_true")
    ap.add_argument("--datatype")
    ap.add_argument("--shape")
    ap.add_argument("--metadata", action="store_true")
    ap.add_argument("images", nargs="*")
    args = ap.parse_args()
    if not args.metadata and not args.images:
        ap.error("give IMAGE files to score, or --metadata")

    proto = os.environ.get("SCORING_GRPC_PROTO",
                           os.path.join(HERE, "..", "..", "proto", "grpc_predict_v2.proto"))
    pb, pb_grpc = grpc_service.import_stubs(proto)
    import grpc

    limit = 256 << 20
    with grpc.insecure_channel(args.addr, options=[("grpc.max_send_message_length", limit),
                                                   ("grpc.max_receive_message_length", limit)]) as ch:
        stub = pb_grpc.GRPCInferenceServiceStub(ch)
        try:
            if args.metadata:
                m = stub.ModelMetadata(pb.ModelMetadataRequest(name=args.model), timeout=20)
                tensors = [[{"name": t.name, "datatype": t.datatype, "shape": list(t.shape)} for t in ts]
                           for ts in (m.inputs, m.outputs)]
                print(json.dumps({"name": m.name, "versions": list(m.versions), "platform": m.platform,
                                  "inputs": tensors[0], "outputs": tensors[1]}))
                return 0
            r = stub.ModelInfer(request(pb, args), timeout=120)
        except grpc.RpcError as e:
            print("%s %s" % (e.code().name, e.details()))
            return 1
    (o,) = r.outputs
    probs = np.frombuffer(r.raw_output_contents[0], dtype="<f4").reshape(list(o.shape))
    for path, p in zip(args.images, probs):
        k = int(p.argmax())
        print("%s class_%d %.6f" % (path, k, p[k]))
    print("output %s %s %s" % (o.name, o.datatype, list(o.shape)))
    return 0


sys.exit(main())
