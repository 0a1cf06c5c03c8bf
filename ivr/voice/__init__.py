"""The phone face: Twilio voice webhooks, the actions flows call, and the only TwiML builder."""

from . import languages, recorded_calls  # noqa: F401 - register their routes, conditions and directories
from .routes import bp

__all__ = ["bp"]
