"""Structured log lines (ivr/logs.py): JSON with the request id and the verified CallSid, numbers masked."""

from __future__ import annotations

import io
import json
import logging

from ivr.logs import RequestContext, formatter
from ivr.privacy import MaskPhoneNumbers


def _capture(app) -> io.StringIO:
    """The app's structured handler, pointed at a buffer."""
    handler = next(h for h in app.logger.handlers if getattr(h, "ivr_structured", False))
    buffer = io.StringIO()
    handler.setStream(buffer)
    return buffer


def _lines(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def test_a_turn_that_fails_logs_one_json_line_with_its_request_id_and_call_sid(app, phone, monkeypatch):
    buffer = _capture(app)
    monkeypatch.setitem(app.extensions["ivr"].action_handlers, "begin_intake",
                        lambda *args: (_ for _ in ()).throw(RuntimeError("boom")))
    call = phone(from_="+18605550123")
    call.press("1").press("1")  # English, then report a problem: the action fails, the caller hears the fallback
    failures = [line for line in _lines(buffer) if "turn failed" in line["message"]]
    assert len(failures) == 1, buffer.getvalue()
    line = failures[0]
    assert (line["call_sid"], line["level"], len(line["request_id"])) == (call.call_sid, "ERROR", 32)
    assert "RuntimeError: boom" in line["exc_info"]
    assert "8605550123" not in buffer.getvalue()


def test_a_proxy_request_id_is_kept_and_given_back(app):
    buffer = _capture(app)
    response = app.test_client().get("/healthz", headers={"X-Request-Id": "req-42"})
    assert response.headers["X-Request-Id"] == "req-42"
    assert buffer.getvalue() == ""  # a healthy request writes nothing


def test_an_unsigned_request_gets_a_fresh_request_id_and_no_call_sid(app):
    buffer = _capture(app)
    response = app.test_client().post("/voice", data={"CallSid": "CA" + "b" * 32},
                                      headers={"X-Request-Id": "bad id {forged}"})
    assert response.status_code == 403
    request_id = response.headers["X-Request-Id"]
    assert len(request_id) == 32 and "forged" not in request_id
    app.logger.warning("after")  # outside the request: no ids
    assert _lines(buffer)[-1]["request_id"] is None


def test_phone_numbers_are_masked_in_json_lines():
    record = logging.LogRecord("ivr", logging.WARNING, __file__, 1, "caller %s hung up", ("+18605550123",), None)
    MaskPhoneNumbers().filter(record)
    RequestContext().filter(record)
    line = json.loads(formatter("json").format(record))
    assert line["message"] == "caller ...0123 hung up" and line["logger"] == "ivr"


def test_text_lines_for_a_developer_terminal():
    record = logging.LogRecord("ivr.voice", logging.INFO, __file__, 1, "hello", (), None)
    RequestContext().filter(record)
    assert formatter("text").format(record).endswith("INFO ivr.voice [None None] hello")

