"""Text a caller their case number through Twilio's Messages API, using twilio's own REST client.

Sending is best effort: a caller on the line must never hear an error because a text failed, so send_sms logs
a warning and returns None on any failure instead of raising.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

if TYPE_CHECKING:
    from .settings import SmsConfig

logger = logging.getLogger(__name__)

def _masked(number: str) -> str:
    """A phone number for the logs: enough to tell calls apart, not enough to identify the caller."""
    return f"...{number[-4:]}" if len(number) > 4 else "..."


@dataclass(frozen=True)
class SmsSettings:
    """The [sms] settings joined with the two Twilio secrets: what sending a text needs."""

    enabled: bool
    from_number: str  # E.164, the city's SMS-capable Twilio number
    account_sid: str | None  # from env TWILIO_ACCOUNT_SID (secret)
    auth_token: str | None  # from env TWILIO_AUTH_TOKEN (secret)
    api_base: str  # override for Twilio's API host, e.g. "http://127.0.0.1:8765"; empty = Twilio's default
    timeout: float

    def __repr__(self) -> str:
        # Keep the auth token out of logs and tracebacks.
        return (
            f"SmsSettings(enabled={self.enabled!r}, from_number={self.from_number!r}, "
            f"account_sid={self.account_sid!r}, auth_token={'***' if self.auth_token else None}, "
            f"api_base={self.api_base!r}, timeout={self.timeout!r})"
        )

    @classmethod
    def from_settings(cls, config: SmsConfig, account_sid: str | None, auth_token: str | None) -> SmsSettings:
        """Build from the typed [sms] settings (already checked at load) and the two secrets."""
        return cls(enabled=config.enabled, from_number=config.from_number.strip(), account_sid=account_sid or None,
                   auth_token=auth_token or None, api_base=config.api_base.strip().rstrip("/"),
                   timeout=config.timeout)

    @property
    def usable(self) -> bool:
        """Whether texts can be sent: switched on, with a From number and both Twilio credentials."""
        return bool(self.enabled and self.from_number and self.account_sid and self.auth_token)


def _client(settings: SmsSettings) -> Client:
    http_client = TwilioHttpClient(timeout=settings.timeout)
    client = Client(settings.account_sid, settings.auth_token, http_client=http_client)
    if settings.api_base:
        # twilio-python 9.x has no "base URL" option. Each domain hard-codes its host when it is built
        # (ApiBase.__init__ passes "https://api.twilio.com" to Domain), and every request URL is made by
        # Domain.absolute_url() from that domain's `base_url` attribute; Messages live on the `api` domain
        # (client.api -> v2010 -> account -> messages), which the client creates once and caches. So we
        # replace `base_url` on that domain instance: the SDK still builds the path, form body, auth and
        # errors itself. Edge/region (TWILIO_EDGE / TWILIO_REGION in the environment) are cleared because
        # ClientBase.get_hostname() would otherwise rewrite our host as if it were a *.twilio.com name.
        client.api.base_url = settings.api_base.rstrip("/")
        client.edge = None
        client.region = None
    return client


def send_sms(settings: SmsSettings, to: str, body: str) -> str | None:
    """Send one message; return Twilio's message SID, or None if it was not sent.

    "Not sent" means switched off or not configured, or failed: a failure is logged, never raised.
    """
    if not settings.usable:
        logger.debug("SMS not sent: sending is switched off or not configured")
        return None
    if not to or not body:
        logger.warning("SMS not sent: missing %s", "recipient" if not to else "body")
        return None

    client = None
    try:
        client = _client(settings)
        message = client.api.account.messages.create(to=to, from_=settings.from_number, body=body)
    except (TwilioRestException, TwilioServiceException) as exc:
        # Twilio answered with an error, e.g. 21211 (invalid 'To') or 21610 (recipient replied STOP).
        detail = getattr(exc, "msg", None) or getattr(exc, "detail", None) or getattr(exc, "title", "")
        logger.warning(
            "SMS to %s not sent: Twilio error %s (HTTP %s): %s",
            _masked(to),
            exc.code,
            exc.status,
            detail,
        )
        return None
    except Exception as exc:  # network failure, timeout, a garbled answer: never raise into the call
        logger.warning("SMS to %s not sent: %s: %s", _masked(to), type(exc).__name__, exc)
        return None
    finally:
        session = getattr(getattr(client, "http_client", None), "session", None)
        if session is not None:
            session.close()

    if not message.sid:
        logger.warning("SMS to %s: Twilio accepted it but returned no message SID", _masked(to))
        return None
    return message.sid
