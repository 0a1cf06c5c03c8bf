"""Shared fixtures: an app on a migrated database (SQLite, or PostgreSQL when IVR_TEST_DATABASE_URL says),
a frozen clock, and a simulated phone that signs requests like Twilio and checks every TwiML answer."""

from __future__ import annotations

import json
import os
import re
import threading
import time
import uuid
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ivr import create_app
from ivr.cases import sync_config
from ivr.db import Database, normalise_url, upgrade
from ivr.models import Base
from ivr.settings import load as load_settings
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
        # As the release step does before the web starts: start-up refuses a database out of step with config/.
        database = Database(database_url)
        with database.session() as session:
            sync_config(session, load_settings(config.get("CONFIG_DIR"), overrides=settings))
        database.dispose()
        app = create_app({"TESTING": True, "DATABASE_URL": database_url, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                          "CLOCK": clock, "SETTINGS": settings or {}, **config})
        apps.append(app)
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


@pytest.fixture(autouse=True)
def every_twiml_answer_is_checked(monkeypatch, request):
    """Every XML answer any test client receives is checked against twilio's TwiML classes."""
    if request.node.get_closest_marker("serves_invalid_twiml"):
        return  # the test's own stand-in app answers bad TwiML on purpose
    original_open = FlaskClient.open

    def open_and_check(self, *args, **kwargs):
        response = original_open(self, *args, **kwargs)
        if response.mimetype == "text/xml":
            assert_valid_twiml(response.get_data(as_text=True))
        return response

    monkeypatch.setattr(FlaskClient, "open", open_and_check)


def dial_line(app, to: str = "311", from_: str = "+18605550123", **options):
    """Place a simulated call to an app: to is '311', 'ten-digit' or a number; every answer is validated."""
    numbers = app.extensions["ivr"].settings.numbers
    to_number = {"311": numbers.three_one_one, "ten-digit": numbers.ten_digit}.get(to, to)
    sim = Simulator(WsgiTransport(app.test_client()), AUTH_TOKEN, public_base_url="http://localhost",
                    to=to_number, from_=from_, **options)
    return sim.dial()


@pytest.fixture
def phone(app):
    """Dial the line: phone(to='311', from_=...) -> a Call from the simulator."""

    def dial(to: str = "311", from_: str = "+18605550123", **options):
        return dial_line(app, to, from_, **options)

    return dial


@pytest.fixture
def phone_on():
    """Dial an app built with make_app: phone_on(app, to='311', from_=...) -> a Call."""
    return dial_line


# ---- a local stand-in for api.twilio.com (text messages) ------------------------------------------

MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-f]{32})/Messages\.json$")
INVALID_TO = {
    "code": 21211,
    "message": "The 'To' number is not a valid phone number.",
    "more_info": "https://www.twilio.com/docs/errors/21211",
    "status": 400,
}


class StandIn:
    """What the fake Twilio saw, and how it should answer the next request."""

    def __init__(self):
        self.requests: list[dict] = []
        self.status = 201  # 201 = accept the message; anything else = answer with error_body
        self.error_body: dict = INVALID_TO
        self.delay = 0.0  # seconds to stall before answering
        self.release = threading.Event()  # set at teardown so a stalled handler ends at once
        self.url = ""


class _StandInHandler(BaseHTTPRequestHandler):
    server: _StandInServer

    def do_POST(self):  # noqa: N802 - the name http.server dispatches to
        stand_in = self.server.stand_in
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode()
        form = {key: values[0] for key, values in parse_qs(raw, keep_blank_values=True).items()}
        stand_in.requests.append(
            {
                "method": self.command,
                "path": self.path,
                "form": form,
                "authorization": self.headers.get("Authorization"),
            }
        )
        if stand_in.delay:
            stand_in.release.wait(stand_in.delay)
        match = MESSAGES_PATH.match(self.path)
        if not match:
            self._answer(404, {"code": 20404, "message": "The requested resource was not found", "status": 404})
        elif stand_in.status != 201:
            self._answer(stand_in.status, stand_in.error_body)
        else:
            self._answer(201, _message_resource(match.group(1), form))

    def _answer(self, status: int, payload: dict):
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the client gave up waiting (timeout test)

    def log_message(self, format, *args):  # noqa: A002 - keep the test output quiet
        pass


class _StandInServer(ThreadingHTTPServer):
    daemon_threads = True
    stand_in: StandIn

    def handle_error(self, request, client_address):
        pass  # a client hanging up mid-answer is expected in the timeout test


def _message_resource(account_sid: str, form: dict) -> dict:
    """A Message resource as Twilio returns it on create."""
    sid = "SM" + uuid.uuid4().hex
    now = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
    return {
        "account_sid": account_sid,
        "api_version": "2010-04-01",
        "body": form.get("Body", ""),
        "date_created": now,
        "date_sent": None,
        "date_updated": now,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": form.get("From"),
        "messaging_service_sid": None,
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": "queued",
        "subresource_uris": {"media": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}/Media.json"},
        "to": form.get("To"),
        "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json",
    }


@pytest.fixture
def twilio_stand_in(monkeypatch):
    """A fake api.twilio.com on 127.0.0.1, served from a thread for one test: .url, .requests, .status."""
    # Never route the loopback stand-in through a proxy someone has configured.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    stand_in = StandIn()
    server = _StandInServer(("127.0.0.1", 0), _StandInHandler)
    server.stand_in = stand_in
    host, port = server.server_address[:2]
    stand_in.url = f"http://{host}:{port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield stand_in
    finally:
        stand_in.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=2)
