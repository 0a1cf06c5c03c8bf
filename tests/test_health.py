"""/healthz says the process is up; /readyz says the database answers within a second and is migrated."""

from __future__ import annotations

import time

import pytest

from ivr import create_app
from ivr.db import upgrade
from ivr.health import PROBE_SECONDS
from tests.conftest import AUTH_TOKEN
from tests.test_db_time_limits import SHORT, FrozenServer

# The probe's bound plus slack for a loaded CI machine, and still below libpq's shortest connect timeout (2 s).
PROMPTLY = PROBE_SECONDS + 0.8


@pytest.fixture
def app_on(clock):
    """Build an app on a given database URL (not compared with config/); its connections are closed after."""
    apps = []

    def build(url: str):
        app = create_app({"TESTING": True, "DATABASE_URL": url, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "CLOCK": clock,
                          "SETTINGS": SHORT, "CHECK_DATABASE": False})
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["ivr"].db.dispose()


def timed_get(app, path: str):
    """GET path; returns the answer and the seconds it took."""
    started = time.monotonic()
    answer = app.test_client().get(path)
    return answer, time.monotonic() - started


def test_ready_on_the_migrated_database(app):
    answer = app.test_client().get("/readyz")
    assert (answer.status_code, answer.get_json()) == (200, {"status": "ready"})


def test_healthz_never_asks_the_database(app_on):
    app = app_on("postgresql://nobody@127.0.0.1:1/none")
    answer = app.test_client().get("/healthz")
    assert (answer.status_code, answer.get_json()) == (200, {"status": "ok"})


def test_not_ready_on_a_database_at_an_older_revision(app_on, tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0001")
    answer = app_on(url).test_client().get("/readyz")
    assert answer.status_code == 503
    assert answer.get_json() == {"status": "unavailable", "reason": "migrations behind: run ivr db upgrade"}


def test_not_ready_on_a_database_never_migrated(app_on, tmp_path):
    answer = app_on(f"sqlite:///{tmp_path / 'empty.db'}").test_client().get("/readyz")
    assert (answer.status_code, answer.get_json()["reason"]) == (503, "migrations behind: run ivr db upgrade")


def test_not_ready_on_a_database_newer_than_the_release(app_on, tmp_path):
    url = f"sqlite:///{tmp_path / 'newer.db'}"
    upgrade(url)
    app = app_on(url)
    with app.extensions["ivr"].db.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 503
    assert answer.get_json()["reason"] == "schema at revision 9999, unknown to this release"


def test_not_ready_on_a_closed_port(app_on):
    answer, seconds = timed_get(app_on("postgresql://nobody@127.0.0.1:1/none"), "/readyz")
    assert answer.status_code == 503
    assert answer.get_json() == {"status": "unavailable", "reason": "database unreachable"}
    assert seconds < PROMPTLY, f"{seconds:.1f}s"


def test_not_ready_within_the_bound_on_a_server_that_never_answers(app_on):
    server = FrozenServer()
    try:
        app = app_on(f"postgresql://postgres@127.0.0.1:{server.port}/x")
        # The connect timeout (2 s here, 3 s shipped) is longer than the probe's bound: the bound must win.
        first, seconds = timed_get(app, "/readyz")
        assert (first.status_code, first.get_json()["reason"]) == (503, "database unreachable")
        assert seconds < PROMPTLY, f"{seconds:.1f}s"
        assert server.accepted, "the probe never tried the server"
        # A second probe while the first still hangs answers at once instead of piling up connections.
        second, seconds = timed_get(app, "/readyz")
        assert second.status_code == 503 and seconds < 0.5, f"{seconds:.1f}s"
        assert len(server.accepted) == 1
    finally:
        server.close()


def test_the_answer_is_json_never_a_traceback(app_on, tmp_path):
    answer = app_on(f"sqlite:///{tmp_path}").test_client().get("/readyz")  # a directory, not a database
    assert answer.status_code == 503 and answer.mimetype == "application/json"
    assert "Traceback" not in answer.get_data(as_text=True)
