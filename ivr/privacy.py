"""Privacy by default in the logs: phone numbers are masked in every record before any handler writes it."""

from __future__ import annotations

import logging
import re

# A North American number however it is written: +18605550123, 1-860-555-0123, (860) 555-0123, 860.555.0123.
_NANP = r"(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-]?)\d{3}[\s.-]?\d{4}"
# Any other E.164 number, and any bare run of 10 or 11 digits (the shape of a phone number, with or without 1).
_E164 = r"\+\d{7,15}"
_RUN = r"\d{10,11}"
# Not inside a longer word or number: CallSids (CA + 32 hex) hold digit runs, and case numbers are 8 digits.
PHONE = re.compile(rf"(?<![\w+])(?:{_NANP}|{_E164}|{_RUN})(?!\w)")


def mask_number(number: str) -> str:
    """A phone number for the logs: its last four digits, as ivr.sms does, enough to tell calls apart."""
    digits = re.sub(r"\D", "", number)
    return f"...{digits[-4:]}"


def mask_phone_numbers(text: str) -> str:
    """The text with every phone number in it masked."""
    return PHONE.sub(lambda match: mask_number(match.group()), text)


class MaskPhoneNumbers(logging.Filter):
    """Masks phone numbers in a record's message, arguments, traceback and stack before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the record in place; never drops it."""
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it for logging's own error report
            return True
        # Merged once, so a number passed as an argument is masked however the handler formats it.
        record.msg, record.args = mask_phone_numbers(message), None
        if record.exc_info and not record.exc_text:
            # Drivers put rows into their errors (PostgreSQL: "Failing row contains (...)"); formatters reuse this.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_phone_numbers(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_phone_numbers(record.stack_info)
        return True


def install(*loggers: logging.Logger) -> None:
    """Put the filter on every handler of these loggers, once each (create_app may run many times)."""
    for logger in loggers:
        for handler in logger.handlers:
            if not any(isinstance(existing, MaskPhoneNumbers) for existing in handler.filters):
                handler.addFilter(MaskPhoneNumbers())
