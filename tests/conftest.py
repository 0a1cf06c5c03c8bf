"""Shared fixtures: an app on a migrated database (SQLite, or PostgreSQL when IVR_TEST_DATABASE_URL says),
a frozen clock, and a simulated phone that signs requests like Twilio and checks every TwiML answer."""

from __future__ import annotations

import os
import re
import time
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient

from ivr import create_app
from ivr.cases import sync_config
from ivr.db import Database, scratch_postgres_database, upgrade
from ivr.models import Base
from ivr.settings import load as load_settings
from ivr.simulator import Simulator, WsgiTransport
from ivr.twiml_check import assert_valid_twiml
from tests.twilio_api import StandIn, serve

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
    with scratch_postgres_database(server_url, "ivr_test") as url:
        upgrade(url)
        yield url


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
def make_case(app, db):
    """make_case(code='pothole', at=None, **fields) -> a committed case, filed as by phone (at: Dec 1, 9:00)."""
    from ivr import cases

    schedule = app.extensions["ivr"].line.schedule

    def make(code: str = "pothole", at: datetime | None = None, **fields):
        case, _ = cases.create_case(db, cases.NewCase(service_type=code, **fields), schedule, "phone",
                                    now=at or hartford(2026, 12, 1, 9, 0))
        db.commit()
        return case

    return make


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
        # Open311 answers text/xml too, in its own grammar (tests/open311 parse and check those); /sms answers
        # messaging TwiML, which tests/voice/test_sms_status.py compares with twilio's MessagingResponse.
        if response.mimetype == "text/xml" and not response.request.path.startswith(("/open311/", "/sms")):
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


@pytest.fixture
def ivr_command(monkeypatch, app, database_url, clock):
    """ivr_command('callbacks', '--due') -> click Result: the `ivr` command builds its own app on the test
    database and clock (`app` is there so the tables are emptied after)."""
    from click.testing import CliRunner

    import ivr
    from ivr.cli import main

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("USER", "cli-test")
    for name in ("TWILIO_AUTH_TOKEN", "TWILIO_ACCOUNT_SID", "IVR_CONFIG", "IVR_CONFIG_DIR"):
        monkeypatch.delenv(name, raising=False)
    real_create_app = ivr.create_app
    built = []

    def create_app_at_test_clock(test_config=None):
        built.append(real_create_app({**(test_config or {}), "CLOCK": clock}))
        return built[-1]

    monkeypatch.setattr(ivr, "create_app", create_app_at_test_clock)
    yield lambda *args, input=None: CliRunner().invoke(main, list(args), input=input)
    for made in built:
        made.extensions["ivr"].db.dispose()


def signed_post(app, path: str, params: dict):
    """POST a webhook to the app signed as Twilio would sign it for http://localhost."""
    from twilio.request_validator import RequestValidator

    url = "http://localhost" + path
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    return app.test_client().post(path, data=params, headers={"X-Twilio-Signature": signature})


# ---- a local stand-in for api.twilio.com (tests/twilio_api.py) ----------------------------------------

@pytest.fixture
def twilio_stand_in(monkeypatch):
    """A fake api.twilio.com on 127.0.0.1, served from a thread for one test: .url, .requests, .status, .route()."""
    # Never route the loopback stand-in through a proxy someone has configured.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    stand_in = StandIn()
    server, thread = serve(stand_in)
    try:
        yield stand_in
    finally:
        stand_in.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=2)


# ---- the staff console: accounts, signed-in clients, the app served by the Procfile, a real browser ----------

STAFF_PASSWORD = "correct-horse-battery-staple"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives Debian's chromium against the app served by the Procfile")


@pytest.fixture
def staff_account(app):
    """Make an account: staff_account(role, department=None, username=None, password=...) -> (username, password)."""
    from ivr.staff import accounts

    made = []

    def make(role: str, department: str | None = None, username: str | None = None,
             password: str = STAFF_PASSWORD) -> tuple[str, str]:
        username = username or f"{role}{len(made) + 1}" + (f"-{department}" if department else "")
        state = app.extensions["ivr"]
        hashed = accounts.hash_password(password, state.settings.staff)
        with state.db.session() as session:
            accounts.create(session, username, role, department, hashed, "test", app.config["CLOCK"]())
        made.append(username)
        return username, password

    return make


def form_token(client, url: str = "/staff/login") -> str:
    """The CSRF token a page's forms carry, for this client's session."""
    page = client.get(url)
    match = CSRF_FIELD.search(page.get_data(as_text=True))
    assert match, f"no csrf_token field on {url} ({page.status_code})"
    return match.group(1)


