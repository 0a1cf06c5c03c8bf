"""Fallback TwiML (DESIGN §2): whatever goes wrong, the caller hears the 911 advisory and is helped on,
never Twilio's "application error" — and none of it needs the database."""

import shutil
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from ivr import create_app
from ivr.models import Call, CallTurn
from ivr.settings import PROJECT_ROOT
from ivr.simulator import APPLICATION_ERROR, Simulator, WsgiTransport
from ivr.twiml_check import assert_valid_twiml
from tests.conftest import AUTH_TOKEN

HOURS_EN = "Monday to Friday, 8 AM to 5 PM"
HOURS_ES = "de lunes a viernes, de 8 de la mañana a 5 de la tarde"
OPEN_EN = ("We are sorry, we are having technical trouble. If this is a police, fire or medical emergency, "
           "hang up and dial 9-1-1. Please hold while we connect you to a representative.")
OPEN_ES = ("Lo sentimos, tenemos problemas técnicos. Si es una emergencia de policía, bomberos o médica, "
           "cuelgue y marque 9-1-1. Por favor, espere mientras le comunicamos con un representante.")
CLOSED_EN = ("We are sorry, we are having technical trouble. If this is a police, fire or medical emergency, "
             f"hang up and dial 9-1-1. 311 is open {HOURS_EN}. Please call again then. Goodbye.")
CLOSED_ES = ("Lo sentimos, tenemos problemas técnicos. Si es una emergencia de policía, bomberos o médica, "
             f"cuelgue y marque 9-1-1. El 311 atiende {HOURS_ES}. Por favor, llame de nuevo entonces. Adiós.")
CALL_CENTER = "+18605550100"
CALL_CENTER_ES = "+18605550101"
FORM = {"CallSid": "CA" + "7" * 32, "AccountSid": "AC" + "6" * 32, "From": "+18605550123",
        "To": "+18605550311", "CallStatus": "in-progress", "Direction": "inbound"}


def signed_post(app, path: str, params: dict | None = None):
    """POST a webhook signed for http://localhost, as the test client sends it."""
    params = FORM if params is None else params
    signature = RequestValidator(AUTH_TOKEN).compute_signature("http://localhost" + path, params)
    return app.test_client().post(path, data=params, headers={"X-Twilio-Signature": signature})


def twiml(answer) -> ET.Element:
    """A 200 text/xml answer, validated, parsed."""
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.mimetype == "text/xml"
    body = answer.get_data(as_text=True)
    assert_valid_twiml(body)
    return ET.fromstring(body)


def said(root: ET.Element) -> list[tuple[str, str]]:
    """(text, language) of every <Say>."""
    return [(" ".join((s.text or "").split()), s.get("language")) for s in root.iter("Say")]


def verbs(root: ET.Element) -> list[str]:
    """The top-level verbs in order."""
    return [child.tag for child in root]


def assert_open_fallback(root: ET.Element, langs=("en", "es")) -> None:
    """Advisory in the given languages, then a Dial to the call centre."""
    expected = {"en": (OPEN_EN, "en-US"), "es": (OPEN_ES, "es-US")}
    assert said(root) == [expected[lang] for lang in langs]
    assert verbs(root) == ["Say"] * len(langs) + ["Dial"]
    number = CALL_CENTER_ES if langs == ("es",) else CALL_CENTER
    assert (root.find("Dial").text or "").strip() == number


def assert_closed_fallback(root: ET.Element, langs=("en", "es")) -> None:
    """Advisory and hours in the given languages, then Hangup."""
    expected = {"en": (CLOSED_EN, "en-US"), "es": (CLOSED_ES, "es-US")}
    assert said(root) == [expected[lang] for lang in langs]
    assert verbs(root) == ["Say"] * len(langs) + ["Hangup"]


def count(db, model) -> int:
    """Rows in a table, read fresh."""
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model))


# ---- /voice/fallback -----------------------------------------------------------------------------

def test_fallback_when_open_speaks_both_languages_and_dials_the_call_centre(app):
    assert_open_fallback(twiml(signed_post(app, "/voice/fallback", FORM | {"ErrorCode": "11200"})))


def test_fallback_in_spanish_dials_the_spanish_line(app):
    assert_open_fallback(twiml(signed_post(app, "/voice/fallback?lang=es")), langs=("es",))


def test_fallback_in_english(app):
    assert_open_fallback(twiml(signed_post(app, "/voice/fallback?lang=en")), langs=("en",))


