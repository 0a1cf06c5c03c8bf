"""Structured log lines: one JSON object per record, with the request's id and the call's CallSid.

Phone numbers are masked by ivr.privacy's filter on the same handler, before the formatter sees the record.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import sys

from flask import Flask, Response, g, has_request_context, request
from flask.logging import default_handler
from pythonjsonlogger.json import JsonFormatter

REQUEST_ID_HEADER = "X-Request-Id"
# A proxy's id is kept only if it is a plain token: it goes into every line of the request.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Twilio's CallSid: CA and 32 hex digits. Anything else is not a call we could look up.
_CALL_SID = re.compile(r"^CA[0-9a-fA-F]{32}$")
JSON_FIELDS = "{asctime}{levelname}{name}{message}{request_id}{call_sid}"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(call_sid)s] %(message)s"


class RequestContext(logging.Filter):
    """Adds request_id and call_sid to every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Annotate; never drops a record."""
        in_request = has_request_context()
        record.request_id = g.get("request_id") if in_request else None
        record.call_sid = g.get("call_sid") if in_request else None
        return True


def note_call_sid(call_sid: str | None) -> None:
    """Tag this request's log lines with its (signature-verified) CallSid."""
    if call_sid and _CALL_SID.match(call_sid):
        g.call_sid = call_sid


class _RequestIds:
    """Fresh request ids: 16 random hex digits per process, then a counter (32 hex digits, as a uuid4's hex).

    Unique among processes as a uuid is, without a uuid's random bytes and object on every request.
    """

    def __init__(self):
        self._pid = None

    def next(self) -> str:
        """The next id of this process (a forked worker starts a prefix of its own)."""
        if self._pid != os.getpid():
            self._pid, self._prefix, self._count = os.getpid(), os.urandom(8).hex(), itertools.count(1)
        return f"{self._prefix}{next(self._count):016x}"


_fresh_ids = _RequestIds()


def _start_request() -> None:
    """Take the proxy's request id, or make one."""
    offered = request.headers.get(REQUEST_ID_HEADER)
    g.request_id = offered if offered and _SAFE_ID.match(offered) else _fresh_ids.next()


def _echo_request_id(response: Response) -> Response:
    """Give the id back, so a proxy's or a client's report can be matched with our lines."""
    if "request_id" in g:
        response.headers[REQUEST_ID_HEADER] = g.request_id
    return response


def formatter(kind: str) -> logging.Formatter:
    """The formatter for `[web] log_format`: json (production) or text (a developer's terminal)."""
    if kind == "json":
        return JsonFormatter(JSON_FIELDS, style="{", rename_fields={"asctime": "time", "levelname": "level",
                                                                    "name": "logger"})
    return logging.Formatter(TEXT_FORMAT)


def install(app: Flask, kind: str) -> None:
    """Request ids on every request, and the app's records written as `kind` lines to stderr."""
    app.before_request(_start_request)
    app.after_request(_echo_request_id)
    # Flask's default handler is shared by every app in the process: each app gets a handler of its own.
    app.logger.removeHandler(default_handler)
    for handler in [h for h in app.logger.handlers if getattr(h, "ivr_structured", False)]:
        app.logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.ivr_structured = True
    handler.addFilter(RequestContext())
    handler.setFormatter(formatter(kind))
    app.logger.addHandler(handler)
