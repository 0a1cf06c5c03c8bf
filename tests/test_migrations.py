"""The Alembic migrations build exactly the schema the models describe, and run down and up again."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from ivr.cases.text_search import SQLITE_TABLES, in_the_models
from ivr.db import MIGRATION_LOCK_KEY, alembic_config, make_engine, normalise_url, scratch_postgres_database, upgrade
from ivr.models import Base


def schema_differences(url: str) -> list:
    """What autogenerate would put in a new migration: empty when migrations and models agree."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={
                # Types are compared (UtcDateTime is compared by its DateTime(timezone=True) impl);
                # neither side declares server defaults, so any that appear are differences too.
                "compare_type": True,
                "compare_server_default": True,
                "include_object": in_the_models,
            })
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def table_names(url: str) -> set[str]:
    """The tables, without SQLite's text index (an FTS5 table and its own tables, migration 0007)."""
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - SQLITE_TABLES
    finally:
        engine.dispose()


def current_revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


@pytest.fixture
def scratch_url(tmp_path):
    """An empty database of the suite's kind, for migrating down and up without disturbing other tests."""
    server_url = os.environ.get("IVR_TEST_DATABASE_URL")
    if not server_url:
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    with scratch_postgres_database(server_url, "ivr_migrations") as url:
        yield url


def head(url: str) -> str:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def test_one_linear_history():
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
    revisions = list(script.walk_revisions())
    assert [r.down_revision for r in revisions][-1] is None
    assert not any(isinstance(r.down_revision, tuple | list) for r in revisions)  # no merges


def test_the_suite_database_matches_the_models(database_url):
    assert current_revision(database_url) == head(database_url)
    assert schema_differences(database_url) == []


def test_down_to_base_and_up_again(scratch_url):
    model_tables = set(Base.metadata.tables)

    upgrade(scratch_url)
    assert table_names(scratch_url) == model_tables | {"alembic_version"}
    assert schema_differences(scratch_url) == []

    command.downgrade(alembic_config(scratch_url), "base")
    assert table_names(scratch_url) <= {"alembic_version"}
    assert current_revision(scratch_url) is None

    upgrade(scratch_url)
    assert current_revision(scratch_url) == head(scratch_url)
    assert table_names(scratch_url) == model_tables | {"alembic_version"}
    assert schema_differences(scratch_url) == []


def test_each_revision_downgrades_on_its_own(scratch_url):
    script = ScriptDirectory.from_config(alembic_config(scratch_url))
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
    for revision in revisions:
        upgrade(scratch_url, revision)
        assert current_revision(scratch_url) == revision
    for revision in reversed(revisions):
        command.downgrade(alembic_config(scratch_url), "-1")
        assert current_revision(scratch_url) != revision
    assert current_revision(scratch_url) is None


def test_case_serials_are_never_reused_on_sqlite(database_url):
    # compare_metadata does not see SQLite's AUTOINCREMENT, so check the table's DDL directly: without it
    # SQLite may hand a deleted newest serial out again, and with it two cases could share a number.
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL sequences never reuse values")
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            ddl = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'case_serials'")).scalar_one()
    finally:
        engine.dispose()
    assert "AUTOINCREMENT" in ddl.upper()


WAITING_FOR_LOCK = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")


def _release_step(url: str) -> subprocess.Popen:
    """`ivr db upgrade` as a release step runs it: a process of its own."""
    code = f"from ivr.db import upgrade; upgrade({url!r})"
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_for_waiters(conn, count: int, seconds: float = 30.0) -> None:
    """Until `count` sessions queue on an advisory lock in this database."""
    deadline = time.monotonic() + seconds
    while conn.execute(WAITING_FOR_LOCK).scalar_one() < count:
        assert time.monotonic() < deadline, "the migrations never waited for the advisory lock"
        time.sleep(0.05)


def test_two_release_steps_at_once_take_turns_on_postgresql(scratch_url):
    if scratch_url.startswith("sqlite"):
        pytest.skip("PostgreSQL only: SQLite is one host with one release step, so there is nothing to collide")
    holder = create_engine(normalise_url(scratch_url), isolation_level="AUTOCOMMIT")
    try:
        with holder.connect() as conn:
            # Hold the lock first so both steps are certainly queued on it together, then let them go.
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            steps = [_release_step(scratch_url), _release_step(scratch_url)]
            _wait_for_waiters(conn, 2)
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
            outputs = [step.communicate(timeout=120)[0] for step in steps]
    finally:
        holder.dispose()
    assert [step.returncode for step in steps] == [0, 0], outputs
    assert current_revision(scratch_url) == head(scratch_url)
    assert schema_differences(scratch_url) == []
