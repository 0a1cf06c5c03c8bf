"""Database engine, sessions and migrations (SQLite by default, PostgreSQL through DATABASE_URL)."""

from __future__ import annotations

import fcntl
import os
import socket
import threading
import time
import uuid
from contextlib import ExitStack, contextmanager, nullcontext
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from .settings import DatabaseSettings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
MIGRATION_BUSY_TIMEOUT = 30  # seconds; `ivr db upgrade` runs off the call path and may wait for a writer
# Bound parameters (callers' numbers, names, what they said) stay out of error messages and echo logs.
PRIVATE = {"hide_parameters": True}
WRITES_OPTION = "ivr_writes"  # execution option: this transaction will write (SQLite takes the lock up front)
MIGRATION_LOCK_KEY = 311_0860_7579311  # pg_advisory_lock key of `ivr db upgrade`; any constant no one else uses
# A pooled PostgreSQL connection given back less than this many seconds ago is not pinged again at checkout: under
# load every turn would otherwise pay a round trip for it. A server restart takes longer than this, so a
# connection it dropped has been idle long enough to be pinged (and replaced) before a turn uses it.
PING_AFTER_IDLE_SECONDS = 1.0
_CHECKED_IN = "ivr_checked_in"  # pool entry info: when the connection was last given back
WRITERS_POLL_SECONDS = 0.0005  # how often a worker waiting for SQLite's writer lock file tries it again


def normalise_url(url: str) -> str:
    """Accept Heroku-style postgres:// URLs and use psycopg 3 for PostgreSQL."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def make_engine(url: str, limits: DatabaseSettings | None = None) -> Engine:
    """Create an engine bounded by `limits`; without them (migrations) statements may run as long as they need."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        # A migration may wait out a long write; a call turn must not (Twilio hangs up after 15 seconds).
        busy = limits.sqlite_busy_timeout if limits else MIGRATION_BUSY_TIMEOUT
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": busy}, **PRIVATE)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if limits is None:
        return create_engine(url, pool_pre_ping=True, **PRIVATE)
    # No pool_pre_ping: the Watchdog pings at checkout itself, so that the ping, too, is cut when it hangs.
    return create_engine(url, pool_size=limits.pool_size, max_overflow=limits.max_overflow,
                         pool_timeout=limits.pool_timeout, connect_args=_postgres_limits(limits), **PRIVATE)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """Foreign keys on (SQLite then refuses what PostgreSQL refuses); write-ahead log, synced at checkpoints."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets readers go on while a turn writes, and with synchronous=NORMAL a commit is not an fsync: a power
    # cut may lose the last turns written, never corrupt the file. Twilio's call log still has those calls.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection) -> None:
    """BEGIN IMMEDIATE for a transaction that will write (Database.session(writes=True)).

    A transaction that reads, then writes after another connection has committed, fails at once with "database
    is locked" (its snapshot is stale, so SQLite does not wait). Taking the write lock first makes a second
    writer wait its busy timeout instead; readers are never blocked in WAL mode. Other transactions keep the
    driver's own begin, before their first write.
    """
    if connection.get_execution_options().get(WRITES_OPTION):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _postgres_limits(limits: DatabaseSettings) -> dict:
    """psycopg connection arguments: a bounded connect, and statements the server cancels when they overrun."""
    # statement_timeout is enforced by the server; connect_timeout covers a server that never answers at all.
    options = f"-c statement_timeout={round(limits.statement_timeout * 1000)} " \
              f"-c lock_timeout={round(limits.lock_timeout * 1000)}"
    return {"connect_timeout": limits.connect_timeout, "options": options}


class Watchdog:
    """Cuts the connections a session is using once it overruns its deadline: a frozen server cannot hold a turn.

    PostgreSQL enforces statement_timeout itself, so a server that is paused (a stopped process, a frozen VM or
    disk) never does, and its kernel keeps acknowledging the bytes, so no TCP timeout fires either. Shutting the
    socket down makes the waiting driver call fail at once; SQLAlchemy then drops that connection.
    """

    TICK = 0.1  # seconds between the watcher's looks: how late past its deadline a frozen session is cut

    def __init__(self, engine: Engine, seconds: float):
        self.seconds = seconds
        self.dialect = engine.dialect
        self._local = threading.local()
        self._active: dict[int, _Watched] = {}
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None
        event.listen(engine, "before_cursor_execute", self._note_statement)
        event.listen(engine.pool, "checkout", self._ping)
        event.listen(engine.pool, "checkin", self._checked_in)

    @contextmanager
    def guard(self):
        """Watch every connection this thread uses inside the block."""
        used = _Watched(time.monotonic() + self.seconds)
        self._local.used = used
        with self._lock:
            self._active[id(used)] = used
            if self._watcher is None or not self._watcher.is_alive():
                # One watcher per process (started lazily: gunicorn forks workers after start-up), not a
                # timer thread per request, which cost a thread start on every turn.
                self._watcher = threading.Thread(target=self._watch, name="db-watchdog", daemon=True)
                self._watcher.start()
        try:
            yield
        finally:
            with self._lock:
                self._active.pop(id(used), None)
            self._local.used = None

    def _watch(self) -> None:
        """Cut every guarded block past its deadline, for as long as the process lives."""
        while True:
            time.sleep(self.TICK)
            now = time.monotonic()
            with self._lock:
                overdue = [used for used in self._active.values() if used.deadline <= now and not used.expired]
            for used in overdue:
                used.cut()

    def _note(self, dbapi_connection) -> None:
        used = getattr(self._local, "used", None)
        if used is not None:
            used.add(dbapi_connection)

    def _note_statement(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self._note(conn.connection.dbapi_connection)

    @staticmethod
    def _checked_in(dbapi_connection, record) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    def _ping(self, dbapi_connection, record, proxy) -> None:
        """pool_pre_ping's check, watched: a connection the server dropped is replaced before it is used."""
        self._note(dbapi_connection)
        if time.monotonic() - record.info.get(_CHECKED_IN, float("-inf")) < PING_AFTER_IDLE_SECONDS:
            return
        try:
            self.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            used = getattr(self._local, "used", None)
            if used is not None and used.expired:
                raise  # cut by the watchdog: the server is frozen, and a new connection would only wait again
            raise DisconnectionError("pooled connection failed its ping") from exc


