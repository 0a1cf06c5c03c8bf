"""Twilio request signatures: nothing under /voice runs, or writes, unless Twilio signed the request."""

import xml.etree.ElementTree as ET

import pytest
from flask import Flask
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from ivr.models import Call, CallTurn
from ivr.voice.signature import twilio_signed
from tests.conftest import AUTH_TOKEN

PUBLIC = "https://311.example.gov"
CALL_SID = "CA" + "5" * 32
FORM = {"CallSid": CALL_SID, "AccountSid": "AC" + "6" * 32, "From": "+18605550123", "To": "+18605550311",
        "CallStatus": "ringing", "Direction": "inbound"}
TURN = "/voice/turn?node=main_menu&lang=en&attempt=1&event=gather"
VOICE_PATHS = ["/voice", TURN, "/voice/wait?lang=en", "/voice/status", "/voice/fallback"]


def sign(url: str, params: dict, token: str = AUTH_TOKEN) -> str:
    """X-Twilio-Signature as Twilio computes it for a URL and form."""
    return RequestValidator(token).compute_signature(url, params)


def post(app, path: str, params: dict, signature: str | None):
    """POST a form to the app through the test client (which sees http://localhost)."""
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    return app.test_client().post(path, data=params, headers=headers)


def count(db, model) -> int:
    """Rows in a table, read fresh."""
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model))


TWILIO_PREFIXES = ("/voice", "/sms")  # every Twilio webhook lives under one of these


def unguarded_voice_routes(app: Flask) -> list[str]:
    """Every rule under /voice or /sms (Twilio's webhooks) whose view is not wrapped by @twilio_signed."""
    rules = [rule for rule in app.url_map.iter_rules()
             if any(rule.rule == prefix or rule.rule.startswith(prefix + "/") for prefix in TWILIO_PREFIXES)]
    assert rules, "no /voice routes at all"
    return [rule.rule for rule in rules if not getattr(app.view_functions[rule.endpoint], "twilio_signed", False)]


@pytest.fixture
def public_app(make_app):
    """The app behind a TLS proxy: Twilio signs https://311.example.gov/..., Flask sees http://localhost."""
    return make_app({"web": {"public_base_url": PUBLIC}})


# ---- the guard on every route --------------------------------------------------------------------

