"""gunicorn settings the browser tests add to the Procfile's command (through GUNICORN_CMD_ARGS).

Only one thing differs from production: each worker's clock runs from a fixed instant (IVR_TEST_CLOCK_START,
an open Tuesday morning) instead of today's date, so a run on a weekend or a holiday hears the same line.
"""

import os
import time
from datetime import datetime, timedelta


def post_worker_init(worker):
    """Give the loaded app a clock that ticks from the test's start instant."""
    start = datetime.fromisoformat(os.environ["IVR_TEST_CLOCK_START"])
    origin = float(os.environ["IVR_TEST_CLOCK_ORIGIN"])  # the real time.time() at that instant
    worker.wsgi.config["CLOCK"] = lambda: start + timedelta(seconds=time.time() - origin)
