"""The emergency-closure switch (ivr/closures.py): read at most once per worker and interval, switched at once here."""

from __future__ import annotations

from sqlalchemy import event

from ivr.closures import ClosureCache, start_closure
from ivr.models import Closure, utcnow


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _closed_elsewhere(db, message: str) -> None:
    """A closure switched on by another process: a row, without this process's cache hearing of it."""
    db.add(Closure(message_en=message, message_es=None, started_by="cli", started_at=utcnow()))
    db.commit()


def test_another_process_switch_is_seen_once_the_reading_is_older_than_the_interval(app, db):
    ticks = Ticks()
    cache = ClosureCache(5, clock=ticks)
    assert cache.current(db) is None
    _closed_elsewhere(db, "Snow day.")
    ticks.now += 4.9
    assert cache.current(db) is None  # still trusting the reading of 4.9 s ago: no query
    ticks.now += 0.2
    assert cache.current(db).message_en == "Snow day."


def test_a_switch_made_in_this_process_applies_at_once(app, db):
    cache = ClosureCache(60, clock=Ticks())
    assert cache.current(db) is None
    start_closure(db, "Flooding.", "Inundaciones.", by="supervisor")
    notice = cache.current(db)
    assert (notice.message_en, notice.message_es) == ("Flooding.", "Inundaciones.")


def test_calls_read_the_switch_once_per_interval_not_per_turn(make_app, phone_on):
    app = make_app({"database": {"closure_cache_seconds": 600}})
    statements = []
    engine = app.extensions["ivr"].db.engine

    def count(conn, cursor, statement, *args):
        if "FROM closures" in statement:
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        for _ in range(3):
            phone_on(app).press("1")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1
