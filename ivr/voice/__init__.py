"""The phone face: Twilio voice webhooks, the actions flows call, and the only TwiML builder."""

from . import callback_actions, waiting  # noqa: F401 - register call-back actions and the wait routes
from .routes import bp

__all__ = ["bp"]
