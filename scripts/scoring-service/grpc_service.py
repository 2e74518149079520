"""The scoring service's KServe v2 gRPC endpoint (inference.GRPCInferenceService).

gunicorn.conf.py starts one in every worker when SCORING_GRPC_PORT is set,
after the worker has loaded app.py: each worker's server binds the same
port with SO_REUSEPORT, so the kernel spreads gRPC connections over the
workers as it spreads HTTP ones, and every worker scores with the model it
already holds. Each worker generates the stubs from the repo's
proto/grpc_predict_v2.proto with python3-grpc-tools into a temporary
directory, imports them and removes the directory; none is committed.

  ServerLive, ServerReady   true once the worker serves
  ModelReady, ModelMetadata app.METADATA; another model: NOT_FOUND
  ModelInfer                one input, app.INPUT_NAME, either
      BYTES [N]: encoded JPEG/PNG images, in raw_input_contents (Triton's
          form: a 4-byte little-endian length before each) or
          bytes_contents; decoded, resized and normalised as /score does;
      FP32 [N,3,224,224] (NCHW, as the metadata says) or [N,224,224,3]
          (NHWC), ImageNet-normalised, in raw_input_contents (little-endian)
          or fp32_contents;
  and replies app.OUTPUT_NAME, FP32 [N,1000] softmax probabilities, in
  raw_output_contents. A request the model cannot take: INVALID_ARGUMENT
  with what was wrong; another model or version: NOT_FOUND.

With SCORING_GRPC_TLS_PORT (and a certificate and key) the same service
listens over TLS on a second port too: for clients that speak gRPC only
over TLS (a libcurl older than 8.0 cannot reuse an h2c connection).
"""

import os
import shutil
import struct
import subprocess
import sys
import tempfile
from concurrent import futures

PROTO = "grpc_predict_v2.proto"


def generate_stubs(proto_path):
    """proto/grpc_predict_v2.proto -> a new temporary directory holding
    grpc_predict_v2_pb2{,_grpc}.py (the caller removes it)."""
    out = tempfile.mkdtemp(prefix="scoring-grpc-")
    cmd = [sys.executable, "-m", "grpc_tools.protoc", "-I" + os.path.dirname(os.path.abspath(proto_path)),
           "--python_out=" + out, "--grpc_python_out=" + out, os.path.abspath(proto_path)]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        raise RuntimeError("cannot generate the gRPC stubs from %s (is python3-grpc-tools "
                           "installed?): %s" % (proto_path, r.stdout.strip()))
    return out


def import_stubs(proto_path):
    """The generated modules (grpc_predict_v2_pb2, ..._pb2_grpc), imported;
    their directory is gone once they are loaded."""
    stubs = generate_stubs(proto_path)
    sys.path.insert(0, stubs)
    try:
        import grpc_predict_v2_pb2 as pb
        import grpc_predict_v2_pb2_grpc as pb_grpc
    finally:
        sys.path.remove(stubs)
        shutil.rmtree(stubs, ignore_errors=True)
    return pb, pb_grpc


