"""`ivr twilio numbers [--apply]` against the local stand-in of Twilio's API: the exact requests it makes."""

from __future__ import annotations

import base64

import pytest
from click.testing import CliRunner

from ivr.cli import main
from tests.twilio_api import phone_number_resource

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
TOKEN = "stand-in-auth-token"
PUBLIC = "https://311.example.gov"
THREE_ONE_ONE, TEN_DIGIT, OTHER = "+18605550311", "+18607579311", "+18605550999"  # the first two: config/numbers.toml
AUTHORIZATION = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{TOKEN}".encode()).decode()
NUMBERS = f"/2010-04-01/Accounts/{ACCOUNT_SID}/IncomingPhoneNumbers"
WEBHOOKS = {"VoiceUrl": PUBLIC + "/voice", "VoiceFallbackUrl": PUBLIC + "/voice/fallback",
            "StatusCallback": PUBLIC + "/voice/status", "SmsUrl": PUBLIC + "/sms"}


@pytest.fixture
def account(twilio_stand_in, monkeypatch):
    """The stand-in holding the city's two numbers (pointing nowhere) and one other; the CLI's environment."""
    for name in ("IVR_CONFIG", "IVR_CONFIG_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    monkeypatch.setenv("TWILIO_API_BASE", twilio_stand_in.url)
    monkeypatch.setenv("PUBLIC_BASE_URL", PUBLIC)
    twilio_stand_in.numbers = [phone_number_resource(ACCOUNT_SID, number) for number in (THREE_ONE_ONE, TEN_DIGIT)]
    twilio_stand_in.numbers.append(phone_number_resource(ACCOUNT_SID, OTHER, voice_url="https://elsewhere.example/v"))
    return twilio_stand_in


def run(*args: str):
    return CliRunner().invoke(main, ["twilio", "numbers", *args])


def posts(stand_in) -> list[tuple[str, dict]]:
    return [(request["path"], request["form"]) for request in stand_in.requests if request["method"] == "POST"]


def sid_of(stand_in, phone_number: str) -> str:
    return next(number["sid"] for number in stand_in.numbers if number["phone_number"] == phone_number)


def test_listing_shows_every_number_and_the_plan_and_changes_nothing(account):
    result = run()
    assert result.exit_code == 0, result.output
    assert "3 numbers in the account:" in result.output
    assert f"{OTHER}  {sid_of(account, OTHER)}  (not the city's)  voice: https://elsewhere.example/v" in result.output
    assert f"{THREE_ONE_ONE} (311): 4 changes\n    voice_url: (none) -> {PUBLIC}/voice\n" in result.output
    assert f"    sms_url: (none) -> {PUBLIC}/sms\n" in result.output
    assert "Run `ivr twilio numbers --apply` to make these changes." in result.output
    assert [(r["method"], r["path"].split("?")[0], r["authorization"]) for r in account.requests] == [
        ("GET", NUMBERS + ".json", AUTHORIZATION)]
    assert posts(account) == []


def test_apply_sets_each_city_number_once_then_has_nothing_to_do(account):
    result = run("--apply")
    assert result.exit_code == 0, result.output
    plan = result.output.index(f"{TEN_DIGIT} (ten-digit): 4 changes")
    assert plan < result.output.index(f"updated {THREE_ONE_ONE}") < result.output.index(f"updated {TEN_DIGIT}")
    assert posts(account) == [(f"{NUMBERS}/{sid_of(account, THREE_ONE_ONE)}.json", WEBHOOKS),
                              (f"{NUMBERS}/{sid_of(account, TEN_DIGIT)}.json", WEBHOOKS)]
    assert all(request["authorization"] == AUTHORIZATION for request in account.requests)
    assert next(n for n in account.numbers if n["phone_number"] == OTHER)["voice_url"] == "https://elsewhere.example/v"

    account.requests.clear()
    again = run("--apply")
    assert again.exit_code == 0, again.output
    assert f"{THREE_ONE_ONE} (311): already set" in again.output
    assert "nothing to change" in again.output
    assert posts(account) == []


def test_apply_changes_only_what_differs(account):
    number = next(n for n in account.numbers if n["phone_number"] == THREE_ONE_ONE)
    number.update(voice_url=PUBLIC + "/voice", voice_fallback_url=PUBLIC + "/voice/fallback",
                  status_callback=PUBLIC + "/voice/status", sms_url=PUBLIC + "/sms",
                  voice_method="GET", voice_application_sid="AP" + "1" * 32)
    result = run("--apply")
    assert result.exit_code == 0, result.output
    assert (f"{THREE_ONE_ONE} (311): 2 changes\n    voice_method: GET -> POST\n"
            f"    voice_application_sid: AP{'1' * 32} -> (none)\n") in result.output
    assert posts(account)[0] == (f"{NUMBERS}/{number['sid']}.json",
                                 {"VoiceMethod": "POST", "VoiceApplicationSid": ""})
    assert len(posts(account)) == 2  # and the ten-digit number's four webhooks


@pytest.mark.parametrize("base", ["", "http://311.example.gov"])
def test_apply_refuses_without_an_https_public_base_url(account, monkeypatch, base):
    monkeypatch.setenv("PUBLIC_BASE_URL", base)
    result = run("--apply")
    assert result.exit_code == 1
    assert "PUBLIC_BASE_URL" in result.output and "https" in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert account.requests == []


def test_listing_without_a_public_base_url_plans_nothing(account, monkeypatch):
    monkeypatch.setenv("PUBLIC_BASE_URL", "")
    result = run()
    assert result.exit_code == 0, result.output
    assert "PUBLIC_BASE_URL is not set: no changes planned" in result.output
    assert THREE_ONE_ONE in result.output and posts(account) == []


def test_a_twilio_error_is_a_clean_message(account):
    account.status = 401
    account.error_body = {"code": 20003, "message": "Authenticate", "status": 401,
                          "more_info": "https://www.twilio.com/docs/errors/20003"}
    result = run("--apply")
    assert result.exit_code == 1
    assert "Error: Twilio refused the request: HTTP 401, error 20003" in result.output
    assert "Authenticate" in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert posts(account) == []


def test_an_update_twilio_refuses_stops_with_a_clean_message(account):
    number = next(n for n in account.numbers if n["phone_number"] == THREE_ONE_ONE)
    number["sid"] = "PN" + "Z" * 32  # not a SID the stand-in serves: the update is answered 404
    result = run("--apply")
    assert result.exit_code == 1
    assert "Error: Twilio refused the request: HTTP 404, error 20404" in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert posts(account) == [(f"{NUMBERS}/{number['sid']}.json", WEBHOOKS)]  # it stopped at the first


def test_a_city_number_missing_from_the_account_is_a_warning(account):
    account.numbers = [n for n in account.numbers if n["phone_number"] != TEN_DIGIT]
    result = run("--apply")
    assert result.exit_code == 0, result.output
    assert f"warning: {TEN_DIGIT} (ten-digit, config/numbers.toml) is not in this account" in result.output
    assert [path for path, _form in posts(account)] == [f"{NUMBERS}/{sid_of(account, THREE_ONE_ONE)}.json"]


def test_unreachable_api_is_a_clean_message(account, monkeypatch):
    monkeypatch.setenv("TWILIO_API_BASE", "http://127.0.0.1:9")  # the discard port: nothing listens
    result = run()
    assert result.exit_code == 1
    assert "could not reach Twilio's API" in result.output
    assert "Traceback" not in result.output


def test_without_credentials_it_says_which_are_needed(account, monkeypatch):
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    result = run()
    assert result.exit_code == 1
    assert "set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN" in result.output
    assert account.requests == []


def test_none_of_the_city_numbers_in_the_account(account):
    account.numbers = [n for n in account.numbers if n["phone_number"] == OTHER]
    result = run("--apply")
    assert result.exit_code == 1
    assert "none of the city's numbers (config/numbers.toml) is in this account" in result.output
    assert posts(account) == []


def test_ivr_help_lists_the_command():
    result = CliRunner().invoke(main, ["--help"])
    assert "twilio" in result.output
