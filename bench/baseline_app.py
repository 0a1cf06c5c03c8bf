"""The cheapest possible signed Twilio webhook, served by bench/bench_http.py under the Procfile's gunicorn.

Signature check (twilio's RequestValidator over the public URL and the form, as ivr/voice/signature.py does) and
a one-Gather VoiceResponse: whatever the line does per turn beyond this is what the benchmark weighs. It imports
nothing from ivr/, so the yardstick stays put while the line changes.
"""

from __future__ import annotations

import os

from flask import Flask, Response, abort, request
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse


def create_app() -> Flask:
    """A Flask app answering POST /voice; token and public URL come from the environment, as the line's do."""
    app = Flask("baseline")
    token = os.environ["TWILIO_AUTH_TOKEN"]
    public_base_url = os.environ.get("PUBLIC_BASE_URL", "").rstrip("/")

    @app.post("/voice")
    def voice():
        path = request.full_path if request.query_string else request.path
        url = public_base_url + path if public_base_url else request.url
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not RequestValidator(token).validate(url, request.form, signature):
            abort(403)
        response = VoiceResponse()
        response.gather(action="/voice", num_digits=1).say("Hello")
        return Response(str(response), mimetype="text/xml")

    return app
