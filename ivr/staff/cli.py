"""`ivr staff add|disable|enable|reset-password|list`: staff accounts from the server's shell."""

from __future__ import annotations

import os
import sys

import click

from ..models import STAFF_ROLES


def _actor() -> str:
    """Who ran the command, as the staff audit log records it."""
    return f"cli:{os.environ.get('USER', 'unknown')}"


def _password(generate: bool, from_stdin: bool) -> tuple[str, bool]:
    """A new password: generated (then shown once), one line of stdin, or typed twice at a hidden prompt."""
    from .accounts import new_password

    if generate:
        return new_password(), True
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n"), False
    return click.prompt("Password", hide_input=True, confirmation_prompt=True), False


def _hash(password: str) -> str:
    """The password's hash under config/staff.toml's rules, or a clean error."""
    from ..cli import _app
    from .accounts import AccountError, hash_password

    try:
        return hash_password(password, _app().extensions["ivr"].settings.staff)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc


def _run(change):
    """Run `change(session, settings, now)` on the configured database; account errors exit cleanly."""
    from ..cli import _app
    from .accounts import AccountError

    app = _app()
    state = app.extensions["ivr"]
    try:
        with state.db.session() as session:
            return change(session, state.settings.staff, app.config["CLOCK"]())
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc


def _account(session, username: str):
    """The account, or a clean error naming it."""
    from .accounts import find

    account = find(session, username)
    if account is None:
        raise click.ClickException(f"no staff account {username!r}")
    return account


password_options = [
    click.option("--generate", is_flag=True, help="Make a random password and print it once."),
    click.option("--password-stdin", "from_stdin", is_flag=True, help="Read the password from standard input."),
]


def with_password_options(command):
    """The three ways to give a password."""
    for option in reversed(password_options):
        command = option(command)
    return command


@click.group()
def staff() -> None:
    """Staff console accounts: operators, department staff and supervisors."""


@staff.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(STAFF_ROLES), required=True)
@click.option("--department", default=None, help="The department's code (department staff only), e.g. dpw.")
@with_password_options
def add(username: str, role: str, department: str | None, generate: bool, from_stdin: bool) -> None:
    """Add an account; the password is stored only as an argon2 hash."""
    from .accounts import create

    password, show = _password(generate, from_stdin)
    hashed = _hash(password)
    _run(lambda session, rules, now: create(session, username, role, department, hashed, _actor(), now))
    click.echo(f"added {username.strip().lower()} ({role}{', ' + department if department else ''})")
    if show:
        click.echo(f"password: {password}")


@staff.command("disable")
@click.argument("username")
def disable(username: str) -> None:
    """Disable an account: it can no longer sign in, and its open sessions end."""
    from .accounts import set_active

    _run(lambda session, rules, now: set_active(session, _account(session, username), False, _actor(), now))
    click.echo(f"disabled {username}")


@staff.command("enable")
@click.argument("username")
def enable(username: str) -> None:
    """Enable a disabled account again."""
    from .accounts import set_active

    _run(lambda session, rules, now: set_active(session, _account(session, username), True, _actor(), now))
    click.echo(f"enabled {username}")


@staff.command("reset-password")
@click.argument("username")
@with_password_options
def reset(username: str, generate: bool, from_stdin: bool) -> None:
    """Give an account a new password; this also unlocks it and ends its sessions."""
    from .accounts import reset_password

    password, show = _password(generate, from_stdin)
    hashed = _hash(password)
    _run(lambda session, rules, now: reset_password(session, _account(session, username), hashed, _actor(), now))
    click.echo(f"new password set for {username}")
    if show:
        click.echo(f"password: {password}")


@staff.command("list")
def listing() -> None:
    """Every account: role, department, whether it is active or locked, last sign-in."""
    from .accounts import is_locked
    from .accounts import listing as all_accounts

    def rows(session, rules, now):
        found = all_accounts(session)
        return [(a.username, a.role, a.department.code if a.department else "-",
                 "disabled" if not a.active else ("locked" if is_locked(a, now) else "active"),
                 f"{a.last_login_at:%Y-%m-%d %H:%M} UTC" if a.last_login_at else "never") for a in found]

    found = _run(rows)
    if not found:
        click.echo("no staff accounts yet: add one with `ivr staff add NAME --role supervisor`")
    for username, role, department, state, last in found:
        click.echo(f"{username:<24} {role:<11} {department:<12} {state:<9} last sign-in {last}")
