"""Time limits on the database (config/database.toml): a database that hangs must not silence the line.

A turn whose database does not answer gives the caller the fallback (911 advisory, then the call centre)
within seconds, well inside the 15 seconds Twilio waits for a webhook.
"""

from __future__ import annotations

import socket
import sqlite3
import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from ivr import create_app
from ivr.cases import sync_config
from ivr.db import Database, make_engine, upgrade
from ivr.settings import load as load_settings
from ivr.simulator import Simulator, WsgiTransport
from tests.conftest import AUTH_TOKEN
from tests.voice.test_fallback import CALL_CENTER, OPEN_EN, OPEN_ES

# The shortest limits libpq and SQLite honour, so the suite stays quick.
SHORT = {"database": {"connect_timeout": 2, "pool_timeout": 1.0, "sqlite_busy_timeout": 1.0}}
# Limit plus generous slack for a loaded CI machine; still far inside Twilio's 15 seconds.
WITHIN = 6.0


class FrozenServer:
    """A TCP listener on 127.0.0.1 that accepts every connection and never sends a byte."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)  # so the accept loop notices the stop flag
        self.port = self.listener.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        """Hold each connection open, unanswered, until stopped."""
        while not self.stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            self.accepted.append(connection)

    def close(self) -> None:
        """Stop accepting and drop every held connection."""
        self.stop.set()
        self.thread.join(timeout=2)
        for connection in self.accepted:
            connection.close()
        self.listener.close()


@pytest.fixture
def frozen_server():
    """A 'PostgreSQL server' that hangs: it takes the connection and never answers."""
    server = FrozenServer()
    yield server
    server.close()


class TimedTransport(WsgiTransport):
    """The test client, remembering how long each webhook took to answer."""

    def __init__(self, client):
        super().__init__(client)
        self.seconds: list[tuple[str, float]] = []

    def request(self, method, url, params, headers):
        """Send one webhook and time it."""
        started = time.monotonic()
        try:
            return super().request(method, url, params, headers)
        finally:
            self.seconds.append((url.split("?")[0], time.monotonic() - started))


def timed_call(app):
    """Dial the line; returns the call and (path, seconds) for every webhook, the status callback included."""
    transport = TimedTransport(app.test_client())
    sim = Simulator(transport, AUTH_TOKEN, public_base_url="http://localhost",
                    to=app.extensions["ivr"].settings.numbers.three_one_one)
    return sim.dial(), transport.seconds


def heard_the_fallback(phone_call) -> bool:
    """The caller heard the 911 advisory in both languages and was put through to the call centre."""
    dialled = [line.text for line in phone_call.transcript if line.kind == "dial"]
    return phone_call.heard() == [OPEN_EN, OPEN_ES] and dialled == [CALL_CENTER] and not phone_call.application_error


def test_a_frozen_postgres_still_lets_the_line_start_and_answer_the_fallback(frozen_server, clock, caplog):
    started = time.monotonic()
    app = create_app({"TESTING": True, "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{frozen_server.port}/x",
                      "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "CLOCK": clock, "SETTINGS": SHORT})
    start_up = time.monotonic() - started
    # Start-up's comparison of config/ with the database gives up after the connect timeout, and says so.
    assert start_up < WITHIN, f"start-up took {start_up:.1f}s"
    assert any("database not reachable at start-up" in record.getMessage() for record in caplog.records)
    try:
        phone_call, seconds = timed_call(app)
        assert heard_the_fallback(phone_call)
        (first, answered), *_ = seconds
        assert first == "http://localhost/voice"
        assert answered < WITHIN, f"the caller waited {answered:.1f}s for the fallback"
        # The status callback after the hang-up waits out the same limit, and still answers Twilio in time.
        assert all(elapsed < WITHIN for _, elapsed in seconds), seconds
        assert frozen_server.accepted, "the app never tried the frozen server"
    finally:
        app.extensions["ivr"].db.dispose()


def test_connect_timeout_bounds_the_whole_psycopg_connection_attempt(frozen_server):
    """psycopg applies connect_timeout to the whole attempt, start-up message included, not only to TCP."""
    limits = load_settings(overrides=SHORT).database
    engine = make_engine(f"postgresql://postgres@127.0.0.1:{frozen_server.port}/x", limits)
    started = time.monotonic()
    with pytest.raises(Exception, match="timeout"):
        engine.connect()
    elapsed = time.monotonic() - started
    engine.dispose()
    assert limits.connect_timeout - 0.5 < elapsed < limits.connect_timeout + 2


@pytest.fixture
def sqlite_app(tmp_path, clock):
    """An app on its own migrated SQLite file (so another connection can lock it), with a short busy timeout."""
    url = f"sqlite:///{tmp_path / 'locked.db'}"
    upgrade(url)
    database = Database(url)
    with database.session() as session:
        sync_config(session, load_settings(overrides=SHORT))
    database.dispose()
    app = create_app({"TESTING": True, "DATABASE_URL": url, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "CLOCK": clock,
                      "SETTINGS": SHORT})
    yield app, tmp_path / "locked.db"
    app.extensions["ivr"].db.dispose()


def test_a_locked_sqlite_database_answers_the_fallback_within_the_busy_timeout(sqlite_app):
    app, path = sqlite_app
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process writing, and never finishing
    try:
        phone_call, seconds = timed_call(app)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert heard_the_fallback(phone_call)
    answered = seconds[0][1]
    # It waited for the lock (the busy timeout, 1 s here) and then gave up, rather than for ever.
    assert 1.0 <= answered < WITHIN, f"the caller waited {answered:.1f}s for the fallback"


def test_the_app_database_carries_the_limits(make_app):
    """The limits reach the connection itself: PostgreSQL's timeouts, or SQLite's busy timeout."""
    app = make_app(settings={"database": {"statement_timeout": 2.5, "lock_timeout": 1.5,
                                          "sqlite_busy_timeout": 2.5, "watchdog_seconds": 3.0}})
    engine = app.extensions["ivr"].db.engine
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            assert connection.scalar(text("SHOW statement_timeout")) == "2500ms"
            assert connection.scalar(text("SHOW lock_timeout")) == "1500ms"
            assert engine.pool.timeout() == app.extensions["ivr"].settings.database.pool_timeout
        else:
            assert connection.scalar(text("PRAGMA busy_timeout")) == 2500


def test_a_postgres_statement_that_overruns_is_cancelled(make_app):
    app = make_app(settings={"database": {"statement_timeout": 0.3}})
    engine = app.extensions["ivr"].db.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("statement_timeout is PostgreSQL's (run with IVR_TEST_DATABASE_URL)")
    started = time.monotonic()
    with pytest.raises(Exception, match="statement timeout"), engine.connect() as connection:
        connection.execute(text("SELECT pg_sleep(5)"))
    assert time.monotonic() - started < 2


def test_the_pool_fits_the_threads_of_a_worker():
    """Procfile runs each worker with --threads N; every thread needs a connection without waiting for one."""
    from ivr.settings import PROJECT_ROOT

    web = next(row for row in (PROJECT_ROOT / "Procfile").read_text().splitlines() if row.startswith("web:"))
    threads = int(web.split("--threads ")[1].split()[0])
    assert "--worker-class gthread" in web
    assert load_settings(environ={}).database.pool_size >= threads


@pytest.mark.parametrize(("key", "value"), [("connect_timeout", 1), ("connect_timeout", 20),
                                            ("statement_timeout", 0), ("pool_timeout", 30.0), ("pool_size", 0)])
def test_limits_that_would_outlast_twilio_are_refused(key, value):
    from ivr.settings import ConfigError

    with pytest.raises(ConfigError, match=f"config/database.toml: .*{key}"):
        load_settings(environ={}, overrides={"database": {key: value}})


class PausingProxy:
    """A TCP relay to the real PostgreSQL that can pause: bytes stop flowing both ways, as with a frozen server."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.port = self.listener.getsockname()[1]
        self.flowing = threading.Event()
        self.flowing.set()
        self.stop = threading.Event()
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                client, _ = self.listener.accept()
                server = socket.create_connection(self.upstream)
            except TimeoutError:
                continue
            except OSError:  # closed
                return
            self.sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        """Relay while flowing; while paused, hold what arrives (the kernel still acknowledges it)."""
        while not self.stop.is_set():
            try:
                data = source.recv(65536)
            except OSError:
                return
            if not data:
                sink.close()
                return
            while not self.flowing.wait(0.05):
                if self.stop.is_set():
                    return
            try:
                sink.sendall(data)
            except OSError:
                return

    def close(self) -> None:
        self.stop.set()
        self.flowing.set()
        for sock in self.sockets:
            sock.close()
        self.listener.close()


