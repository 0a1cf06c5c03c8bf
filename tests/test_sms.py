"""Tests for ivr.sms: the real twilio Client talking to a local HTTP stand-in for api.twilio.com (conftest)."""

from __future__ import annotations

import ast
import base64
import logging
import re
import socket
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

import ivr.sms
from ivr.settings import SmsConfig, TwilioSettings
from ivr.settings import load as load_settings
from ivr.sms import SmsSettings, send_sms
from ivr.twilio_rest import TwilioAccount

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "sms-test-token-fedcba9876543210"
FROM = "+18605550100"
TO = "+18605551234"
# The stand-in for api.twilio.com is the `twilio_stand_in` fixture in conftest.py.


def settings_for(url: str, **changes) -> SmsSettings:
    account = {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "api_base": url, "timeout": 2.0}
    sms = {"enabled": True, "from_number": FROM}
    for name, value in changes.items():
        (sms if name in sms else account)[name] = value
    return SmsSettings(**sms, account=TwilioAccount(**account))


def test_sends_message_with_to_from_body_and_basic_auth(twilio_stand_in):
    sid = send_sms(settings_for(twilio_stand_in.url), TO, "Your Hartford 311 case number is 2612-0042.")

    assert sid is not None and re.fullmatch(r"SM[0-9a-f]{32}", sid)
    [request] = twilio_stand_in.requests
    assert request["method"] == "POST"
    assert request["path"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request["form"] == {"To": TO, "From": FROM, "Body": "Your Hartford 311 case number is 2612-0042."}
    scheme, _, credentials = request["authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(credentials).decode() == f"{ACCOUNT_SID}:{AUTH_TOKEN}"


def test_api_base_with_trailing_slash_from_settings_table(twilio_stand_in):
    config = SmsConfig(enabled=True, from_number=FROM, timeout=2.0)
    account = TwilioAccount.from_settings(
        SimpleNamespace(twilio=TwilioSettings(api_base=twilio_stand_in.url + "/", timeout=9.0)),
        SimpleNamespace(twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN))
    settings = SmsSettings.from_settings(config, account)

    assert send_sms(settings, TO, "Case 2612-0042") is not None
    assert twilio_stand_in.requests[0]["path"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


def test_twilio_edge_in_environment_does_not_rewrite_api_base(twilio_stand_in, monkeypatch):
    # The SDK would otherwise turn the host into an edge/region name; the override must win.
    monkeypatch.setenv("TWILIO_EDGE", "ashburn")
    monkeypatch.setenv("TWILIO_REGION", "us1")

    assert send_sms(settings_for(twilio_stand_in.url), TO, "Case 2612-0042") is not None
    assert len(twilio_stand_in.requests) == 1


@pytest.mark.parametrize(
    "changes",
    [
        {"enabled": False},
        {"from_number": ""},
        {"account_sid": None},
        {"auth_token": None},
        {"account_sid": ""},
    ],
    ids=["disabled", "no-from-number", "no-account-sid", "no-auth-token", "empty-account-sid"],
)
def test_not_usable_sends_nothing(twilio_stand_in, changes):
    settings = settings_for(twilio_stand_in.url, **changes)

    assert not settings.usable
    assert send_sms(settings, TO, "Case 2612-0042") is None
    assert twilio_stand_in.requests == []


def test_missing_recipient_sends_nothing(twilio_stand_in, caplog):
    with caplog.at_level(logging.WARNING, logger="ivr.sms"):
        assert send_sms(settings_for(twilio_stand_in.url), "", "Case 2612-0042") is None
    assert twilio_stand_in.requests == []
    assert "recipient" in caplog.text


def test_twilio_error_is_logged_with_its_code(twilio_stand_in, caplog):
    twilio_stand_in.status = 400

    with caplog.at_level(logging.WARNING, logger="ivr.sms"):
        assert send_sms(settings_for(twilio_stand_in.url), "+1860555", "Case 2612-0042") is None

    assert len(twilio_stand_in.requests) == 1
    warnings = [record for record in caplog.records if record.name == "ivr.sms" and record.levelno == logging.WARNING]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert "21211" in message
    assert "not a valid phone number" in message
    assert AUTH_TOKEN not in caplog.text


def test_twilio_server_error_returns_none(twilio_stand_in, caplog):
    twilio_stand_in.status = 503
    twilio_stand_in.error_body = {"code": 20503, "message": "Service Unavailable", "status": 503}

    with caplog.at_level(logging.WARNING, logger="ivr.sms"):
        assert send_sms(settings_for(twilio_stand_in.url), TO, "Case 2612-0042") is None
    assert "20503" in caplog.text


def test_unreachable_host_returns_none(caplog):
    # Bind then release a port, so nothing is listening there.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with caplog.at_level(logging.WARNING, logger="ivr.sms"):
        assert send_sms(settings_for(f"http://127.0.0.1:{port}"), TO, "Case 2612-0042") is None
    assert "ConnectionError" in caplog.text


def test_slow_twilio_times_out_and_returns_none(twilio_stand_in, caplog):
    twilio_stand_in.delay = 3.0

    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="ivr.sms"):
        assert send_sms(settings_for(twilio_stand_in.url, timeout=0.2), TO, "Case 2612-0042") is None
    elapsed = time.monotonic() - started

    assert elapsed < 1.5
    assert len(twilio_stand_in.requests) == 1
    assert "Timeout" in caplog.text


def test_from_settings_reads_table_and_secrets():
    settings = SmsSettings.from_settings(SmsConfig(enabled=True, from_number=FROM, timeout=3.0),
                                         TwilioAccount(ACCOUNT_SID, AUTH_TOKEN, "", 9.0))

    # The [sms] time limit is the one a text waits for: a caller on the line never waits longer.
    assert settings == SmsSettings(True, FROM, TwilioAccount(ACCOUNT_SID, AUTH_TOKEN, "", 3.0))
    assert settings.usable
    assert AUTH_TOKEN not in repr(settings)


def test_shipped_settings_leave_texts_off():
    """Texts need a number and credentials: the shipped config/sms.toml keeps them off."""
    shipped = load_settings(environ={})
    account = TwilioAccount.from_settings(shipped, SimpleNamespace(twilio_account_sid=None, twilio_auth_token=None))
    settings = SmsSettings.from_settings(shipped.sms, account)

    assert settings.enabled is False
    assert settings.account.timeout == 5.0 and settings.account.api_base == ""
    assert settings.from_number == ""
    assert not settings.usable


def test_module_imports_neither_flask_nor_sqlalchemy():
    tree = ast.parse(Path(ivr.sms.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])

    assert "twilio" in imported
    assert not imported & {"flask", "sqlalchemy"}
