"""gunicorn settings for the tracker's web unit (deploy/tracker-web.service passes --config).

With PROMETHEUS_MULTIPROC_DIR set, every gunicorn worker writes its metrics to files in that folder
and /metrics adds them up (docs/operations.md). These hooks make sure the folder exists and tell
the metrics library when a worker has gone. Every worker is told how many workers there are
(GUNICORN_WORKERS), so that production refuses to start several without REDIS_URL.
"""

import os


def on_starting(server):
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)


def child_exit(server, worker):
    """A worker has stopped: its live gauges no longer count (its counters still do)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def post_fork(server, worker):
    """A new worker, before it loads the app: tell it how many workers serve, so that production
    refuses to count failed sign-ins in each worker's memory (it needs REDIS_URL; README)."""
    os.environ["GUNICORN_WORKERS"] = str(server.cfg.workers)