@pytest.fixture
def pausing_proxy(database_url):
    """A relay to the suite's PostgreSQL; set up before the app, so it outlives the app's clean-up."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the watchdog guards PostgreSQL connections (run with IVR_TEST_DATABASE_URL)")
    real = make_url(database_url)
    proxy = PausingProxy((real.host, real.port or 5432))
    proxy.url = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    yield proxy
    proxy.close()


def test_a_postgres_that_freezes_after_connecting_is_cut_off_by_the_watchdog(pausing_proxy, make_app):
    """The pooled connection is up when the server freezes: no timeout of PostgreSQL's or TCP's can fire."""
    app = make_app(DATABASE_URL=pausing_proxy.url)  # config/database.toml's own limits
    limit = app.extensions["ivr"].settings.database.watchdog_seconds
    phone_call, seconds = timed_call(app)  # the call is known and its connection pooled
    assert "City of Hartford 311" in phone_call.heard()[0]
    pausing_proxy.flowing.clear()  # the server freezes
    try:
        answered_before = len(seconds)
        phone_call.press("1")
        path, waited = seconds[answered_before]
        assert path == "http://localhost/voice/turn"
        assert OPEN_EN in phone_call.heard() and not phone_call.application_error
        # Cut at the watchdog's limit (plus its tick), and the fallback within 2 seconds of the webhook.
        assert limit - 0.1 < waited < 2.0, f"the caller waited {waited:.2f}s"
        # Twilio's status callback after the hang-up is cut off the same way, and still answered in time.
        assert all(elapsed < WITHIN for _, elapsed in seconds), seconds
    finally:
        pausing_proxy.flowing.set()  # the server thaws: the app's clean-up goes through it


def test_a_turn_slowed_outside_the_database_is_not_cut_off(make_app, monkeypatch):
    """The watchdog times a turn's reads and its write, not the engine's work between them (a busy processor)."""
    app = make_app()
    state = app.extensions["ivr"]
    if state.db.watchdog is None:
        pytest.skip("the watchdog guards PostgreSQL connections (run with IVR_TEST_DATABASE_URL)")
    phone_call, seconds = timed_call(app)
    advance = state.engine.advance

    def slow_advance(turn, services):
        time.sleep(state.settings.database.watchdog_seconds + 0.3)
        return advance(turn, services)

    monkeypatch.setattr(state.engine, "advance", slow_advance)
    phone_call.press("1")  # English: the main menu, not the fallback
    assert "to report a problem" in phone_call.heard()[-1] and OPEN_EN not in phone_call.heard()
    assert seconds[-1][1] > state.settings.database.watchdog_seconds


def test_sqlite_writers_of_two_processes_take_turns_through_the_lock_file(tmp_path):
    """Two gunicorn workers on one SQLite file: one writes while the other waits, then goes as soon as it is done."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    upgrade(url)
    limits = load_settings(overrides=SHORT).database
    first, second = Database(url, limits), Database(url, limits)  # each opens the lock file, as each worker does
    try:
        first._take_writer()
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            second._take_writer()  # the lock file is held by "the other process"
        assert limits.sqlite_busy_timeout - 0.1 < time.monotonic() - started < limits.sqlite_busy_timeout + 1
        threading.Timer(0.2, first._give_writer).start()
        started = time.monotonic()
        second._take_writer()  # let in as soon as the first is done, not at SQLite's next busy-handler try
        assert 0.15 < time.monotonic() - started < 0.5
        second._give_writer()
        assert (tmp_path / "shared.db-writers.lock").exists()
    finally:
        first.dispose()
        second.dispose()