@pytest.mark.parametrize("when", [(2026, 12, 1, 20, 0), (2026, 12, 25, 10, 0), (2026, 12, 5, 12, 0)])
def test_fallback_when_closed_gives_the_hours_and_hangs_up(app, clock, when):
    clock.set(*when)
    assert_closed_fallback(twiml(signed_post(app, "/voice/fallback")))


def test_fallback_closed_in_spanish(app, clock):
    clock.set(2026, 12, 1, 20, 0)
    assert_closed_fallback(twiml(signed_post(app, "/voice/fallback?lang=es")), langs=("es",))


def test_fallback_with_an_unknown_language_speaks_both(app):
    assert_open_fallback(twiml(signed_post(app, "/voice/fallback?lang=fr")))


def test_fallback_writes_nothing(app, db):
    signed_post(app, "/voice/fallback")
    assert count(db, Call) == 0


def test_fallback_survives_a_broken_clock(make_app):
    def broken_clock():
        raise RuntimeError("clock is gone")

    app = make_app(CLOCK=broken_clock)
    # The line cannot tell whether it is open, so it says the hours rather than dial nobody.
    assert_closed_fallback(twiml(signed_post(app, "/voice/fallback")))
    assert_closed_fallback(twiml(signed_post(app, "/voice")))


# ---- without the database ------------------------------------------------------------------------

def _unreachable_postgres(tmp_path):
    return "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"


def _sqlite_directory(tmp_path):
    return f"sqlite:///{tmp_path}"  # a directory, not a database file


def _sqlite_without_tables(tmp_path):
    return f"sqlite:///{tmp_path / 'never-migrated.db'}"


@pytest.fixture(params=[_unreachable_postgres, _sqlite_directory, _sqlite_without_tables],
                ids=["postgres down", "sqlite unopenable", "sqlite not migrated"])
