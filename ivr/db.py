"""Database engine, sessions and migrations (SQLite by default, PostgreSQL through DATABASE_URL)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from .settings import DatabaseSettings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
MIGRATION_BUSY_TIMEOUT = 30  # seconds; `ivr db upgrade` runs off the call path and may wait for a writer
# Bound parameters (callers' numbers, names, what they said) stay out of error messages and echo logs.
PRIVATE = {"hide_parameters": True}
MIGRATION_LOCK_KEY = 311_0860_7579311  # pg_advisory_lock key of `ivr db upgrade`; any constant no one else uses


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
        return engine
    if limits is None:
        return create_engine(url, pool_pre_ping=True, **PRIVATE)
    return create_engine(url, pool_pre_ping=True, pool_size=limits.pool_size, max_overflow=limits.max_overflow,
                         pool_timeout=limits.pool_timeout, connect_args=_postgres_limits(limits), **PRIVATE)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """Foreign keys on, so SQLite refuses what PostgreSQL refuses."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _postgres_limits(limits: DatabaseSettings) -> dict:
    """psycopg connection arguments: a bounded connect, and statements the server cancels when they overrun."""
    # statement_timeout is enforced by the server; connect_timeout covers a server that never answers at all.
    options = f"-c statement_timeout={round(limits.statement_timeout * 1000)} " \
              f"-c lock_timeout={round(limits.lock_timeout * 1000)}"
    return {"connect_timeout": limits.connect_timeout, "options": options}


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

    @contextmanager
    def session(self):
        """A session that commits on success and rolls back on error."""
        session: Session = self.sessions()
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()
