"""The phone face: Twilio voice webhooks, the actions flows call, and the only TwiML builder."""

from . import callback_actions, interpretation, waiting  # noqa: F401 - register their actions and routes on bp
from .routes import bp

__all__ = ["bp"]
