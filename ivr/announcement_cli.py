"""`ivr announcement set|clear|show`: the information menu's announcement from the server's shell."""

from __future__ import annotations

import click


@click.group()
def announcement() -> None:
    """The information menu's announcement in English and Spanish (same effect as the staff console's)."""


def _session():
    """A database session of the configured app."""
    from .cli import _app

    return _app().extensions["ivr"].db.session()


@announcement.command("set")
@click.option("--en", "message_en", required=True, help="The announcement in English.")
@click.option("--es", "message_es", required=True, help="The announcement in Spanish.")
def set_command(message_en: str, message_es: str) -> None:
    """Callers in the information menu hear this (in their language) instead of config's default."""
    from .announcements import AnnouncementError, set_announcement
    from .models import utcnow
    from .staff.cli import _actor

    try:
        with _session() as session:
            set_announcement(session, message_en, message_es, _actor(), utcnow())
    except AnnouncementError as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo("announcement set; every worker reads it within closure_cache_seconds.")


@announcement.command("clear")
def clear_command() -> None:
    """End the announcement: callers hear config/routing.toml's default again (if any)."""
    from .announcements import clear_announcement
    from .models import utcnow
    from .staff.cli import _actor

    with _session() as session:
        cleared = clear_announcement(session, _actor(), utcnow())
    click.echo("announcement cleared." if cleared else "no announcement was set.")


@announcement.command("show")
def show_command() -> None:
    """Say what callers hear in the information menu, in each language, and where it comes from."""
    from .announcements import current, heard
    from .cli import _app

    app = _app()
    configured = app.extensions["ivr"].settings.routing.announcement
    with app.extensions["ivr"].db.session() as session:
        found = current(session)
    if found is None:
        click.echo("no announcement set; config/routing.toml's default applies:")
    else:
        click.echo(f"set {found.set_at:%Y-%m-%d %H:%M} UTC by {found.set_by}:")
    for lang, name in (("en", "English"), ("es", "Spanish")):
        click.echo(f"  {name}: {heard(found, configured, lang) or '(none)'}")
