"""gunicorn settings for the web service (compose.yaml): Prometheus multiprocess bookkeeping.

With PROMETHEUS_MULTIPROC_DIR set, each worker writes its metrics to files there and /metrics
merges them (clinsum.metrics). The directory must start empty, and a worker that exits must be
marked dead so its live gauges stop counting.
"""

import os
from pathlib import Path


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
