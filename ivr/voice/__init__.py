"""The phone face: Twilio voice webhooks, the actions flows call, and the only TwiML builder."""

from . import recorded_calls  # noqa: F401 - adds /voice/recording and the recording_enabled condition to bp
from .routes import bp

__all__ = ["bp"]
