"""gunicorn settings read by the Procfile's `web` command (gunicorn loads ./gunicorn.conf.py by itself).

Only what the command line cannot say lives here: Prometheus's multi-process directory and its clean-up, and one
session key shared by every worker when SECRET_KEY is not set.
"""

import os
import secrets
import shutil
import tempfile

# Each worker writes its metric samples to files here; /metrics adds them up. Set before any worker imports
# prometheus_client, and emptied at start so a restarted server does not count the last run's calls again.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", os.path.join(tempfile.gettempdir(), f"ivr-metrics-{os.getpid()}"))


def on_starting(server):
    """Start from an empty metrics directory, with a session key every worker shares."""
    path = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path, exist_ok=True)
    share_a_session_key(server)


def share_a_session_key(server):
    """Without SECRET_KEY, make one in the master so that the workers it forks all sign cookies alike."""
    # Each worker would otherwise make up its own key, and staff would be signed out whenever a request reached
    # another worker. This key lasts until the server restarts; several servers still need SECRET_KEY set.
    if not os.environ.get("SECRET_KEY"):
        os.environ["SECRET_KEY"] = secrets.token_hex(32)
        server.log.warning("SECRET_KEY is not set: this server's workers share a key made at start-up, so staff "
                           "are signed out when it restarts; set SECRET_KEY (the same on every server)")


def child_exit(server, worker):
    """A worker that died or was replaced leaves its counters, but not its live gauges, behind."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
