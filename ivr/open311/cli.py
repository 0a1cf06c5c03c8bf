"""`ivr open311 key add|revoke|list`: API keys for Open311 clients."""

from __future__ import annotations

import os
from contextlib import contextmanager

import click


@contextmanager
def _session():
    """A database session for a command (configuration errors as a clean exit); no connection outlives it."""
    from .. import create_app
    from ..core.flows import FlowError
    from ..core.prompts import PromptError
    from ..settings import ConfigError

    try:
        # Built here, not through ivr.cli (a face of its own): a command, so no caller's time limits either.
        database = create_app({"REQUIRE_AUTH_TOKEN": False, "CHECK_DATABASE": False,
                               "DATABASE_TIME_LIMITS": False}).extensions["ivr"].db
    except (ConfigError, FlowError, PromptError) as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        with database.session() as session:
            yield session
    finally:
        database.dispose()


@click.group("open311")
def open311() -> None:
    """The Open311 GeoReport v2 API (/open311/v2/)."""


@open311.group()
def key() -> None:
    """API keys: POST requests needs one; each is named, and the name shows in every case it opens."""


@key.command("add")
@click.argument("name")
@click.option("--by", default=lambda: os.environ.get("USER", "staff"), help="Who is issuing the key.")
def key_add(name: str, by: str) -> None:
    """Issue a key for the application NAME; the key is printed once and only its hash is kept."""
    from .keys import ApiKeyError, issue_key

    try:
        with _session() as session:
            token = issue_key(session, name, by)
    except ApiKeyError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"key for {name!r} (shown once; give it to the application's operator):")
    click.echo(token)


@key.command("revoke")
@click.argument("name")
@click.option("--by", default=lambda: os.environ.get("USER", "staff"), help="Who is revoking the key.")
def key_revoke(name: str, by: str) -> None:
    """Revoke the key named NAME: it stops working at once."""
    from .keys import ApiKeyError, revoke_key

    try:
        with _session() as session:
            revoke_key(session, name, by)
    except ApiKeyError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"key {name!r} revoked")


@key.command("list")
def key_list() -> None:
    """List keys: name, when and by whom issued, and whether revoked (the keys themselves are never kept)."""
    from .keys import all_keys

    with _session() as session:
        rows = all_keys(session)
        if not rows:
            click.echo("no Open311 API keys")
        for row in rows:
            state = (f"revoked {row.revoked_at:%Y-%m-%d %H:%M} UTC by {row.revoked_by}" if row.revoked_at
                     else "active")
            click.echo(f"{row.name:<30} issued {row.created_at:%Y-%m-%d %H:%M} UTC by {row.created_by:<12} {state}")
