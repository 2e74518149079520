# gunicorn settings for the scoring service:
#   gunicorn -c scripts/scoring-service/gunicorn.conf.py app:app
# (run from scripts/scoring-service, or add --chdir there).
#
# Environment:
#   SCORING_BIND     address:port (default 127.0.0.1:8000; the container
#                    image sets 0.0.0.0:8000)
#   SCORING_WORKERS  worker processes (default WEB_CONCURRENCY, else 1). Each
#                    worker holds its own model and scores one request at a
#                    time with SCORING_THREADS torch threads (default 1): on a
#                    C-core machine, workers x threads = C.
#   SCORING_WORKER_CLASS  sync (default) or gthread. sync takes one
#                    connection per request (no keep-alive), which spreads
#                    the requests evenly over the workers: whichever is free
#                    accepts. gthread keeps connections alive, each pinned to
#                    the worker that accepted it.
#   SCORING_TIMEOUT  seconds a request may take before its worker is
#                    restarted (default 120)
#   SCORING_ACCESS_LOG  "-" for an access log on stdout (default none)
#   SCORING_GRPC_PORT  a port for the KServe v2 gRPC endpoint (grpc_service.py)
#                    on SCORING_BIND's host; every worker serves it too
#                    (default: no gRPC)
#   SCORING_GRPC_TLS_PORT, SCORING_GRPC_TLS_CERT, SCORING_GRPC_TLS_KEY
#                    the same gRPC service over TLS on a second port, with
#                    this certificate and key (PEM files; default: none)
#   SCORING_GRPC_PROTO  the grpc_predict_v2.proto its stubs are generated
#                    from (default: the repository's proto/)
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

bind = os.environ.get("SCORING_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("SCORING_WORKERS", os.environ.get("WEB_CONCURRENCY", "1")))
worker_class = os.environ.get("SCORING_WORKER_CLASS", "sync")
threads = 1
timeout = int(os.environ.get("SCORING_TIMEOUT", "120"))
graceful_timeout = 10
keepalive = 5

# Not preloaded: every worker imports app.py itself, so torch starts its
# thread pools after the fork (forking a process whose OpenMP pool is already
# running can hang the child) and each worker loads and warms its own model
# before it accepts a connection.
preload_app = False

accesslog = os.environ.get("SCORING_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("SCORING_LOG_LEVEL", "info")

# The heartbeat file on a RAM disk: on a container's overlay filesystem a slow
# write can make the master think a busy worker is dead.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# The gRPC endpoint, in the workers rather than a process of its own: one
# command still starts (and stops) the whole service, in a container too;
# each worker answers gRPC with the model it has already loaded, and the
# kernel spreads connections over the workers (SO_REUSEPORT), as it does
# HTTP ones. The master never imports grpc (gRPC's threads do not survive a
# fork); each worker generates its stubs after the fork, so a reload (HUP)
# or a restarted worker needs nothing from the master.
grpc_port = os.environ.get("SCORING_GRPC_PORT")
grpc_proto = os.environ.get("SCORING_GRPC_PROTO",
                            os.path.join(HERE, "..", "..", "proto", "grpc_predict_v2.proto"))
grpc_tls_port = os.environ.get("SCORING_GRPC_TLS_PORT")
grpc_server = None  # a worker's grpc.Server


def read_pem(var):
    path = os.environ.get(var)
    if not path:
        raise RuntimeError("SCORING_GRPC_TLS_PORT needs %s, a PEM file" % var)
    with open(path, "rb") as f:
        return f.read()


def post_worker_init(worker):
    global grpc_server
    if grpc_port:
        import grpc_service
        host = bind.rsplit(":", 1)[0].strip("[]")
        tls = None
        if grpc_tls_port:
            tls = (int(grpc_tls_port), read_pem("SCORING_GRPC_TLS_CERT"), read_pem("SCORING_GRPC_TLS_KEY"))
        grpc_server = grpc_service.start(sys.modules["app"], grpc_proto, host, int(grpc_port), tls)
        # scripts/e2e.sh counts these lines too.
        print("scoring: worker %d gRPC on %s:%s%s" % (os.getpid(), host, grpc_port,
              ", TLS on %s" % grpc_tls_port if tls else ""), file=sys.stderr, flush=True)


def worker_exit(server, worker):
    # Called in the exiting worker (and, for a worker already gone, in the
    # master, where grpc_server is None). Calls in flight get the graceful
    # timeout to finish.
    if grpc_server is not None:
        grpc_server.stop(graceful_timeout).wait()