def sign_in(client, username: str, password: str = STAFF_PASSWORD):
    """Sign a test client in through the real form; returns the form's answer."""
    return client.post("/staff/login", data={"username": username, "password": password,
                                             "csrf_token": form_token(client)})


@pytest.fixture
def staff_client(app, staff_account):
    """A test client signed in with a new account: staff_client(role, department=None) -> FlaskClient, whose
    `.actor` is how the audit trail names it."""

    def make(role: str, department: str | None = None):
        username, password = staff_account(role, department)
        client = app.test_client()
        answer = sign_in(client, username, password)
        assert answer.status_code == 302, answer.get_data(as_text=True)
        client.actor = f"staff:{username}"
        return client

    return make


@pytest.fixture
def operator(staff_client):
    """A 311 operator signed in to the console."""
    return staff_client("operator")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _procfile_web_command() -> str:
    """The Procfile's own `web:` command, exactly as a deployment runs it."""
    procfile = Path(__file__).resolve().parent.parent / "Procfile"
    for line in procfile.read_text().splitlines():
        if line.startswith("web:"):
            return line[len("web:"):].strip()
    raise AssertionError("Procfile has no web: line")


@pytest.fixture(scope="session")
def live_server(database_url, tmp_path_factory):
    """The app served over HTTP by the Procfile's gunicorn command on this session's database; its base URL."""
    import signal
    import subprocess
    import sys

    database = Database(database_url)
    with database.session() as session:
        sync_config(session, load_settings())  # the release step, as the Procfile's release: line does
    database.dispose()
    port = _free_port()
    root = Path(__file__).resolve().parent.parent
    log_path = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    env = {**os.environ, "PORT": str(port), "WEB_CONCURRENCY": "2", "DATABASE_URL": database_url,
           "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "SECRET_KEY": "browser-tests-" + uuid.uuid4().hex,
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "GUNICORN_CMD_ARGS": f"--config {root / 'tests' / 'live_gunicorn.py'} --bind 127.0.0.1:{port}",
           "IVR_TEST_CLOCK_START": OPEN_TIME.isoformat(), "IVR_TEST_CLOCK_ORIGIN": repr(time.time())}
    with log_path.open("wb") as log:
        server = subprocess.Popen(["bash", "-c", "exec " + _procfile_web_command()], cwd=root, env=env,
                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_answering(server, base, log_path)
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _wait_until_answering(server, base: str, log_path: Path) -> None:
    """Until /healthz answers; fails with the log's name if gunicorn exits or takes over 15 s."""
    import urllib.request

    for _ in range(150):
        if server.poll() is not None:
            raise AssertionError(f"gunicorn exited with {server.returncode}; see {log_path}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"gunicorn did not answer within 15 s; see {log_path}")


def require_chromium(path: Path, environ) -> None:
    """Skip without chromium on a developer's machine; fail where IVR_REQUIRE_BROWSER=1 (CI) says it must run."""
    if path.exists():
        return
    message = f"{path} is missing: `apt-get install -y chromium` (.ci/run does)"
    if environ.get("IVR_REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium, headless, driven by Playwright (a missing chromium fails when CI requires it)."""
    require_chromium(CHROMIUM, os.environ)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server, app):
    """A fresh browser tab (its own cookies) on the served app; `app` is there so the tables are emptied after."""
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


@pytest.fixture
def signed_in_page(page, staff_account):
    """Sign in through the real form: signed_in_page(role, department=None) -> the page, on the console."""

    def sign(role: str, department: str | None = None):
        username, password = staff_account(role, department)
        page.goto("/staff/login")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/staff/**")
        assert page.url.rstrip("/").endswith("/staff") or "/login" not in page.url, page.url
        return page

    return sign


@pytest.fixture
def screenshot():
    """Save a full-page screenshot under artifacts/screenshots/ (not committed): screenshot(page, name)."""

    def take(tab, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        tab.screenshot(path=str(path), full_page=True)
        return path

    return take


AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(scope="session")
def axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


@pytest.fixture
def accessibility(axe_source):
    """accessibility(page) -> axe-core's WCAG 2.1 A/AA violations on the page as it is now (empty when none)."""

    def check(tab) -> list[str]:
        # Evaluated through the DevTools protocol, which the page's CSP (no script at all) does not govern.
        tab.evaluate(axe_source)
        result = tab.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
        return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
                for v in result["violations"]]

    return check
