"""The phone face: Twilio voice webhooks, the actions flows call, and the only TwiML builder."""

from .routes import bp

__all__ = ["bp"]
