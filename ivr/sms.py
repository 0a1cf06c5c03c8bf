"""Text a caller their case number through Twilio's Messages API, using twilio's own REST client.

Sending is best effort: a caller on the line must never hear an error because a text failed, so send_sms logs
a warning and returns None on any failure instead of raising.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from twilio.base.exceptions import TwilioRestException, TwilioServiceException

from .twilio_rest import TwilioAccount, close_client, rest_client

if TYPE_CHECKING:
    from .settings import SmsConfig

logger = logging.getLogger(__name__)

def _masked(number: str) -> str:
    """A phone number for the logs: enough to tell calls apart, not enough to identify the caller."""
    return f"...{number[-4:]}" if len(number) > 4 else "..."


@dataclass(frozen=True)
class SmsSettings:
    """The [sms] settings joined with the Twilio account: what sending a text needs."""

    enabled: bool
    from_number: str  # E.164, the city's SMS-capable Twilio number
    account: TwilioAccount  # credentials (secrets) and how to reach the API; its timeout is the [sms] one

    @classmethod
    def from_settings(cls, config: SmsConfig, account: TwilioAccount) -> SmsSettings:
        """Build from the typed [sms] settings (already checked at load) and the account."""
        return cls(enabled=config.enabled, from_number=config.from_number.strip(),
                   account=replace(account, timeout=config.timeout))

    @property
    def usable(self) -> bool:
        """Whether texts can be sent: switched on, with a From number and both Twilio credentials."""
        return bool(self.enabled and self.from_number and self.account.usable)


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
        client = rest_client(settings.account)
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
        close_client(client)

    if not message.sid:
        logger.warning("SMS to %s: Twilio accepted it but returned no message SID", _masked(to))
        return None
    return message.sid