def test_every_voice_route_is_signed(app):
    rules = [rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/voice")]
    assert {"/voice", "/voice/turn", "/voice/wait", "/voice/status", "/voice/fallback"} <= set(rules)
    assert unguarded_voice_routes(app) == []


def test_the_sms_route_is_in_the_walk(app):
    assert "/sms" in {rule.rule for rule in app.url_map.iter_rules()}

    @app.post("/sms/forgotten")
    def forgotten_sms():
        return "<Response/>"

    assert unguarded_voice_routes(app) == ["/sms/forgotten"]


def test_the_route_walk_catches_an_unguarded_route(app):
    """The check above would fail for a new /voice route that forgot @twilio_signed."""

    @app.post("/voice/forgotten")
    def forgotten():
        return "<Response/>"

    @app.post("/voice/remembered")
    @twilio_signed
    def remembered():
        return "<Response/>"

    assert unguarded_voice_routes(app) == ["/voice/forgotten"]


@pytest.mark.parametrize("path", VOICE_PATHS)
def test_unsigned_requests_are_refused_on_every_route(app, db, path):
    answer = post(app, path, FORM, None)
    assert answer.status_code == 403
    assert count(db, Call) == 0


@pytest.mark.parametrize("path", VOICE_PATHS)
def test_properly_signed_requests_pass_on_every_route(app, path):
    answer = post(app, path, FORM, sign("http://localhost" + path, FORM))
    assert answer.status_code == 200
    assert ET.fromstring(answer.get_data(as_text=True)).tag == "Response"


# ---- forged signatures write nothing -------------------------------------------------------------

FORGERIES = {
    "missing": lambda url, form: None,
    "empty": lambda url, form: "",
    "garbage": lambda url, form: "bm90IGEgc2lnbmF0dXJl",
    "wrong token": lambda url, form: sign(url, form, token="someone-elses-token"),
    "other url": lambda url, form: sign("http://localhost/somewhere-else", form),
    "other form": lambda url, form: sign(url, form | {"From": "+15555550000"}),
    "extra param": lambda url, form: sign(url, {k: v for k, v in form.items() if k != "From"}),
}


@pytest.mark.parametrize("forge", FORGERIES.values(), ids=FORGERIES.keys())
def test_forged_arrival_is_refused_and_writes_nothing(app, db, forge):
    answer = post(app, "/voice", FORM, forge("http://localhost/voice", FORM))
    assert answer.status_code == 403
    assert "Response" not in answer.get_data(as_text=True)  # no TwiML: nothing ran
    assert count(db, Call) == 0 and count(db, CallTurn) == 0


@pytest.mark.parametrize("forge", FORGERIES.values(), ids=FORGERIES.keys())
def test_forged_turn_and_status_write_nothing(app, db, forge):
    assert post(app, "/voice", FORM, sign("http://localhost/voice", FORM)).status_code == 200
    assert (count(db, Call), count(db, CallTurn)) == (1, 1)

    turn_form = FORM | {"Digits": "0", "CallStatus": "in-progress"}
    assert post(app, TURN, turn_form, forge("http://localhost" + TURN, turn_form)).status_code == 403
    status_form = FORM | {"CallStatus": "completed", "CallDuration": "99"}
    assert post(app, "/voice/status", status_form,
                forge("http://localhost/voice/status", status_form)).status_code == 403

    assert count(db, CallTurn) == 1
    db.expire_all()
    row = db.scalars(select(Call)).one()
    assert row.final_status is None and row.duration_seconds is None and row.outcome is None


def test_a_turn_for_a_forged_position_is_refused(app):
    """The position lives in the query string, which the signature covers."""
    form = FORM | {"Digits": "1"}
    signed_for = "/voice/turn?node=start&lang=en&attempt=1&event=gather"
    forged = "/voice/turn?node=representative_queue&lang=en&attempt=1&event=queue"
    assert post(app, forged, form, sign("http://localhost" + signed_for, form)).status_code == 403
    assert post(app, signed_for, form, sign("http://localhost" + signed_for, form)).status_code == 200


def test_without_an_auth_token_nothing_is_accepted(make_app, db):
    app = make_app(TWILIO_AUTH_TOKEN="")
    assert post(app, "/voice", FORM, sign("http://localhost/voice", FORM, token="")).status_code == 403
    assert count(db, Call) == 0


# ---- PUBLIC_BASE_URL -----------------------------------------------------------------------------

def test_public_base_url_is_what_gets_checked(public_app):
    assert public_app.config["PUBLIC_BASE_URL"] == PUBLIC
    answer = post(public_app, "/voice", FORM, sign(PUBLIC + "/voice", FORM))
    assert answer.status_code == 200
    assert "City of Hartford 311" in answer.get_data(as_text=True)


def test_behind_a_proxy_the_local_url_no_longer_validates(public_app):
    assert post(public_app, "/voice", FORM, sign("http://localhost/voice", FORM)).status_code == 403


def test_public_base_url_with_a_trailing_slash(make_app):
    app = make_app({"web": {"public_base_url": PUBLIC + "/"}})
    assert post(app, "/voice", FORM, sign(PUBLIC + "/voice", FORM)).status_code == 200


def test_public_base_url_covers_the_query_string(public_app):
    form = FORM | {"Digits": "3"}
    assert post(public_app, TURN, form, sign(PUBLIC + TURN, form)).status_code == 200
    for tampered in ("node=representative_queue&lang=en&attempt=1&event=gather",
                     "node=main_menu&lang=es&attempt=1&event=gather",
                     "node=main_menu&lang=en&attempt=3&event=gather",
                     "node=main_menu&lang=en&attempt=1&event=silence",
                     "node=main_menu&lang=en&attempt=1&event=gather&extra=1"):
        assert post(public_app, "/voice/turn?" + tampered, form, sign(PUBLIC + TURN, form)).status_code == 403


def test_whole_call_behind_a_proxy(public_app):
    """The simulator signs https://311.example.gov/... while the test client talks to http://localhost."""
    from ivr.simulator import Simulator, WsgiTransport

    sim = Simulator(WsgiTransport(public_app.test_client(), public_host=False), AUTH_TOKEN,
                    public_base_url=PUBLIC, to="+18605550311")
    call = sim.dial()
    call.press("1")
    call.press("3")
    assert call.heard()[-1].startswith("City information.")
    assert all(exchange.status == 200 for exchange in call.requests)


def test_proxy_hops_trust_forwarded_headers(make_app):
    """Instead of public_base_url, a deployment may trust X-Forwarded-* from its proxy."""
    app = make_app({"web": {"proxy_hops": 1}})
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "311.example.gov",
               "X-Twilio-Signature": sign(PUBLIC + "/voice", FORM)}
    assert app.test_client().post("/voice", data=FORM, headers=headers).status_code == 200
    headers["X-Forwarded-Host"] = "evil.example.com"
    assert app.test_client().post("/voice", data=FORM, headers=headers).status_code == 403


def test_a_signature_over_the_url_with_its_port_is_accepted_too(public_app):
    """The quick check (the URL as received) falls back to twilio's own, which also tries the URL with a port."""
    params = dict(FORM)
    with_port = sign(PUBLIC.replace(".gov", ".gov:443") + "/voice/fallback", params)
    assert post(public_app, "/voice/fallback", params, with_port).status_code == 200
    assert post(public_app, "/voice/fallback", params, with_port[:-2] + "é=").status_code == 403
