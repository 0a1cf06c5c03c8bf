"""Status by text message: a resident texts a case number to the city's number and gets its status back.

POST /sms is Twilio's incoming-message webhook, signed like every /voice route. The reply is the phone's own
status read-back (actions.status_report), with the case number written the way it was texted rather than spelt
out for the speech engine; nothing personal, and nothing about the sender is logged.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from flask import Blueprint, Response, current_app, request

from .. import cases
from ..cases import numbers as casenumbers
from ..core.prompts import LANGUAGES
from .actions import status_report
from .services import CallServices
from .signature import twilio_signed
from .twiml import message_only

log = logging.getLogger(__name__)
bp = Blueprint("sms", __name__, url_prefix="/sms")

# Twilio splits longer bodies into segments and refuses anything over 1600 characters.
MAX_REPLY = 1600
# Fewer digits than this is not an attempt at a case number (8 digits; a typo may drop one or two).
FEWEST_DIGITS = 4
LONGEST_BODY = 160
# Words that say which language to answer in; anything else in the message is ignored.
SPANISH_WORDS = frozenset({"estado", "caso", "numero", "número", "mi", "el", "la", "de", "del", "por", "favor",
                           "hola", "que", "qué", "cual", "cuál", "solicitud", "gracias", "como", "cómo", "va"})
ENGLISH_WORDS = frozenset({"status", "case", "number", "my", "the", "of", "please", "hi", "hello", "what", "is",
                           "check", "request", "thanks", "how"})
_DIGIT_RUN = re.compile(r"\d(?:[\d\s\-\u2010-\u2015.#*]*\d)?")
_WORD = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class Query:
    """What a text message asked: the digits it carried (or None) and the language its words chose (or None)."""

    digits: str | None
    lang: str | None


def read_query(body: str) -> Query:
    """Find the case number and the language in 'STATUS 1000-0012', 'estado 1000 0012' or just '10000012'."""
    body = (body or "")[:LONGEST_BODY]
    run = _DIGIT_RUN.search(body)
    digits = casenumbers.normalise(run.group()) if run else ""
    words = {word.lower() for word in _WORD.findall(body)}
    lang = "es" if words & SPANISH_WORDS else ("en" if words & ENGLISH_WORDS else None)
    return Query(digits if len(digits) >= FEWEST_DIGITS else None, lang)


def _texts(catalog, langs: list[str], key: str) -> str:
    """A prompt in each language asked for, one per line."""
    return "\n".join(catalog.text(lang, key) for lang in langs)


def reply_text(services: CallServices, query: Query) -> tuple[str, str]:
    """The reply to a query and what kind it was (found, invalid, unknown, help): the phone's own words."""
    catalog = services.catalog
    langs = [query.lang] if query.lang else list(LANGUAGES)
    if query.digits is None:
        return _texts(catalog, list(LANGUAGES), "sms.status_help"), "help"
    number = casenumbers.parse(query.digits)
    if number is None:
        return _texts(catalog, langs, "status.invalid"), "invalid"
    case = cases.case_status(services.session, number)  # no contact details: what the phone would say
    if case is None:
        return _texts(catalog, langs, "status.not_found"), "unknown"
    # A bare number is answered in the language the case was reported in.
    lang = query.lang or (case.language if case.language in LANGUAGES else LANGUAGES[0])
    return written_report(services, case, lang), "found"


def written_report(services: CallServices, case, lang: str) -> str:
    """The phone's status read-back, with the number grouped as it is written ('1000 0012'), not spelt out."""
    spoken = casenumbers.spoken(case.number)
    return status_report(services, case, lang).replace(spoken, casenumbers.grouped(case.number))


def messaging_reply(text: str) -> Response:
    """One message back to the sender, as TwiML (twilio's MessagingResponse, built in twiml.py)."""
    return Response(str(message_only(text[:MAX_REPLY])), mimetype="text/xml")


@bp.post("")
@twilio_signed
def incoming():
    """A text arrived: answer with the case's status, a request to check the number, or short help."""
    state = current_app.extensions["ivr"]
    query = read_query(request.form.get("Body", ""))
    with state.db.session() as session:
        services = CallServices(state.line, state.catalog, session, current_app.config["CLOCK"]())
        text, kind = reply_text(services, query)
    log.info("status text answered: %s", kind)  # the kind only: never the sender, the number or the case
    return messaging_reply(text)
