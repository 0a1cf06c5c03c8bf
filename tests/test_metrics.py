"""Prometheus metrics (ivr/metrics.py): off without a token, behind a bearer token, counting what the line does."""

from __future__ import annotations

import subprocess
import sys

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ivr.cases import NewCase, create_case

TOKEN = "metrics-token-for-tests"


def scrape(app) -> dict[tuple[str, tuple], float]:
    """Every sample /metrics serves, by (name, sorted labels)."""
    response = app.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.get_data(as_text=True))
            for sample in family.samples}


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def watched(make_app):
    return make_app(METRICS_TOKEN=TOKEN)


def test_metrics_are_off_without_a_token_and_refused_without_the_right_one(app, watched):
    assert app.test_client().get("/metrics").status_code == 404
    assert watched.test_client().get("/metrics").status_code == 401
    wrong = watched.test_client().get("/metrics", headers={"Authorization": "Bearer guess"})
    assert wrong.status_code == 401 and b"ivr_" not in wrong.data


def test_turns_and_outcomes_are_counted(watched, phone_on):
    before = scrape(watched)
    call = phone_on(watched)
    call.press("1").press("3")  # English, information
    call.hangup()
    bad = phone_on(watched)
    bad.sim.transport.client.post("/voice/turn?node=nowhere&lang=en&attempt=1&event=gather")  # unsigned: 403
    after = scrape(watched)
    arrivals = value(after, "ivr_turn_seconds_count", kind="arrival") - value(before, "ivr_turn_seconds_count",
                                                                               kind="arrival")
    assert arrivals == 2
    assert value(after, "ivr_turn_seconds_count", kind="turn") > value(before, "ivr_turn_seconds_count", kind="turn")
    ended = sum(v for (name, _), v in after.items() if name == "ivr_call_outcomes_total")
    assert ended - sum(v for (name, _), v in before.items() if name == "ivr_call_outcomes_total") == 1


def test_a_new_case_is_counted_once_and_a_repeated_intake_not_at_all(watched, db):
    before = scrape(watched)
    schedule = watched.extensions["ivr"].settings.schedule
    request = NewCase(service_type="pothole", location="12 Main St", channel="open311", intake_key="k1")
    assert create_case(db, request, schedule, actor="test")[1] is True
    assert create_case(db, request, schedule, actor="test")[1] is False
    after = scrape(watched)
    assert value(after, "ivr_cases_created_total", channel="open311") - \
        value(before, "ivr_cases_created_total", channel="open311") == 1


def test_a_fallback_is_counted_by_its_reason(watched, phone_on, monkeypatch):
    before = scrape(watched)
    monkeypatch.setitem(watched.extensions["ivr"].action_handlers, "begin_intake",
                        lambda *args: (_ for _ in ()).throw(RuntimeError("boom")))
    phone_on(watched).press("1").press("1")
    after = scrape(watched)
    assert value(after, "ivr_fallbacks_total", reason="turn_failed") - \
        value(before, "ivr_fallbacks_total", reason="turn_failed") == 1


WORKER = """
import os, sys
from ivr import metrics
metrics.fallback("turn_failed")
metrics.case_created("phone")
"""


def test_workers_samples_are_added_up_under_gunicorn(watched, tmp_path, monkeypatch):
    """Two worker processes write to the multi-process directory; /metrics serves their sum."""
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PATH": ""}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", WORKER], env=env, check=True, timeout=60)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    samples = scrape(watched)
    assert value(samples, "ivr_fallbacks_total", reason="turn_failed") == 2
    assert value(samples, "ivr_cases_created_total", channel="phone") == 2
