"""Twilio request signatures: every webhook is checked with twilio's own RequestValidator."""

from __future__ import annotations

import hmac
from functools import lru_cache, wraps

from flask import abort, current_app, request
from twilio.request_validator import RequestValidator

from ..logs import note_call_sid


def signed_url() -> str:
    """The URL Twilio signed: the public base URL (behind a TLS proxy) or the URL as received."""
    base = current_app.config.get("PUBLIC_BASE_URL") or ""
    if not base:
        return request.url
    path = request.full_path if request.query_string else request.path
    return base.rstrip("/") + path


@lru_cache(maxsize=4)
def _validator(token: str) -> RequestValidator:
    """twilio's validator for an auth token (made once, not per request)."""
    return RequestValidator(token)


def signature_is_valid() -> bool:
    """True if X-Twilio-Signature matches this request and our auth token."""
    token = current_app.config.get("TWILIO_AUTH_TOKEN")
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    # The MultiDict itself: RequestValidator reads every value of a field through getlist(), as Twilio
    # signs them; a dict holding a list would make it hash the list (TypeError, a 503 before the check).
    params = request.form if request.method == "POST" else {}
    validator, url = _validator(token), signed_url()
    # Twilio signs the URL it called, as we received it: one HMAC settles almost every request. validate()
    # then tries that URL with and without a port (two more), for the requests this one does not match.
    if hmac.compare_digest(validator.compute_signature(url, params).encode(), signature.encode()):
        return True
    return validator.validate(url, params, signature)


def twilio_signed(view):
    """Reject (403) any request not signed by Twilio with our auth token, before anything else runs."""

    @wraps(view)
    def guarded(*args, **kwargs):
        if not signature_is_valid():
            abort(403, description="missing or invalid X-Twilio-Signature")
        note_call_sid(request.form.get("CallSid"))
        return view(*args, **kwargs)

    guarded.twilio_signed = True  # lets the test suite prove every /voice route is guarded
    return guarded
