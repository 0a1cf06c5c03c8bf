"""The phone face: Twilio voice webhooks, the actions flows call, and the only TwiML builder."""

# Each registers its routes, actions, conditions or directories on bp.
from . import callback_actions, interpretation, languages, recorded_calls, waiting  # noqa: F401
from .routes import bp

__all__ = ["bp"]
