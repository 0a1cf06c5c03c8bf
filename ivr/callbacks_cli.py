"""`ivr callbacks [--due] [--done ID --note TEXT]`: the call-back requests, due first, from the server's shell."""

from __future__ import annotations

import os

import click

SHOWN_AT_MOST = 200
LANGUAGE_NAMES = {"en": "English", "es": "Spanish"}


def _actor() -> str:
    """Who ran the command, as the request records who handled it."""
    return f"cli:{os.environ.get('USER', 'unknown')}"


def _line(row, zone) -> str:
    """One request on one line, then its message on the next lines."""
    number = row.phone or "no number"
    if row.phone and not row.number_confirmed:
        number += " (caller ID, not confirmed)"
    due = row.due_at.astimezone(zone).strftime("%a %Y-%m-%d %H:%M")
    text = (f"#{row.id}  due {due}  {row.status}  {LANGUAGE_NAMES.get(row.language, row.language)}  "
            f"{row.reason.replace('_', ' ')}  {number}")
    extra = [f"    needs: {row.need}"] if row.need else []
    extra += [f"    message: {row.recording_url}"] if row.recording_url else []
    extra += [f"    transcript: {row.transcript}"] if row.transcript else []
    extra += [f"    done by {row.handled_by} at {row.handled_at.astimezone(zone):%Y-%m-%d %H:%M}"
              + (f": {row.note}" if row.note else "")] if row.status == "done" else []
    return "\n".join([text, *extra])


@click.command("callbacks")
@click.option("--due", is_flag=True, help="Only the requests due now (after hours: those due at the next opening "
                                           "are not yet).")
@click.option("--done", "done_id", type=int, metavar="ID", help="Mark request ID as called back.")
@click.option("--note", default="", help="With --done: what came of the call-back.")
def callbacks_command(due: bool, done_id: int | None, note: str) -> None:
    """Call-back requests (long waits, messages after hours, no interpreter), due first."""
    from . import callbacks
    from .cli import _app

    if note and done_id is None:
        raise click.UsageError("--note goes with --done ID")
    app = _app()
    state = app.extensions["ivr"]
    now, zone = app.config["CLOCK"](), state.line.schedule.timezone
    with state.db.session() as session:
        if done_id is not None:
            try:
                row = callbacks.mark_done(session, done_id, _actor(), note, now=now)
            except callbacks.CallBackError as exc:
                raise click.ClickException(str(exc)) from exc
            click.echo(_line(row, zone))
            return
        rows = callbacks.open_requests(session, SHOWN_AT_MOST, due_by=now if due else None)
        if not rows:
            click.echo("No call-back requests are due." if due else "No call-back requests are open.")
            return
        for row in rows:
            click.echo(_line(row, zone))
