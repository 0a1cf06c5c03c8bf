"""Many calls at once on two workers sharing one database: every turn answers the line, none the fallback."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from ivr.models import Call, CallTurn

from .test_fallback import OPEN_EN


def test_two_workers_with_threads_answer_every_turn(make_app, phone_on, db):
    workers = [make_app(), make_app()]  # two processes' worth of engines and pools on one database
    failures: list[BaseException] = []
    heard_fallback: list[str] = []

    def caller(app) -> None:
        try:
            for _ in range(4):
                call = phone_on(app).press("1").press("3").press("2")
                call.hangup()
                if any(line.startswith(OPEN_EN[:40]) for line in call.heard()):
                    heard_fallback.append(call.call_sid)
        except BaseException as exc:  # reported below with the others
            failures.append(exc)

    threads = [threading.Thread(target=caller, args=(workers[index % 2],)) for index in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert failures == [] and heard_fallback == []
    assert db.scalar(select(func.count()).select_from(Call)) == 48
    assert db.scalar(select(func.count()).select_from(Call).where(Call.final_status.is_not(None))) == 48
    # greeting, English, information, hours: four turns logged for every call
    assert db.scalar(select(func.count()).select_from(CallTurn)) == 48 * 4