def dbless_app(request, tmp_path, clock):
    """The app with a database it cannot use."""
    app = create_app({"TESTING": True, "DATABASE_URL": request.param(tmp_path), "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                      "CLOCK": clock})
    yield app
    app.extensions["ivr"].db.dispose()


def test_arrival_without_the_database_answers_the_fallback(dbless_app):
    # No language has been chosen yet, so the advisory is in both.
    assert_open_fallback(twiml(signed_post(dbless_app, "/voice")))


def test_turn_without_the_database_answers_the_fallback(dbless_app):
    path = "/voice/turn?node=main_menu&lang=es&attempt=1&event=gather"
    assert_open_fallback(twiml(signed_post(dbless_app, path, FORM | {"Digits": "3"})), langs=("es",))


def test_closed_without_the_database(dbless_app, clock):
    clock.set(2026, 12, 25, 10, 0)
    assert_closed_fallback(twiml(signed_post(dbless_app, "/voice")))


@pytest.mark.parametrize("path", ["/voice/fallback", "/voice/wait?lang=en"])
def test_routes_that_never_touch_the_database(dbless_app, path):
    twiml(signed_post(dbless_app, path, FORM | {"QueuePosition": "2"}))


def test_status_callback_without_the_database_still_answers(dbless_app):
    root = twiml(signed_post(dbless_app, "/voice/status", FORM | {"CallStatus": "completed", "CallDuration": "30"}))
    assert len(root) == 0


def test_a_lost_status_callback_is_logged_with_its_call_sid_and_no_personal_data(dbless_app, caplog):
    form = FORM | {"CallStatus": "completed", "CallDuration": "30"}
    answer = signed_post(dbless_app, "/voice/status", form)
    assert answer.status_code == 200  # the call is over; see operations.md on why not 503
    lost = [record for record in caplog.records if "NOT stored" in record.getMessage()]
    assert len(lost) == 1 and lost[0].levelname == "ERROR"
    assert FORM["CallSid"] in lost[0].getMessage()
    # No traceback: it could carry the failed statement's parameters, the caller's number among them.
    assert lost[0].exc_info is None
    assert not any(FORM["From"] in record.getMessage() or record.exc_info for record in caplog.records)


def test_whole_call_without_the_database_is_never_an_application_error(dbless_app):
    sim = Simulator(WsgiTransport(dbless_app.test_client()), AUTH_TOKEN, public_base_url="http://localhost",
                    to="+18605550311")
    call = sim.dial()
    assert call.heard() == [OPEN_EN, OPEN_ES]
    assert [line.text for line in call.transcript if line.kind == "dial"] == [CALL_CENTER]
    assert call.ended and not call.application_error
    assert APPLICATION_ERROR not in call.heard()


# ---- positions that cannot be right --------------------------------------------------------------

BAD_POSITIONS = {
    "unknown node": ("node=no_such_node&lang=en&attempt=1&event=gather", ("en",)),
    "no node": ("lang=en&attempt=1&event=gather", ("en",)),
    "unknown language": ("node=main_menu&lang=fr&attempt=1&event=gather", ("en", "es")),
    "attempt zero": ("node=main_menu&lang=es&attempt=0&event=gather", ("es",)),
    "attempt not a number": ("node=main_menu&lang=en&attempt=abc&event=gather", ("en",)),
    "attempt too high": ("node=main_menu&lang=en&attempt=9999&event=gather", ("en",)),
    "unknown event": ("node=main_menu&lang=en&attempt=1&event=explode", ("en",)),
}


@pytest.mark.parametrize(("position", "langs"), BAD_POSITIONS.values(), ids=BAD_POSITIONS.keys())
def test_a_signed_turn_at_a_bad_position_gets_the_fallback(app, db, position, langs):
    answer = signed_post(app, "/voice/turn?" + position, FORM | {"Digits": "1"})
    assert_open_fallback(twiml(answer), langs=langs)
    assert count(db, Call) == 0  # turned away before anything was written


def test_a_turn_at_a_node_that_takes_no_input_gets_the_fallback(app):
    """A position that exists but cannot take keys (a branch) is a run-time flow error."""
    answer = signed_post(app, "/voice/turn?node=opening&lang=en&attempt=1&event=gather", FORM | {"Digits": "1"})
    assert_open_fallback(twiml(answer), langs=("en",))


# ---- run-time errors -----------------------------------------------------------------------------

@pytest.fixture
def looping_app(make_app, tmp_path):
    """The shipped flows with one mistake validation cannot see: information item 1 loops forever."""
    flows = tmp_path / "flows"
    shutil.copytree(PROJECT_ROOT / "flows", flows)
    text = (flows / "call.yaml").read_text()
    broken = text.replace("  info_about:\n    kind: say\n    prompt: info.about\n    next: info_menu\n",
                          "  info_about:\n    kind: say\n    prompt: info.about\n    next: info_about\n")
    assert broken != text
    (flows / "call.yaml").write_text(broken)
    return make_app(FLOWS_DIR=flows)


def test_a_flow_loop_at_run_time_gets_the_fallback(looping_app, db):
    sim = Simulator(WsgiTransport(looping_app.test_client()), AUTH_TOKEN, public_base_url="http://localhost",
                    to="+18605550311")
    call = sim.dial()
    call.press("2")
    call.press("3")
    call.press("1")
    assert call.heard()[-1] == OPEN_ES
    assert [line.text for line in call.transcript if line.kind == "dial"] == [CALL_CENTER_ES]
    assert not call.application_error
    # The failed turn was rolled back: the turns before it are kept, it is not.
    db.expire_all()
    nodes = [turn.node for turn in db.scalars(select(CallTurn).order_by(CallTurn.id))]
    assert nodes == ["(arrival)", "start", "main_menu"]


def test_an_unexpected_error_in_the_engine_gets_the_fallback(app, monkeypatch):
    def explode(turn, services):
        raise KeyError("something nobody expected")

    monkeypatch.setattr(app.extensions["ivr"].engine, "advance", explode)
    assert_open_fallback(twiml(signed_post(app, "/voice")))
    answer = signed_post(app, "/voice/turn?node=main_menu&lang=en&attempt=1&event=gather", FORM | {"Digits": "3"})
    assert_open_fallback(twiml(answer), langs=("en",))


def test_turn_errors_are_logged(app, monkeypatch, caplog):
    monkeypatch.setattr(app.extensions["ivr"].engine, "advance",
                        lambda turn, services: (_ for _ in ()).throw(RuntimeError("boom")))
    signed_post(app, "/voice")
    assert any("turn failed" in record.getMessage() and record.exc_info for record in caplog.records)


def test_wsgi_transport_fallback_never_500(dbless_app):
    """Belt and braces: even the plain transport (no TwiML check) never sees a 5xx."""
    sim = Simulator(WsgiTransport(dbless_app.test_client()), AUTH_TOKEN, public_base_url="http://localhost",
                    to="+18605550311")
    call = sim.dial()
    assert all(exchange.status == 200 for exchange in call.requests)
