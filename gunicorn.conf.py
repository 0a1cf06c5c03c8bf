"""gunicorn settings read by the Procfile's `web` command (gunicorn loads ./gunicorn.conf.py by itself).

Only what the command line cannot say lives here: Prometheus's multi-process directory and its clean-up.
"""

import os
import shutil
import tempfile

# Each worker writes its metric samples to files here; /metrics adds them up. Set before any worker imports
# prometheus_client, and emptied at start so a restarted server does not count the last run's calls again.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", os.path.join(tempfile.gettempdir(), f"ivr-metrics-{os.getpid()}"))


def on_starting(server):
    """Start from an empty metrics directory."""
    path = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path, exist_ok=True)


def child_exit(server, worker):
    """A worker that died or was replaced leaves its counters, but not its live gauges, behind."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