class _Watched(set):
    """The driver connections one guarded block used, its deadline, and whether it passed."""

    def __init__(self, deadline: float):
        super().__init__()
        self.deadline = deadline
        self.expired = False

    def cut(self) -> None:
        """The deadline passed: shut the sockets under these connections, so a read blocked on one returns."""
        self.expired = True
        for dbapi_connection in list(self):
            _shut(dbapi_connection)


def _shut(dbapi_connection) -> None:
    """Shut one driver connection's socket down (SQLAlchemy then drops the connection as disconnected)."""
    try:
        duplicate = socket.socket(fileno=os.dup(dbapi_connection.fileno()))
    except Exception:  # already closed: nothing waits on it
        return
    try:
        duplicate.shutdown(socket.SHUT_RDWR)  # acts on the shared socket, not only on the duplicate
    except OSError:
        pass
    finally:
        duplicate.close()


def alembic_config(url: str) -> AlembicConfig:
    """Alembic settings pointing at the packaged migrations."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Create or migrate the schema to `revision`."""
    command.upgrade(alembic_config(url), revision)


@contextmanager
def scratch_postgres_database(server_url: str, prefix: str):
    """A new, empty PostgreSQL database beside `server_url`'s, for tests and benchmarks; dropped afterwards."""
    admin = create_engine(normalise_url(server_url), isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"  # never a developer's own database, never another run's
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(normalise_url(server_url)).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def migration_lock(connection):
    """Hold PostgreSQL's advisory lock for migrations, so two release steps run one after the other."""
    # SQLite is one host with one release step; PostgreSQL may have several servers releasing at once.
    if connection.dialect.name != "postgresql":
        yield
        return
    connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    # The lock is the session's, not the transaction's: commit so Alembic starts (and commits) its own.
    connection.commit()
    try:
        yield
    finally:
        connection.rollback()  # a failed migration leaves an aborted transaction the unlock could not run in
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
        connection.commit()


class Database:
    """An engine and its session factory."""

    def __init__(self, url: str, limits: DatabaseSettings | None = None):
        self.url = normalise_url(url)
        self.engine = make_engine(self.url, limits)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.watchdog = Watchdog(self.engine, limits.watchdog_seconds) \
            if limits is not None and self.engine.dialect.name == "postgresql" else None
        # SQLite has one writer at a time. A worker's threads queue for it here, in turn, instead of all
        # polling SQLite's lock with its growing sleeps: only one thread per process contends for the file.
        self._sqlite_writer = threading.Lock() if self.engine.dialect.name == "sqlite" else None
        self._writer_wait = limits.sqlite_busy_timeout if limits is not None else MIGRATION_BUSY_TIMEOUT
        # Between processes (gunicorn's workers) the queue is a lock file beside the database: a waiter is let in
        # as soon as the writer is done, where SQLite's own busy handler sleeps up to 100 ms between tries (under
        # load a worker could lose the lock to the other for its whole busy timeout).
        path = make_url(self.url).database if self._sqlite_writer else None
        self._writers_file = f"{path}-writers.lock" if path and path != ":memory:" and "?" not in path else None
        self._writers_fd: tuple[int, int] | None = None  # (pid, fd): a forked worker opens its own

    @contextmanager
    def session(self, writes: bool = False):
        """A session that commits on success and rolls back on error, cut off at the watchdog's deadline.

        `writes`: the work will write whatever it reads first (a call turn), so SQLite takes its write lock at
        BEGIN rather than failing when another writer got in between.
        """
        with self.watchdog.guard() if self.watchdog else nullcontext(), self._writer_turn(writes):
            session: Session = self.sessions()
            try:
                if writes:
                    session.connection(execution_options={WRITES_OPTION: True})
                yield session
                session.commit()
            except Exception:
                session.rollback()
                raise
            finally:
                session.close()

    @contextmanager
    def turn(self, writes_first: bool = False):
        """One call turn's database work (see TurnWork): committed on success, rolled back on error, watched."""
        work = TurnWork(self)
        try:
            if writes_first:
                work.writing()
            yield work
            work.commit()
        finally:
            work.close()

    @contextmanager
    def _writer_turn(self, writes: bool):
        """On SQLite, hold this process's writer lock for a writing session (waiting at most the busy timeout)."""
        if not writes:
            yield
            return
        self._take_writer()
        try:
            yield
        finally:
            self._give_writer()

    def _take_writer(self) -> None:
        """Wait (at most the busy timeout) for this process's turn at SQLite's single write lock; no-op elsewhere."""
        if not self._sqlite_writer:
            return
        deadline = time.monotonic() + self._writer_wait
        if not self._sqlite_writer.acquire(timeout=self._writer_wait):
            raise TimeoutError(f"no turn at SQLite's writer lock within {self._writer_wait} s")
        if self._writers_file is None:
            return
        try:
            self._lock_writers_file(deadline)
        except BaseException:
            self._sqlite_writer.release()
            raise

    def _lock_writers_file(self, deadline: float) -> None:
        """Take the lock file shared by every process on this database, trying every half millisecond."""
        fd = self._writers_fd_here()
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise TimeoutError(f"no turn at SQLite's writer lock within {self._writer_wait} s") from None
                time.sleep(WRITERS_POLL_SECONDS)  # one thread per process polls: the others wait on the thread lock

    def _writers_fd_here(self) -> int:
        """This process's descriptor of the lock file (a descriptor inherited through fork shares its lock)."""
        if self._writers_fd is None or self._writers_fd[0] != os.getpid():
            self._writers_fd = (os.getpid(), os.open(self._writers_file, os.O_RDWR | os.O_CREAT, 0o600))
        return self._writers_fd[1]

    def _give_writer(self) -> None:
        """Let the next writer go: this process's, or another's."""
        if not self._sqlite_writer:
            return
        try:
            if self._writers_file is not None:
                fcntl.flock(self._writers_fd_here(), fcntl.LOCK_UN)
        finally:
            self._sqlite_writer.release()

    def dispose(self) -> None:
        """Close pooled connections (and this process's writer lock file)."""
        self.engine.dispose()
        if self._writers_fd is not None and self._writers_fd[0] == os.getpid():
            os.close(self._writers_fd[1])
        self._writers_fd = None


class TurnWork:
    """One call turn's database work on one pooled connection: its reads first, then one short write at the end.

    Reads run outside any transaction (autocommit on PostgreSQL; on SQLite each read sees the latest commit), so on
    SQLite the engine and the TwiML are worked out without holding the single write lock, and on PostgreSQL a turn
    pays for no BEGIN or COMMIT. The write transaction opens when it is first needed: for the turn's own write-back,
    or when an action (a report filed, a case looked up) or the closure switch uses `session`, after which all the
    turn's work, its write-back included, commits as one. Twilio never sends one call's turns at once, so no other
    writer changes the call between the read and the write.

    The watchdog times the reads and the write each from their start: the engine's own work in between is no
    database wait, and a turn slowed by a busy processor must not be cut off as if its database had frozen.
    """

    def __init__(self, database: Database):
        self.database = database
        self._writing = False
        self._holds_writer = False
        self._session: Session | None = None
        self._guard = ExitStack()
        self._watch()
        try:
            self.connection = database.engine.connect()
            if self.connection.dialect.name == "postgresql":
                self.connection.execution_options(isolation_level="AUTOCOMMIT")
        except BaseException:
            self._guard.close()
            raise

    def _watch(self) -> None:
        """Start the watchdog's clock again for the next stretch of database work."""
        self._guard.close()
        if self.database.watchdog is not None:
            self._guard.enter_context(self.database.watchdog.guard())

    @property
    def in_transaction(self) -> bool:
        """True once the write transaction is open."""
        return self._writing

    def writing(self) -> Connection:
        """The connection inside the turn's write transaction, opened now if need be (on SQLite: its write lock)."""
        if not self._writing:
            self._watch()
            connection = self.connection
            if connection.in_transaction():
                connection.commit()  # only the reads' implicit transaction: nothing to write yet
            self.database._take_writer()
            self._holds_writer = True
            options = {WRITES_OPTION: True}
            if connection.dialect.name == "postgresql":
                options["isolation_level"] = connection.default_isolation_level
            connection.execution_options(**options)
            connection.begin()
            self._writing = True
        return self.connection

    def write_back(self) -> Connection:
        """The connection for the turn's write-back (calls.record_turn): on PostgreSQL, where it is one statement
        and so atomic by itself, as it is unless a transaction is open; otherwise inside the write transaction."""
        if self.connection.dialect.name == "postgresql" and not self._writing:
            self._watch()
            return self.connection
        if self._writing:
            self._watch()
        return self.writing()

    def reads_done(self) -> None:
        """The turn's reads are done: the watchdog's clock stops until its write (or an action's session) starts."""
        self._guard.close()

    def reads(self) -> Connection | Session:
        """Where an action's read-only Core statement runs: outside any transaction, like the turn's own reads
        (on SQLite without the write lock), watched afresh; or in the write transaction once it is open, so the
        turn's own writes are seen."""
        if self._writing:
            return self._session if self._session is not None else self.connection
        self._watch()
        return self.connection

    @property
    def session(self) -> Session:
        """An ORM session inside the write transaction, for actions and the closure switch."""
        if self._session is None:
            self._session = self.database.sessions(bind=self.writing(), join_transaction_mode="rollback_only")
        return self._session

    def lazy_session(self) -> LazySession:
        """Stands in for `session` until something uses it: most turns never need the ORM."""
        return LazySession(self)

    def commit(self) -> None:
        """Write what the session holds and commit the turn's transaction, if one was opened."""
        if self._session is not None:
            self._session.flush()
        if self._writing:
            self.connection.commit()

    def close(self) -> None:
        """Give the connection back (rolling back anything uncommitted) and the writer lock."""
        try:
            if self._session is not None:
                self._session.close()
            self.connection.close()
        finally:
            self._guard.close()
            if self._holds_writer:
                self._holds_writer = False
                self.database._give_writer()


class LazySession:
    """A turn's ORM session, opened on first use: attribute access opens it and forwards to it."""

    __slots__ = ("_work",)

    def __init__(self, work: TurnWork):
        self._work = work

    def reads(self) -> Connection | Session:
        """Where a read-only Core statement runs without opening the session (TurnWork.reads)."""
        return self._work.reads()

    def __getattr__(self, name: str):
        return getattr(self._work.session, name)
