"""Prometheus metrics: turn latency, fallbacks, call outcomes and cases created, safe under gunicorn's workers.

With PROMETHEUS_MULTIPROC_DIR set (gunicorn.conf.py sets it), each worker writes its samples to files there and
/metrics adds them up; without it (tests, `ivr serve`) the process's own registry is read.
"""

from __future__ import annotations

import hmac
import os

from flask import Blueprint, Flask, Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

TURN_SECONDS = Histogram(
    "ivr_turn_seconds", "Time to answer one voice webhook, by kind (arrival, turn, status, wait, fallback)",
    ["kind"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
FALLBACKS = Counter("ivr_fallbacks_total", "Turns answered with the fallback TwiML, by reason", ["reason"])
CALL_OUTCOMES = Counter("ivr_call_outcomes_total", "Ended calls, by what they achieved", ["outcome"])
CASES_CREATED = Counter("ivr_cases_created_total", "Cases created, by channel", ["channel"])

bp = Blueprint("metrics", __name__)


def fallback(reason: str) -> None:
    """Count a caller who heard the fallback instead of the line."""
    FALLBACKS.labels(reason).inc()


def call_ended(outcome: str | None) -> None:
    """Count an ended call by its outcome."""
    CALL_OUTCOMES.labels(outcome or "none").inc()


def case_created(channel: str) -> None:
    """Count a new case."""
    CASES_CREATED.labels(channel).inc()


def _registry():
    """Every worker's samples under gunicorn; this process's otherwise."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    from prometheus_client import REGISTRY

    return REGISTRY


@bp.get("/metrics")
def metrics():
    """The samples in Prometheus's text format, for a scraper holding METRICS_TOKEN."""
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        abort(404)  # off unless the operator set a token: the figures are for the city's monitoring only
    offered = request.headers.get("Authorization", "").removeprefix("Bearer ")
    if not hmac.compare_digest(offered.encode(), token.encode()):
        abort(401, description="a valid bearer token is needed for /metrics")
    return Response(generate_latest(_registry()), mimetype=CONTENT_TYPE_LATEST)


def install(app: Flask) -> None:
    """Serve /metrics."""
    app.register_blueprint(bp)
