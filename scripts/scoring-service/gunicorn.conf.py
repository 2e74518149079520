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
import os

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
