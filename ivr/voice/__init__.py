"""The phone face: Twilio voice webhooks, the actions flows call, and the only TwiML builder."""

from . import interpretation  # noqa: F401 - registers the interpretation conference's webhooks on bp
from .routes import bp

__all__ = ["bp"]