def start(app, proto_path, host, port, tls=None, threads=4):
    """A started grpc.Server for `app` (the loaded app.py module) on
    host:port (h2c), and with tls = (port, cert PEM, key PEM) on that port
    too, over TLS. Raises RuntimeError when the stubs cannot be generated
    or a port cannot be bound."""
    import grpc
    import numpy as np
    import torch
    pb, pb_grpc = import_stubs(proto_path)

    side = app.SIDE
    per_image = 3 * side * side

    class Refused(Exception):
        def __init__(self, code, msg):
            super().__init__(msg)
            self.code = code

    def tensor_meta(t):
        return pb.ModelMetadataResponse.TensorMetadata(name=t["name"], datatype=t["datatype"],
                                                       shape=t["shape"])

    metadata = pb.ModelMetadataResponse(
        name=app.METADATA["name"], versions=app.METADATA["versions"],
        platform=app.METADATA["platform"],
        inputs=[tensor_meta(t) for t in app.METADATA["inputs"]],
        outputs=[tensor_meta(t) for t in app.METADATA["outputs"]])

    def check_model(name, version):
        if name != app.MODEL_NAME or version not in ("", app.MODEL_VERSION):
            raise Refused(grpc.StatusCode.NOT_FOUND,
                          "model %s version %s not found; this server has %s version %s"
                          % (name, version or "(latest)", app.MODEL_NAME, app.MODEL_VERSION))

    def images_of(t, raw, n):
        """BYTES elements -> n normalised 3x224x224 tensors."""
        if raw is not None:
            elems, at = [], 0
            while at < len(raw):
                if len(raw) - at < 4:
                    break
                (size,) = struct.unpack_from("<I", raw, at)
                if size > len(raw) - at - 4:
                    break
                elems.append(raw[at + 4:at + 4 + size])
                at += 4 + size
            if at != len(raw):
                raise Refused(grpc.StatusCode.INVALID_ARGUMENT,
                              "input %s: raw_input_contents is not BYTES elements (a 4-byte "
                              "little-endian length, then that many bytes); element %d is cut short"
                              % (t.name, len(elems)))
        else:
            elems = list(t.contents.bytes_contents)
        if len(elems) != n:
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT,
                          "input %s: shape [%d] but %d BYTES elements" % (t.name, n, len(elems)))
        out = []
        for i, e in enumerate(elems):
            try:
                out.append(app.decode_bytes(e))
            except app.BadRequest as err:
                raise Refused(grpc.StatusCode.INVALID_ARGUMENT,
                              "input %s, element %d: %s" % (t.name, i, err))
        return torch.stack(out)

    def floats_of(t, raw, shape):
        """FP32 data -> an Nx3x224x224 tensor."""
        want = shape[0] * per_image
        if raw is not None:
            if len(raw) != want * 4:
                raise Refused(grpc.StatusCode.INVALID_ARGUMENT,
                              "input %s: shape %s needs %d bytes of FP32, raw_input_contents has %d"
                              % (t.name, list(shape), want * 4, len(raw)))
            values = np.frombuffer(raw, dtype="<f4")
        else:
            if len(t.contents.fp32_contents) != want:
                raise Refused(grpc.StatusCode.INVALID_ARGUMENT,
                              "input %s: shape %s needs %d FP32 values, fp32_contents has %d"
                              % (t.name, list(shape), want, len(t.contents.fp32_contents)))
            values = np.array(t.contents.fp32_contents, dtype=np.float32)
        batch = torch.from_numpy(values.astype(np.float32)).reshape(*shape)
        return batch.permute(0, 3, 1, 2) if shape[3] == 3 else batch

    def batch_of(req):
        """The request's one input -> an Nx3x224x224 tensor."""
        if len(req.inputs) != 1:
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT,
                          "%d inputs; this model takes exactly one, %s" % (len(req.inputs), app.INPUT_NAME))
        t = req.inputs[0]
        if t.name != app.INPUT_NAME:
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT,
                          "unknown input %s; this model's input is %s" % (t.name, app.INPUT_NAME))
        for o in req.outputs:
            if o.name != app.OUTPUT_NAME:
                raise Refused(grpc.StatusCode.INVALID_ARGUMENT,
                              "unknown output %s; this model's output is %s" % (o.name, app.OUTPUT_NAME))
        if len(req.raw_input_contents) > 1:
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT,
                          "%d raw_input_contents for one input" % len(req.raw_input_contents))
        raw = req.raw_input_contents[0] if req.raw_input_contents else None
        if raw is not None and t.HasField("contents"):
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT,
                          "input %s has both contents and raw_input_contents; send one" % t.name)
        shape = list(t.shape)
        n = shape[0] if shape else 0
        if not 1 <= n <= app.MAX_BATCH:
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT,
                          "input %s: shape %s: the batch must be 1..%d images"
                          % (t.name, shape, app.MAX_BATCH))
        if t.datatype == "BYTES":
            if len(shape) != 1:
                raise Refused(grpc.StatusCode.INVALID_ARGUMENT,
                              "input %s: BYTES shape %s; send [N], one encoded image per element"
                              % (t.name, shape))
            return images_of(t, raw, n)
        if t.datatype == "FP32":
            if shape[1:] not in ([3, side, side], [side, side, 3]):
                raise Refused(grpc.StatusCode.INVALID_ARGUMENT,
                              "input %s: FP32 shape %s; send [N, 3, %d, %d] (NCHW) or [N, %d, %d, 3] "
                              "(NHWC)" % (t.name, shape, side, side, side, side))
            return floats_of(t, raw, shape)
        raise Refused(grpc.StatusCode.INVALID_ARGUMENT,
                      "input %s: datatype %s; send FP32 tensors or BYTES of encoded images"
                      % (t.name, t.datatype))

    def refusing(fn):
        """A handler whose Refused becomes the call's status and message."""
        def handler(self, req, ctx):
            try:
                return fn(self, req, ctx)
            except Refused as e:
                ctx.abort(e.code, str(e))
        return handler

    class Service(pb_grpc.GRPCInferenceServiceServicer):
        def ServerLive(self, req, ctx):
            return pb.ServerLiveResponse(live=True)

        def ServerReady(self, req, ctx):
            return pb.ServerReadyResponse(ready=True)

        @refusing
        def ModelReady(self, req, ctx):
            check_model(req.name, req.version)
            return pb.ModelReadyResponse(ready=True)

        @refusing
        def ModelMetadata(self, req, ctx):
            check_model(req.name, req.version)
            return metadata

        @refusing
        def ModelInfer(self, req, ctx):
            check_model(req.model_name, req.model_version)
            probs = app.probabilities(batch_of(req)).cpu().numpy().astype("<f4")
            out = pb.ModelInferResponse.InferOutputTensor(name=app.OUTPUT_NAME, datatype="FP32",
                                                          shape=list(probs.shape))
            return pb.ModelInferResponse(model_name=app.MODEL_NAME, model_version=app.MODEL_VERSION,
                                         id=req.id, outputs=[out],
                                         raw_output_contents=[probs.tobytes()])

    # The same bound on a request as REST's SCORING_MAX_BODY. SO_REUSEPORT:
    # every worker listens on the one port.
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=threads),
                         options=[("grpc.so_reuseport", 1),
                                  ("grpc.max_receive_message_length", app.MAX_BODY),
                                  ("grpc.max_send_message_length", app.MAX_BODY)])
    pb_grpc.add_GRPCInferenceServiceServicer_to_server(Service(), server)
    def listen(port, creds=None):
        address = ("[%s]:%d" if ":" in host else "%s:%d") % (host, port)
        # grpcio before 1.50 returns 0 when it cannot bind; later ones raise.
        try:
            bound = server.add_secure_port(address, creds) if creds else server.add_insecure_port(address)
        except RuntimeError:
            bound = 0
        if bound == 0:
            raise RuntimeError("cannot listen for gRPC on %s: the port is taken, or the host is not "
                               "this machine's; set SCORING_GRPC_PORT (or SCORING_GRPC_TLS_PORT) "
                               "to a free port" % address)

    listen(port)
    if tls:
        listen(tls[0], grpc.ssl_server_credentials([(tls[2], tls[1])]))
    server.start()
    return server
