"""`ivr twilio numbers [--apply]`: list the account's phone numbers and point the city's at this deployment.

Twilio's REST API through twilio's own Client; credentials from TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, the
deployment's address from PUBLIC_BASE_URL, and TWILIO_API_BASE (`twilio.api_base`) to talk to a stand-in.
"""

from __future__ import annotations

import click

# Each city number's settings: URLs as paths under PUBLIC_BASE_URL; an application SID is cleared ("")
# because Twilio ignores a number's own URLs while one is set.
WEBHOOKS = {
    "voice_url": "/voice",
    "voice_method": "POST",
    "voice_fallback_url": "/voice/fallback",
    "voice_fallback_method": "POST",
    "status_callback": "/voice/status",
    "status_callback_method": "POST",
    "voice_application_sid": "",
    "sms_url": "/sms",
    "sms_method": "POST",
    "sms_application_sid": "",
}
URL_FIELDS = {"voice_url", "voice_fallback_url", "status_callback", "sms_url"}


def desired(base: str) -> dict[str, str]:
    """What every city number should be set to for a deployment at `base` (https://...)."""
    base = base.rstrip("/")
    return {name: base + value if name in URL_FIELDS else value for name, value in WEBHOOKS.items()}


def changes(number, wanted: dict[str, str]) -> dict[str, tuple[str, str]]:
    """field -> (now, wanted) for each setting that differs; empty when the number is already right."""
    found = {}
    for name, value in wanted.items():
        now = getattr(number, name, None) or ""
        same = now.upper() == value.upper() if name.endswith("_method") else now == value
        if not same:
            found[name] = (now, value)
    return found


def _settings_and_secrets():
    """Settings (numbers, public base URL, API base) and the Twilio credentials, or a clean exit."""
    from .settings import ConfigError, Secrets, load

    try:
        settings = load()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    secrets = Secrets.from_env()
    if not (secrets.twilio_account_sid and secrets.twilio_auth_token):
        raise click.ClickException("set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN to the account's credentials")
    return settings, secrets


def _city_routes(settings) -> dict[str, str]:
    """The city's numbers (E.164) and the route each one is."""
    numbers = settings.numbers
    return {number: route for number, route in ((numbers.three_one_one, "311"), (numbers.ten_digit, "ten-digit"))
            if number}


def _base_url(settings, apply: bool) -> str | None:
    """PUBLIC_BASE_URL, which must be https to apply anything (Twilio signs and posts to it)."""
    base = (settings.web.public_base_url or "").strip()
    if base.startswith("https://") and len(base) > len("https://"):
        return base
    problem = (f"PUBLIC_BASE_URL is {base!r}, not an https:// address" if base else "PUBLIC_BASE_URL is not set")
    if apply:
        raise click.ClickException(f"{problem}: set it to this deployment's public https address "
                                   "(e.g. https://311.hartford.gov) before --apply")
    click.echo(f"({problem}: no changes planned; set it to see what --apply would change)")
    return None


def _show_plan(phone_number: str, route: str, planned: dict[str, tuple[str, str]]) -> None:
    """The planned changes for one number, one field per line: old -> new."""
    if not planned:
        click.echo(f"{phone_number} ({route}): already set")
        return
    click.echo(f"{phone_number} ({route}): {len(planned)} change{'s' if len(planned) != 1 else ''}")
    for name, (now, wanted) in planned.items():
        click.echo(f"    {name}: {now or '(none)'} -> {wanted or '(none)'}")


@click.group()
def twilio() -> None:
    """The Twilio account behind the line."""


@twilio.command("numbers")
@click.option("--apply", "apply", is_flag=True, help="Set each city number's webhooks to PUBLIC_BASE_URL.")
def numbers_command(apply: bool) -> None:
    """List the account's numbers; with --apply, point the city's numbers at this deployment (idempotent)."""
    from twilio.base.exceptions import TwilioException

    from .twilio_rest import TwilioAccount, explain_error, rest_client

    settings, secrets = _settings_and_secrets()
    base = _base_url(settings, apply)
    client = rest_client(TwilioAccount.from_settings(settings, secrets))
    try:
        _list_and_plan(client, settings, base, apply)
    except TwilioException as exc:
        raise click.ClickException(f"Twilio refused the request: {explain_error(exc)}") from exc
    except OSError as exc:  # requests' connection errors and timeouts are OSErrors
        raise click.ClickException(f"could not reach Twilio's API: {type(exc).__name__}") from exc


def _list_and_plan(client, settings, base: str | None, apply: bool) -> None:
    """List every number, show the plan for the city's, and apply it when asked."""
    routes = _city_routes(settings)
    account_numbers = client.api.account.incoming_phone_numbers.list()
    click.echo(f"{len(account_numbers)} number{'s' if len(account_numbers) != 1 else ''} in the account:")
    for number in account_numbers:
        role = routes.get(number.phone_number, "not the city's")
        click.echo(f"  {number.phone_number}  {number.sid}  ({role})  voice: {number.voice_url or '(none)'}")
    missing = [phone for phone in routes if phone not in {n.phone_number for n in account_numbers}]
    for phone in missing:
        click.echo(f"warning: {phone} ({routes[phone]}, config/numbers.toml) is not in this account", err=True)
    if base is None:
        return
    if apply and len(missing) == len(routes):
        raise click.ClickException("none of the city's numbers (config/numbers.toml) is in this account")
    plans = [(number, changes(number, desired(base))) for number in account_numbers if number.phone_number in routes]
    for number, planned in plans:
        _show_plan(number.phone_number, routes[number.phone_number], planned)
    pending = [(number, planned) for number, planned in plans if planned]
    if not apply:
        if pending:
            click.echo("Run `ivr twilio numbers --apply` to make these changes.")
        return
    for number, planned in pending:
        client.api.account.incoming_phone_numbers(number.sid).update(
            **{name: wanted for name, (_now, wanted) in planned.items()})
        click.echo(f"updated {number.phone_number}")
    if not pending:
        click.echo("nothing to change")
