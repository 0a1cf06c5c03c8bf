"""The `ivr` console command: serve, check, migrate, closures, simulated calls, cases."""

from __future__ import annotations

import importlib
import os
import sys

import click


def _app(require_token: bool = False, check_database: bool = False):
    """Build the app for a command, turning configuration errors into a clean exit."""
    from . import create_app
    from .core.flows import FlowError
    from .core.prompts import PromptError
    from .settings import ConfigError

    try:
        return create_app({"REQUIRE_AUTH_TOKEN": require_token, "CHECK_DATABASE": check_database,
                           "DATABASE_TIME_LIMITS": False})
    except (ConfigError, FlowError, PromptError) as exc:
        raise click.ClickException(str(exc)) from exc


class LazyGroup(click.Group):
    """A group whose sub-groups live in their faces' modules, imported only when one of them runs.

    `ivr --help` and `ivr closure status` then start without loading Flask, the staff console or the API.
    """

    def __init__(self, *args, lazy: dict[str, tuple[str, str, str]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Eager and lazy commands, in name order."""
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        """A lazy command is imported the first time it is asked for by name."""
        if name in self.lazy and name not in self.commands:
            module, attribute, _ = self.lazy[name]
            self.add_command(getattr(importlib.import_module(module, __package__), attribute), name)
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List lazy commands with their one-line help, without importing them."""
        rows = [(name, command.get_short_help_str()) for name, command in self.commands.items()]
        rows += [(name, summary) for name, (_, _, summary) in self.lazy.items() if name not in self.commands]
        with formatter.section("Commands"):
            formatter.write_dl(sorted(rows))


@click.group(cls=LazyGroup, lazy={
    "announcement": (".announcement_cli", "announcement",
                     "The information menu's announcement (`ivr announcement set --en --es|clear|show`)."),
    "open311": (".open311.cli", "open311", "Open311 GeoReport v2 API keys (`ivr open311 key add|revoke|list`)."),
    "staff": (".staff.cli", "staff", "Staff console accounts (`ivr staff add|disable|reset-password|list`)."),
    "report": (".staff.report_cli", "report", "Reports: `ivr report sla --from --to [--csv]`."),
    "twilio": (".twilio_cli", "twilio", "Point the city's Twilio numbers here: `ivr twilio numbers [--apply]`."),
    "callbacks": (".callbacks_cli", "callbacks_command",
                  "Call-back requests, due first: `ivr callbacks [--due] [--done ID --note TEXT]`."),
})
def main() -> None:
    """Hartford 311 IVR."""


@main.command()
def check() -> None:
    """Validate settings, flows, prompts and menu keys, and compare config/ with the database, as start-up does."""
    app = _app(check_database=True)
    state = app.extensions["ivr"]
    click.echo(f"ok: {len(state.flow.nodes)} flow nodes, {len(state.catalog.texts['en'])} prompts "
               f"in {', '.join(state.catalog.voices)}, {len(state.settings.departments)} departments, "
               f"{len(state.settings.service_types)} service types")


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema (SQLite or PostgreSQL) to the latest revision."""
    from .db import upgrade

    app = _app()
    upgrade(app.config["DATABASE_URL"])
    click.echo(f"database at {_redact(app.config['DATABASE_URL'])} is up to date")


def _redact(url: str) -> str:
    """Hide a password in a database URL."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@main.command("sync-config")
def sync_config_command() -> None:
    """Make the database's departments and service types match config/ (safe to run again)."""
    from .cases import sync_config

    app = _app()
    with app.extensions["ivr"].db.session() as session:
        counts = sync_config(session, app.extensions["ivr"].settings)
    click.echo(", ".join(f"{key.replace('_', ' ')}: {value}" for key, value in counts.items()))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Run the development server (use gunicorn in production: see Procfile)."""
    app = _app(require_token=True, check_database=True)
    app.run(host=host, port=port)


@main.group()
def closure() -> None:
    """Emergency closures (snow days): every worker sees the switch at once."""


@closure.command("start")
@click.option("--message", default="", help="Announcement in English, read to callers.")
@click.option("--message-es", default="", help="Announcement in Spanish.")
@click.option("--by", default=lambda: os.environ.get("USER", "staff"), help="Who is closing the line.")
def closure_start(message: str, message_es: str, by: str) -> None:
    """Close the line now, with an optional announcement."""
    from .closures import start_closure

    app = _app()
    with app.extensions["ivr"].db.session() as session:
        start_closure(session, message, message_es, by)
    click.echo("311 is now closed for an emergency; callers hear the after-hours menu"
               + (f" and: {message}" if message else "."))


@closure.command("end")
@click.option("--by", default=lambda: os.environ.get("USER", "staff"))
def closure_end(by: str) -> None:
    """End the emergency closure; regular hours apply again."""
    from .closures import end_closure

    app = _app()
    with app.extensions["ivr"].db.session() as session:
        ended = end_closure(session, by)
    click.echo("emergency closure ended; regular hours apply." if ended else "no emergency closure was in force.")


@closure.command("status")
def closure_status() -> None:
    """Say whether an emergency closure is in force."""
    from .closures import active_closure

    app = _app()
    with app.extensions["ivr"].db.session() as session:
        active = active_closure(session)
        if active is None:
            click.echo("no emergency closure; regular hours apply.")
        else:
            click.echo(f"closed since {active.started_at:%Y-%m-%d %H:%M} UTC by {active.started_by}: "
                       f"{active.message_en or '(no announcement)'}")


@main.command()
@click.option("--to", "to", default="311", show_default=True,
              help="'311', 'ten-digit', or a number in E.164 form.")
@click.option("--from", "from_", default="+18605550123", show_default=True, help="The caller's number.")
@click.option("--url", default=None, help="A running server, e.g. http://127.0.0.1:5000 (default: in-process).")
@click.option("--script", default=None, help="Steps to run without prompting, e.g. '2,1,<silence>,say:pothole'.")
@click.option("--token", default=None, help="Auth token to sign with (default: $TWILIO_AUTH_TOKEN).")
def call(to: str, from_: str, url: str | None, script: str | None, token: str | None) -> None:
    """Place a simulated call: hear the prompts, press keys, say words."""
    from . import simulator

    token = token or os.environ.get("TWILIO_AUTH_TOKEN")
    app = _app()
    numbers = app.extensions["ivr"].settings.numbers
    to_number = {"311": numbers.three_one_one, "ten-digit": numbers.ten_digit}.get(to, to)
    if url:
        if not token:
            raise click.ClickException("set TWILIO_AUTH_TOKEN (or --token) to the server's auth token")
        transport = simulator.HttpTransport(url)
        base = url
    else:
        from .cases import sync_config
        from .db import upgrade

        token = token or "simulator-token"
        app.config["TWILIO_AUTH_TOKEN"] = token
        # In-process calls need nothing set up beforehand: the local database is brought up to date first.
        upgrade(app.config["DATABASE_URL"])
        with app.extensions["ivr"].db.session() as session:
            sync_config(session, app.extensions["ivr"].settings)
        transport = simulator.WsgiTransport(app.test_client())
        base = "http://localhost"
    sim = simulator.Simulator(transport, token, public_base_url=base, to=to_number, from_=from_)
    if script:
        try:
            result = simulator.run_script(sim, simulator.parse_script(script))
        except simulator.SimulatorError as exc:  # e.g. a step after the call ended: say so, no traceback
            raise click.ClickException(str(exc)) from exc
        click.echo(simulator.format_transcript(result))
    else:
        result = simulator.interactive(sim.dial())
    for problem in result.twiml_problems:
        click.echo(f"TwiML problem: {problem}", err=True)
    sys.exit(1 if result.application_error or result.twiml_problems else 0)


@main.command()
@click.option("--abandoned", is_flag=True, help="Only callers who hung up in the middle of a report.")
@click.option("--limit", default=20, show_default=True, type=int)
def calls(abandoned: bool, limit: int) -> None:
    """List recent calls: route, language, outcome (and what an abandoned report had collected)."""
    from . import calls as call_records

    app = _app()
    with app.extensions["ivr"].db.session() as session:
        rows = call_records.recent(session, limit, abandoned_only=abandoned)
        if not rows:
            click.echo("no calls" + (" abandoned mid-report" if abandoned else ""))
        for row in rows:
            click.echo(f"{row.started_at:%Y-%m-%d %H:%M} UTC  {row.call_sid}  {row.route:<9} {row.language}  "
                       f"from {row.from_number or 'unknown'}  {row.outcome or 'in progress'}")
            if row.outcome == call_records.ABANDONED_INTAKE:
                click.echo(f"    collected: {call_records.collected(row) or 'nothing yet'}")


@main.group()
def case() -> None:
    """Look up and update cases (staff)."""


@case.command("show")
@click.argument("number")
def case_show(number: str) -> None:
    """Show a case and its audit trail, contact details included (staff only)."""
    from .cases import find_case
    from .cases.numbers import grouped, parse

    app = _app()
    parsed = parse(number)
    if parsed is None:
        raise click.ClickException(f"{number} is not a valid case number (check digit fails)")
    with app.extensions["ivr"].db.session() as session:
        found = find_case(session, parsed)
        if found is None:
            raise click.ClickException(f"no case {grouped(parsed)}")
        click.echo(f"Case {grouped(found.number)}  {found.service_type.name_en}  [{found.status}]")
        click.echo(f"  department: {found.department.name_en}   channel: {found.channel}   language: {found.language}")
        click.echo(f"  location:   {found.location or '(no fixed location)'}")
        click.echo(f"  description: {found.description or ('(recording) ' + (found.recording_url or ''))}")
        contact = " ".join(filter(None, (found.contact_name, found.contact_phone, found.contact_email)))
        if contact:
            click.echo(f"  contact:    {contact}")
        expected = f"{found.expected_at:%Y-%m-%d %H:%M} UTC" if found.expected_at else "(no SLA)"
        click.echo(f"  requested:  {found.requested_at:%Y-%m-%d %H:%M} UTC   expected: {expected}")
        for event in found.events:
            change = f"{event.from_status or '-'} -> {event.to_status}" if event.kind == "status" else event.kind
            visibility = "public" if event.public else "internal"
            click.echo(f"  {event.at:%Y-%m-%d %H:%M}  {event.actor:<12} {change:<24} {visibility:<8} "
                       f"{event.note or ''}")


@case.command("update")
@click.argument("number")
@click.option("--status", type=click.Choice(["open", "in_progress", "on_hold", "closed"]), default=None)
@click.option("--note", default=None, help="What changed; residents hear public notes.")
@click.option("--internal", is_flag=True, help="Keep the note for staff only.")
@click.option("--by", default=lambda: os.environ.get("USER", "staff"), help="Who is making the change.")
def case_update(number: str, status: str | None, note: str | None, internal: bool, by: str) -> None:
    """Change a case's status and/or add a note; every change is recorded."""
    from .cases import CaseError, find_case, update_status

    app = _app()
    with app.extensions["ivr"].db.session() as session:
        found = find_case(session, number)
        if found is None:
            raise click.ClickException(f"no case {number} (or its check digit is wrong)")
        try:
            update_status(session, found, status, note, public=not internal, actor=by)
        except CaseError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"case {found.number}: {found.status}" + (f" - {note}" if note else ""))


@main.command()
@click.option("--dry-run", is_flag=True, help="Count what would be removed; change nothing.")
def purge(dry_run: bool) -> None:
    """Remove personal details kept longer than config/privacy.toml allows (run it daily; safe to run again)."""
    from datetime import timedelta

    from . import callbacks, recordings
    from . import calls as call_records
    from .cases import purge_closed_contacts

    app = _app()
    state = app.extensions["ivr"]
    keep = state.settings.privacy
    now = app.config["CLOCK"]()
    twilio = recordings.TwilioRecordings(state.line.twilio)
    try:
        with state.db.session() as session:
            calls_before = now - timedelta(days=keep.keep_call_details_days)
            # Recordings first, at Twilio: a link is only cleared once Twilio has let the recording go.
            deleted = recordings.delete_expired(session, calls_before, twilio.delete, dry_run)
            removed = call_records.purge_details(session, calls_before, dry_run)
            delete_linked = recordings.link_deleter(twilio.delete, deleted)
            contacts = purge_closed_contacts(session, now - timedelta(days=keep.keep_closed_case_contacts_days),
                                             dry_run=dry_run, now=now, delete_recording=delete_linked)
            call_backs = callbacks.purge_details(session, calls_before, delete_linked, dry_run)
    finally:
        twilio.close()
    verb = "would remove" if dry_run else "removed"
    click.echo(f"{verb}: caller details of {removed['calls']} calls and {removed['turns']} turns "
               f"(calls over {keep.keep_call_details_days} days old); contact details of {contacts} cases "
               f"(closed over {keep.keep_closed_case_contacts_days} days ago); details of {call_backs} call-backs "
               f"(handled over {keep.keep_call_details_days} days ago); "
               f"{'would delete' if dry_run else 'deleted'} {deleted.deleted} recordings at Twilio")
    if deleted.failures:
        # Everything else is done; these links stay, and the next run tries again. Exit 1 so cron tells someone.
        for failure in deleted.failures:
            click.echo(f"recording NOT deleted at Twilio, kept for the next run: {failure}", err=True)
        raise SystemExit(1)


@main.command()
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if the file is missing or out of date.")
@click.option("--output", type=click.Path(dir_okay=False), default=None,
              help="Where the Markdown goes (default: docs/call-flows.md in the project).")
def diagram(check: bool, output: str | None) -> None:
    """Draw the call flows (flows/*.yaml) as Mermaid diagrams in docs/call-flows.md."""
    from pathlib import Path

    from .core.diagram import DEFAULT_OUTPUT, PROJECT_ROOT, generate
    from .core.flows import FlowError

    try:
        text = generate()  # only the flow files: no app, database or Twilio settings needed
    except FlowError as exc:
        raise click.ClickException(str(exc)) from exc
    path = Path(output) if output else DEFAULT_OUTPUT
    shown = path.resolve().relative_to(PROJECT_ROOT) if path.resolve().is_relative_to(PROJECT_ROOT) else path
    if check:
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            rerun = "ivr diagram" + (f" --output {output}" if output else "")
            state = "is out of date" if path.is_file() else "is missing"
            raise click.ClickException(f"{shown} {state}: run `{rerun}`")
        click.echo(f"{shown} is up to date")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")
    click.echo(f"wrote {shown}")


if __name__ == "__main__":  # pragma: no cover
    main()
