#!/usr/bin/python3
"""grpc_client.py STUBS PORT CALL [ARGS...]: one gRPC call to 127.0.0.1:PORT
with Debian's python3-grpcio, through stubs generated from proto/ into the
directory STUBS (23_serve_grpc.sh does that with grpc_tools.protoc).

Prints one line: "OK <what came back>" or "<STATUS_NAME> <details>".

Calls:
  live | ready
  metadata MODEL                       ModelMetadata as JSON (REST's keys)
  model-ready MODEL
  infer MODEL N [DATATYPE [SHAPE [NAME [HOW]]]]
      N images of zeros; DATATYPE FP32 (default), FP16, UINT8, INT64, BYTES
      (N JPEG headers), or any string; SHAPE like 2,224,224,3 (default
      N,224,224,3, or N for BYTES); HOW raw (default), typed, short (one
      element missing), empty (no data at all)
  predict MODEL N [DATATYPE]           TF Serving Predict
  path PATH                            an empty message to any method path
Raw HTTP/2 (hand-made frames, no HPACK decoding; for hostile cases):
  raw-partial     a ModelInfer stream whose message is cut short, then
                  silence: prints the seconds until the server closes
  raw-frame       half a frame header, then silence: the same
  raw-streams K   K streams opened at once on one connection: prints how
                  many the server refused (RST_STREAM REFUSED_STREAM)
"""
import json
import struct
import sys

sys.path.insert(0, sys.argv[1])
import grpc  # noqa: E402
import grpc_predict_v2_pb2 as pb  # noqa: E402
from tensorflow_serving.apis import predict_pb2  # noqa: E402
from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2  # noqa: E402

SIZES = {"FP32": 4, "FP16": 2, "UINT8": 1, "INT64": 8}
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 12
TF_TYPES = {"FP32": types_pb2.DT_FLOAT, "FP16": types_pb2.DT_HALF, "UINT8": types_pb2.DT_UINT8,
            "INT64": types_pb2.DT_INT64, "BYTES": types_pb2.DT_STRING, "FP64": types_pb2.DT_DOUBLE}


def call(ch, path, req, resp_type):
    f = ch.unary_unary(path, request_serializer=lambda m: m.SerializeToString(),
                       response_deserializer=resp_type.FromString)
    return f(req, timeout=20)


def infer_request(model, n, dt, shape, name, how):
    t = pb.ModelInferRequest.InferInputTensor(name=name, datatype=dt, shape=shape)
    q = pb.ModelInferRequest(model_name=model, id="req-1")
    elements = 1
    for d in shape:
        elements *= max(d, 0)
    if dt == "BYTES":
        if how == "typed":
            t.contents.bytes_contents.extend([JPEG] * n)
        else:
            q.raw_input_contents.append(b"".join(struct.pack("<I", len(JPEG)) + JPEG for _ in range(n)))
    elif how == "typed":
        vals = [0] * elements
        if dt == "FP32":
            t.contents.fp32_contents.extend(vals)
        elif dt == "INT64":
            t.contents.int64_contents.extend(vals)
        else:
            t.contents.uint_contents.extend(vals)
    else:
        size = SIZES.get(dt, 4) * elements
        if how == "empty":
            size = 0
        if how == "short":
            size -= SIZES.get(dt, 4)
        q.raw_input_contents.append(b"\0" * size)
    q.inputs.append(t)
    return q


PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def frame(ftype, flags, stream, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", stream) + payload


def hpack_literal(name, value):
    """A literal header field without indexing, new name, no Huffman."""
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


def request_headers(stream, end_stream):
    block = (b"\x83\x86" + hpack_literal(b":path", b"/inference.GRPCInferenceService/ModelInfer") +
             hpack_literal(b":authority", b"127.0.0.1") + hpack_literal(b"content-type", b"application/grpc") +
             hpack_literal(b"te", b"trailers"))
    return frame(1, 0x4 | (0x1 if end_stream else 0), stream, block)


def raw(port, what, args):
    import socket
    import time
    s = socket.create_connection(("127.0.0.1", int(port)))
    s.sendall(PREFACE + frame(4, 0, 0, b""))
    if what == "raw-partial":
        s.sendall(request_headers(1, False) + frame(0, 0, 1, b"\0" + struct.pack(">I", 1000) + b"x" * 10))
    elif what == "raw-frame":
        s.sendall(b"\0\0\x10\x01")
    elif what == "raw-streams":
        s.sendall(b"".join(request_headers(2 * i + 1, False) for i in range(int(args[0]))))
    start = time.monotonic()
    s.settimeout(30)
    buf = b""
    refused = 0
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            buf += d
            while len(buf) >= 9:
                n = int.from_bytes(buf[:3], "big")
                if len(buf) < 9 + n:
                    break
                if buf[3] == 3 and int.from_bytes(buf[9:13], "big") == 7:
                    refused += 1
                buf = buf[9 + n:]
            if what == "raw-streams" and time.monotonic() - start > 2:
                break
    except (socket.timeout, ConnectionResetError):
        pass
    if what == "raw-streams":
        print(refused)
    else:
        print("%.1f" % (time.monotonic() - start))


def main():
    port, what, args = sys.argv[2], sys.argv[3], sys.argv[4:]
    if what.startswith("raw-"):
        raw(port, what, args)
        return
    ch = grpc.insecure_channel("127.0.0.1:" + port,
                               options=[("grpc.max_receive_message_length", 256 << 20),
                                        ("grpc.max_send_message_length", 256 << 20)])
    svc = "/inference.GRPCInferenceService/"
    try:
        if what == "live":
            r = call(ch, svc + "ServerLive", pb.ServerLiveRequest(), pb.ServerLiveResponse)
            print("OK live=%s" % r.live)
        elif what == "ready":
            r = call(ch, svc + "ServerReady", pb.ServerReadyRequest(), pb.ServerReadyResponse)
            print("OK ready=%s" % r.ready)
        elif what == "model-ready":
            r = call(ch, svc + "ModelReady", pb.ModelReadyRequest(name=args[0]), pb.ModelReadyResponse)
            print("OK ready=%s" % r.ready)
        elif what == "metadata":
            r = call(ch, svc + "ModelMetadata", pb.ModelMetadataRequest(name=args[0]),
                     pb.ModelMetadataResponse)
            tensors = lambda ts: [{"name": t.name, "datatype": t.datatype, "shape": list(t.shape)} for t in ts]
            print("OK " + json.dumps({"name": r.name, "versions": list(r.versions), "platform": r.platform,
                                      "inputs": tensors(r.inputs), "outputs": tensors(r.outputs)},
                                     sort_keys=True))
        elif what == "infer":
            model, n = args[0], int(args[1])
            dt = args[2] if len(args) > 2 else "FP32"
            if len(args) > 3 and args[3] != "-":
                shape = [int(x) for x in args[3].split(",")]
            else:
                shape = [n] if dt == "BYTES" else [n, 224, 224, 3]
            name = args[4] if len(args) > 4 else "input_1"
            how = args[5] if len(args) > 5 else "raw"
            r = call(ch, svc + "ModelInfer", infer_request(model, n, dt, shape, name, how),
                     pb.ModelInferResponse)
            o = r.outputs[0]
            print("OK model=%s id=%s output=%s %s shape=%s bytes=%d" % (
                r.model_name, r.id, o.name, o.datatype, ",".join(map(str, o.shape)),
                len(r.raw_output_contents[0])))
        elif what == "predict":
            model, n = args[0], int(args[1])
            dt = args[2] if len(args) > 2 else "FP32"
            shape = [n] if dt == "BYTES" else [n, 224, 224, 3]
            t = tensor_pb2.TensorProto(dtype=TF_TYPES[dt], tensor_shape=tensor_shape_pb2.TensorShapeProto(
                dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=d) for d in shape]))
            if dt == "BYTES":
                t.string_val.extend([JPEG] * n)
            else:
                t.tensor_content = b"\0" * (SIZES.get(dt, 8) * n * 224 * 224 * 3)
            q = predict_pb2.PredictRequest()
            q.model_spec.name = model
            q.inputs["input_1"].CopyFrom(t)
            r = call(ch, "/tensorflow.serving.PredictionService/Predict", q, predict_pb2.PredictResponse)
            o = r.outputs["predictions"]
            print("OK model=%s version=%d output=%s shape=%s bytes=%d" % (
                r.model_spec.name, r.model_spec.version.value, types_pb2.DataType.Name(o.dtype),
                ",".join(str(d.size) for d in o.tensor_shape.dim), len(o.tensor_content)))
        elif what == "path":
            r = call(ch, args[0], pb.ServerLiveRequest(), pb.ServerLiveResponse)
            print("OK")
        else:
            sys.exit("grpc_client.py: unknown call " + what)
    except grpc.RpcError as e:
        print("%s %s" % (e.code().name, e.details()))


main()
