"""twilio's REST Client for this deployment: the account from the environment, Twilio's API or a stand-in of it.

Every REST call the line makes (texts, conference participants, call redirects, recordings, phone numbers) gets
its client here, so credentials, the time limit and the stand-in host are handled in one place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client


@dataclass(frozen=True)
class TwilioAccount:
    """The Twilio account the line acts as: credentials (secrets) and how to reach the API (settings)."""

    account_sid: str | None
    auth_token: str | None
    api_base: str = ""  # e.g. "http://127.0.0.1:8765" for a local stand-in; empty = Twilio's own API
    timeout: float = 5.0  # seconds to wait for Twilio's API

    def __repr__(self) -> str:
        # Keep the auth token out of logs and tracebacks.
        return (f"TwilioAccount(account_sid={self.account_sid!r}, auth_token={'***' if self.auth_token else None}, "
                f"api_base={self.api_base!r}, timeout={self.timeout!r})")

    @property
    def usable(self) -> bool:
        """Whether REST calls can be made: both credentials are set."""
        return bool(self.account_sid and self.auth_token)

    @classmethod
    def from_settings(cls, settings, secrets) -> TwilioAccount:
        """The [twilio] settings joined with TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN."""
        return cls(account_sid=secrets.twilio_account_sid or None, auth_token=secrets.twilio_auth_token or None,
                   api_base=settings.twilio.api_base.strip().rstrip("/"), timeout=settings.twilio.timeout)


def rest_client(account: TwilioAccount, timeout: float | None = None) -> Client:
    """A twilio Client for the account, pointed at the stand-in when `api_base` is set."""
    http_client = TwilioHttpClient(timeout=account.timeout if timeout is None else timeout)
    client = Client(account.account_sid, account.auth_token, http_client=http_client)
    if account.api_base:
        # twilio-python 9.x has no "base URL" option. Each domain hard-codes its host when it is built
        # (ApiBase.__init__ passes "https://api.twilio.com" to Domain), and every request URL is made by
        # Domain.absolute_url() from that domain's `base_url` attribute. Messages, calls, conferences,
        # recordings and phone numbers all live on the `api` domain, which the client creates once and caches,
        # so we replace `base_url` there: the SDK still builds the path, form body, auth and errors itself.
        # Edge/region (TWILIO_EDGE / TWILIO_REGION) are cleared because ClientBase.get_hostname() would otherwise
        # rewrite our host as if it were a *.twilio.com name.
        client.api.base_url = account.api_base.rstrip("/")
        client.edge = None
        client.region = None
    return client


def close_client(client: Client | None) -> None:
    """Close the client's HTTP session (its pooled connection) when done."""
    session = getattr(getattr(client, "http_client", None), "session", None)
    if session is not None:
        session.close()


def explain_error(exc: Exception) -> str:
    """A one-line account of a Twilio error, for logs and the command line: HTTP status, error code, message."""
    status, code = getattr(exc, "status", None), getattr(exc, "code", None)
    message = getattr(exc, "msg", None) or getattr(exc, "detail", None) or str(exc)
    # A refused list page is a bare TwilioException("Unable to fetch page", response): read the response.
    response = exc.args[1] if len(exc.args) > 1 else None
    if status is None and hasattr(response, "status_code"):
        status = response.status_code
        try:
            body = json.loads(response.text)
        except ValueError:
            body = {}
        code, message = body.get("code"), body.get("message") or exc.args[0]
    parts = [f"HTTP {status}" if status else "", f"error {code}" if code else "", message]
    return ", ".join(part for part in parts if part)
