"""Shared fixtures: an app on a migrated database (SQLite, or PostgreSQL when IVR_TEST_DATABASE_URL says),
a frozen clock, and a simulated phone that signs requests like Twilio and checks every TwiML answer."""

from __future__ import annotations

import os
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ivr import create_app
from ivr.cases import sync_config
from ivr.db import normalise_url, upgrade
from ivr.models import Base
from ivr.simulator import Simulator, WsgiTransport
from ivr.twiml_check import assert_valid_twiml

HARTFORD = ZoneInfo("America/New_York")
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
# A Tuesday morning, open: 2026-12-01 10:00 in Hartford.
OPEN_TIME = datetime(2026, 12, 1, 10, 0, tzinfo=HARTFORD)


def hartford(*args) -> datetime:
    """A Hartford wall-clock instant."""
    return datetime(*args, tzinfo=HARTFORD)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """A migrated, empty database for this test session: a fresh PostgreSQL database or a SQLite file."""
    server_url = os.environ.get("IVR_TEST_DATABASE_URL")
    if not server_url:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        upgrade(url)
        yield url
        return
    # One database per run so parallel runs and a developer's own data never collide.
    admin = create_engine(normalise_url(server_url), isolation_level="AUTOCOMMIT")
    name = f"ivr_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalise_url(server_url)).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class Clock:
    """A settable clock the app reads instead of the real time."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, *args) -> None:
        """Move to a Hartford wall-clock time."""
        self.now = hartford(*args)


@pytest.fixture
def clock():
    """Frozen at an open time unless a test moves it."""
    return Clock(OPEN_TIME)


def _wipe(engine) -> None:
    """Empty every table, children first."""
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def make_app(database_url, clock):
    """Build an app with extra settings; tables are emptied after the test."""
    apps = []

    def build(settings: dict | None = None, **config):
        app = create_app({"TESTING": True, "DATABASE_URL": database_url, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                          "CLOCK": clock, "SETTINGS": settings or {}, **config})
        apps.append(app)
        state = app.extensions["ivr"]
        with state.db.session() as session:
            sync_config(session, state.settings)
        return app

    yield build
    for app in apps:
        state = app.extensions["ivr"]
        _wipe(state.db.engine)
        state.db.dispose()


@pytest.fixture
def app(make_app):
    """The app with the shipped configuration."""
    return make_app()


@pytest.fixture
def db(app):
    """A database session on the app's database (for assertions and set-up)."""
    session = app.extensions["ivr"].db.sessions()
    yield session
    session.close()


class CheckedTransport(WsgiTransport):
    """Flask test-client transport that validates every TwiML answer against twilio's classes."""

    def request(self, method, url, params, headers):
        answer = super().request(method, url, params, headers)
        if answer.status == 200:
            assert_valid_twiml(answer.body)
        return answer


@pytest.fixture
def phone(app):
    """Dial the line: phone(to='311', from_=...) -> a Call from the simulator."""

    def dial(to: str = "311", from_: str = "+18605550123", **options):
        numbers = app.extensions["ivr"].line.numbers
        to_number = {"311": numbers["three_one_one"], "ten-digit": numbers["ten_digit"]}.get(to, to)
        sim = Simulator(CheckedTransport(app.test_client()), AUTH_TOKEN, public_base_url="http://localhost",
                        to=to_number, from_=from_, **options)
        return sim.dial()

    return dial
