"""The information menu's announcement set at run time (ivr/announcements.py): what callers hear in each
language, the default from config, the read-through cache, and `ivr announcement set|clear|show`."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from ivr.announcements import AnnouncementCache, AnnouncementError, current, set_announcement
from ivr.models import Announcement, StaffAuditEvent, utcnow
from tests.staff.test_staff_cli import run  # noqa: F401  (the CLI on the test database, as a fixture)
from tests.test_closures import Ticks

ENGLISH = "Leaf collection starts Monday in the North End."
SPANISH = "La recogida de hojas empieza el lunes en el North End."


def announcement_heard(call, lang_key: str) -> str:
    """What the caller hears at the information menu's 'current announcements' (key 6)."""
    call.press(lang_key)
    call.press("3")
    call.press("6")
    return call.heard()[-2]


def test_each_caller_hears_the_announcement_in_their_language(db, phone):
    assert announcement_heard(phone(), "1") == "There are no announcements right now."
    set_announcement(db, ENGLISH, SPANISH, "test", utcnow())
    db.commit()
    assert announcement_heard(phone(), "1") == ENGLISH
    assert announcement_heard(phone(), "2") == SPANISH


def test_with_none_set_callers_hear_configs_default_and_again_once_it_is_cleared(make_app, phone_on, db):
    app = make_app({"routing": {"announcement": {"en": "Default news.", "es": "Noticias por defecto."}}})
    assert announcement_heard(phone_on(app), "2") == "Noticias por defecto."
    with app.extensions["ivr"].db.session() as session:
        set_announcement(session, ENGLISH, SPANISH, "test", utcnow())
    assert announcement_heard(phone_on(app), "2") == SPANISH
    assert run_clear(app) is True
    assert announcement_heard(phone_on(app), "1") == "Default news."


def run_clear(app) -> bool:
    from ivr.announcements import clear_announcement

    with app.extensions["ivr"].db.session() as session:
        return clear_announcement(session, "test", utcnow())


@pytest.mark.parametrize(("english", "spanish", "message"), [
    (ENGLISH, "", "both English and Spanish"), ("", SPANISH, "both English and Spanish"),
    ("   ", "  ", "both English and Spanish"), ("x" * 1001, SPANISH, "at most 1000"),
])
def test_both_languages_are_needed_and_bounded(db, english, spanish, message):
    with pytest.raises(AnnouncementError, match=message):
        set_announcement(db, english, spanish, "test", utcnow())
    assert db.scalars(select(Announcement)).all() == []


def test_the_cache_reads_once_per_interval_and_a_change_here_applies_at_once(db):
    ticks = Ticks()
    cache = AnnouncementCache(5, clock=ticks)
    assert cache.current(db) is None
    db.add(Announcement(message_en="Elsewhere.", message_es="En otro sitio.", set_by="cli", set_at=utcnow()))
    db.commit()  # another process's change: this cache has not heard of it
    ticks.now += 4.9
    assert cache.current(db) is None
    ticks.now += 0.2
    assert cache.current(db).message_es == "En otro sitio."
    set_announcement(db, ENGLISH, SPANISH, "test", utcnow())  # made in this process: no waiting
    assert cache.current(db).message_en == ENGLISH


def test_calls_read_the_announcement_only_when_it_is_spoken_and_then_once_per_interval(make_app, phone_on):
    app = make_app({"database": {"closure_cache_seconds": 600}})
    statements = []

    def count(conn, cursor, statement, *args):
        if "FROM announcements" in statement:
            statements.append(statement)

    engine = app.extensions["ivr"].db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        phone_on(app).press("1")  # the main menu does not speak it: no query
        assert statements == []
        for _ in range(3):
            announcement_heard(phone_on(app), "1")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1


def test_the_cli_sets_shows_and_clears_with_the_consoles_effect_and_audit(run, db, phone):  # noqa: F811
    result = run("announcement", "set", "--en", ENGLISH, "--es", SPANISH)
    assert result.exit_code == 0, result.output
    assert announcement_heard(phone(), "2") == SPANISH
    shown = run("announcement", "show")
    assert "by cli:cli-test" in shown.output and f"Spanish: {SPANISH}" in shown.output
    assert run("announcement", "clear").output == "announcement cleared.\n"
    assert run("announcement", "clear").output == "no announcement was set.\n"
    assert "no announcement set" in run("announcement", "show").output
    assert announcement_heard(phone(), "1") == "There are no announcements right now."
    audit = [(e.actor, e.action) for e in db.scalars(select(StaffAuditEvent).order_by(StaffAuditEvent.id))]
    assert audit == [("cli:cli-test", "announcement_set"), ("cli:cli-test", "announcement_cleared")]
    assert current(db) is None


def test_the_cli_refuses_one_language(run, db):  # noqa: F811
    result = run("announcement", "set", "--en", ENGLISH, "--es", " ")
    assert result.exit_code == 2 and "both English and Spanish" in result.output
    assert db.scalars(select(Announcement)).all() == []
