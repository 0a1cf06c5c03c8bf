"""Settings (ivr/settings.py): config/*.toml < IVR_CONFIG file < environment, typed and checked once."""

from __future__ import annotations

import dataclasses
import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from twilio.request_validator import RequestValidator

import ivr
import ivr.app
from ivr import create_app
from ivr.cases import sync_config
from ivr.db import Database, upgrade
from ivr.models import Call
from ivr.settings import (
    DEFAULT_CONFIG_DIR,
    NAMED_ENV_VARS,
    PROJECT_ROOT,
    ConfigError,
    Secrets,
    Settings,
    load,
)
from ivr.simulator import Simulator, WsgiTransport
from ivr.sms import send_sms
from tests.conftest import AUTH_TOKEN

SECRET_VARS = ("TWILIO_AUTH_TOKEN", "TWILIO_ACCOUNT_SID", "SECRET_KEY", "DATABASE_URL", "METRICS_TOKEN")


@pytest.fixture
def config_dir(tmp_path):
    """A copy of the shipped config/ to change."""
    return Path(shutil.copytree(DEFAULT_CONFIG_DIR, tmp_path / "config"))


def edit(path: Path, old: str, new: str) -> None:
    """Replace one piece of a config file (it must be there)."""
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


# ---- the shape -----------------------------------------------------------------------------------

def test_the_shipped_config_loads_into_frozen_typed_settings():
    settings = load(environ={})
    assert isinstance(settings, Settings)
    assert settings.speech.timeout == 8 and settings.speech.max_attempts == 3
    assert settings.routing.representative.mode == "enqueue"
    assert settings.routing.representative.queue_es == "hartford311-es"
    assert settings.numbers.ten_digit == "+18607579311"
    assert settings.service_type("no_heat").requires_contact is True
    assert settings.service_type("no_heat").sla_hours == 24 and settings.service_type("no_heat").sla_days is None
    assert settings.department("dpw").name("es") == "Obras Públicas"
    assert settings.sms.enabled is False and settings.sms.timeout == 5.0
    assert settings.schedule.is_business_day(date(2026, 12, 1))
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.speech.timeout = 1  # type: ignore[misc]


def test_no_python_default_for_any_setting():
    """Every default lives in config/*.toml: no field of a settings dataclass has one."""
    shapes = [obj for name, obj in vars(ivr.settings).items()
              if dataclasses.is_dataclass(obj) and isinstance(obj, type) and not name.startswith("_")]
    assert Settings in shapes and len(shapes) >= 10
    for shape in shapes:
        for spec in dataclasses.fields(shape):
            assert spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING, \
                f"{shape.__name__}.{spec.name} has a Python default"


# ---- layering ------------------------------------------------------------------------------------

def test_ivr_config_file_overrides_the_directory_key_by_key(config_dir, tmp_path):
    override = tmp_path / "deploy.toml"
    override.write_text('[speech]\ntimeout = 12\n[routing.representative]\nqueue_en = "q-file"\n')
    settings = load(config_dir, environ={"IVR_CONFIG": str(override)})
    assert settings.speech.timeout == 12
    assert settings.speech.max_attempts == 3  # untouched keys of the same table stay
    assert settings.routing.representative.queue_en == "q-file"
    assert settings.routing.representative.queue_es == "hartford311-es"


def test_full_precedence_chain(config_dir, tmp_path):
    """Same key at every level: directory < file < environment."""
    override = tmp_path / "deploy.toml"
    override.write_text("[speech]\ntimeout = 12\n")
    assert load(config_dir, environ={}).speech.timeout == 8
    assert load(config_dir, environ={"IVR_CONFIG": str(override)}).speech.timeout == 12
    both = {"IVR_CONFIG": str(override), "IVR_SPEECH__TIMEOUT": "30"}
    assert load(config_dir, environ=both).speech.timeout == 30


@pytest.mark.parametrize(("var", "raw", "read", "value"), [
    ("IVR_SPEECH__MAX_ATTEMPTS", "5", lambda s: s.speech.max_attempts, 5),
    ("IVR_SMS__ENABLED", "yes", lambda s: s.sms.enabled, True),
    ("IVR_SMS__ENABLED", "off", lambda s: s.sms.enabled, False),
    ("IVR_SMS__TIMEOUT", "2.5", lambda s: s.sms.timeout, 2.5),
    ("IVR_ROUTING__REPRESENTATIVE__QUEUE_ES", "cola", lambda s: s.routing.representative.queue_es, "cola"),
    ("IVR_ROUTING__ANNOUNCEMENT__ES", "Aviso", lambda s: s.routing.announcement["es"], "Aviso"),
    ("IVR_HOURS__WEEKLY__FRI", "09:00, 12:00,", lambda s: s.hours.weekly["fri"], ("09:00", "12:00")),
    ("IVR_HOURS__HOLIDAYS__EXTRA_CLOSED", "2026-12-24,2026-12-31",
     lambda s: s.hours.holidays.extra_closed, (date(2026, 12, 24), date(2026, 12, 31))),
    ("IVR_PROXY_HOPS", "2", lambda s: s.web.proxy_hops, 2),
    ("IVR_REPRESENTATIVE_MODE", "dial", lambda s: s.routing.representative.mode, "dial"),
])
def test_environment_values_take_the_settings_type(config_dir, var, raw, read, value):
    assert read(load(config_dir, environ={var: raw})) == value


def test_variables_that_are_not_settings_are_ignored(config_dir):
    environ = {"IVR_CONFIG_DIR": "/nowhere", "IVR_TEST_DATABASE_URL": "x", "IVR_VENV": "/v", "HOME": "/root"}
    assert load(config_dir, environ=environ) == load(config_dir, environ={})


def test_config_dir_from_the_environment(config_dir):
    edit(config_dir / "web.toml", 'public_base_url = ""', 'public_base_url = "https://dir.example.gov"')
    assert load(environ={"IVR_CONFIG_DIR": str(config_dir)}).web.public_base_url == "https://dir.example.gov"


# ---- errors name the file (or variable) and the key ------------------------------------------------

@pytest.mark.parametrize(("change", "message"), [
    (lambda d: edit(d / "speech.toml", "timeout = 8", "timeout = 8\ntimout = 9"),
     "config/speech.toml: unknown key 'timout'"),
    (lambda d: (d / "telephony.toml").write_text("x = 1\n"), "config/telephony.toml: unknown table 'telephony'"),
    (lambda d: edit(d / "speech.toml", "timeout = 8", ""), "config/speech.toml: timeout: missing key"),
    (lambda d: edit(d / "speech.toml", "timeout = 8", 'timeout = "soon"'),
     "config/speech.toml: timeout: expected int, got 'soon'"),
    (lambda d: edit(d / "routing.toml", 'mode = "enqueue"', 'mode = "carrier-pigeon"'),
     "config/routing.toml: representative.mode: expected one of enqueue, dial, got 'carrier-pigeon'"),
    (lambda d: edit(d / "departments.toml", 'code = "dpw"', 'code = "dpw"\nemail = "x@y"'),
     "config/departments.toml: department[0].email: unknown key"),
    (lambda d: edit(d / "service_types.toml", 'department = "dpw"', 'department = "nasa"'),
     "config/service_types.toml: service_type[0] (missed_trash): unknown department 'nasa'"),
    (lambda d: edit(d / "service_types.toml", "sla_days = 2", "sla_days = 2\nsla_hours = 4"),
     "config/service_types.toml: service_type[0]: give exactly one of sla_days or sla_hours"),
    (lambda d: edit(d / "service_types.toml", 'code = "pothole"', 'code = "missed_trash"'),
     "config/service_types.toml: code 'missed_trash' is used twice"),
    (lambda d: edit(d / "routing.toml", 'es = ""', 'fr = ""'),
     "config/routing.toml: announcement: needs exactly the languages en, es"),
    (lambda d: edit(d / "hours.toml", 'fri = ["08:00", "17:00"]', 'fri = ["17:00", "08:00"]'),
     "config/hours.toml: weekly.fri: close 08:00 must be after open 17:00"),
    (lambda d: (d / "web.toml").unlink(), "config/web.toml: missing"),
    (lambda d: (d / "hours.toml").write_text("[weekly\n"), "hours.toml"),
])
def test_a_bad_config_file_is_named_with_its_key(config_dir, change, message):
    change(config_dir)
    with pytest.raises(ConfigError) as caught:
        load(config_dir, environ={})
    assert message in str(caught.value)


def test_an_unknown_key_in_the_ivr_config_file_names_that_file(config_dir, tmp_path):
    override = tmp_path / "deploy.toml"
    override.write_text("[routing.representative]\nqueue = 'q'\n")
    with pytest.raises(ConfigError, match=re.escape(f"{override}: unknown key 'representative.queue'")):
        load(config_dir, environ={"IVR_CONFIG": str(override)})


def test_a_wrong_type_from_the_ivr_config_file_names_that_file(config_dir, tmp_path):
    override = tmp_path / "deploy.toml"
    override.write_text("[web]\nproxy_hops = 'two'\n")
    with pytest.raises(ConfigError, match=re.escape(f"{override}: proxy_hops: expected int, got 'two'")):
        load(config_dir, environ={"IVR_CONFIG": str(override)})


@pytest.mark.parametrize(("environ", "message"), [
    ({"IVR_SPEECH__TIMEOUT": "soon"}, "environment IVR_SPEECH__TIMEOUT='soon'"),
    ({"IVR_PROXY_HOPS": "two"}, "environment IVR_PROXY_HOPS='two'"),
    ({"IVR_SMS__ENABLED": "maybe"}, "environment IVR_SMS__ENABLED='maybe': expected true or false"),
    ({"IVR_SPEECH__TIMOUT": "9"}, "environment IVR_SPEECH__TIMOUT: unknown key 'timout'"),
    ({"IVR_TELEPHONY__X": "9"}, "environment IVR_TELEPHONY__X: unknown key 'x'"),
    ({"IVR_REPRESENTATIVE_MODE": "fax"}, "environment IVR_REPRESENTATIVE_MODE: representative.mode: expected one of"),
])
def test_a_bad_environment_variable_is_named(config_dir, environ, message):
    with pytest.raises(ConfigError) as caught:
        load(config_dir, environ=environ)
    assert message in str(caught.value)


def test_a_missing_ivr_config_file_is_named(config_dir, tmp_path):
    with pytest.raises(ConfigError, match=r"missing\.toml: cannot read"):
        load(config_dir, environ={"IVR_CONFIG": str(tmp_path / "missing.toml")})


# ---- secrets -------------------------------------------------------------------------------------

def test_secrets_come_from_the_environment_and_never_show():
    secrets = Secrets.from_env({"TWILIO_AUTH_TOKEN": "s3cr3t-t0k", "DATABASE_URL": "postgresql://db", "SECRET_KEY": ""})
    assert secrets.twilio_auth_token == "s3cr3t-t0k" and secrets.database_url == "postgresql://db"
    assert secrets.secret_key is None  # empty means unset
    assert "s3cr3t" not in repr(secrets) and "postgresql" not in repr(secrets)


def test_secrets_in_config_files_are_refused(config_dir, tmp_path):
    """A secret written into a file is an unknown key: start-up stops instead of quietly using or ignoring it."""
    with (config_dir / "web.toml").open("a") as handle:
        handle.write('TWILIO_AUTH_TOKEN = "from-a-file"\n')
    with pytest.raises(ConfigError, match="config/web.toml: unknown key 'TWILIO_AUTH_TOKEN'"):
        load(config_dir, environ={})


# ---- every environment variable the README lists, by what it changes ---------------------------

@pytest.fixture
def clean_env(monkeypatch):
    """No secrets or settings from the developer's own environment."""
    for name in (*SECRET_VARS, *NAMED_ENV_VARS, "IVR_CONFIG", "IVR_CONFIG_DIR"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def line_from_env(clean_env, tmp_path, clock):
    """Build the app purely from environment variables, on its own migrated and synced SQLite database."""

    def build(environ: dict[str, str]):
        environ = {"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "DATABASE_URL": f"sqlite:///{tmp_path / 'env.db'}", **environ}
        for name, value in environ.items():
            clean_env.setenv(name, value)
        upgrade(environ["DATABASE_URL"])
        database = Database(environ["DATABASE_URL"])
        with database.session() as session:
            sync_config(session, load())
        database.dispose()
        return create_app({"TESTING": True, "CLOCK": clock})

    return build


def call(app, token: str = AUTH_TOKEN, base: str = "http://localhost", public_host: bool = True):
    """Dial the line through the app's test client."""
    numbers = app.extensions["ivr"].settings.numbers
    sim = Simulator(WsgiTransport(app.test_client(), public_host=public_host), token, public_base_url=base,
                    to=numbers.three_one_one)
    return sim.dial()


def greeted(phone_call) -> bool:
    """True if the caller heard the greeting (the request was accepted)."""
    return any("City of Hartford 311" in text for text in phone_call.heard())


def check_auth_token(line, tmp_path, stand_in):
    app = line({"TWILIO_AUTH_TOKEN": "token-from-env"})
    assert greeted(call(app, token="token-from-env"))
    refused = call(app, token=AUTH_TOKEN)
    assert refused.application_error and refused.requests[0].status == 403


def check_sms_credentials(line, tmp_path, stand_in):
    account = "AC" + "e" * 32
    app = line({"TWILIO_ACCOUNT_SID": account, "IVR_SMS_FROM": "+18605550999", "IVR_SMS__ENABLED": "true",
                "TWILIO_API_BASE": stand_in.url})
    assert send_sms(app.extensions["ivr"].line.sms, "+18605551234", "Case 1000 0012") is not None
    [sent] = stand_in.requests
    assert sent["path"] == f"/2010-04-01/Accounts/{account}/Messages.json"
    assert sent["form"]["From"] == "+18605550999"


def check_secret_key(line, tmp_path, stand_in):
    assert line({"SECRET_KEY": "key-from-env"}).secret_key == "key-from-env"


def check_metrics_token(line, tmp_path, stand_in):
    client = line({"METRICS_TOKEN": "scraper-token"}).test_client()
    assert client.get("/metrics", headers={"Authorization": "Bearer other"}).status_code == 401
    answer = client.get("/metrics", headers={"Authorization": "Bearer scraper-token"})
    assert answer.status_code == 200 and b"ivr_turn_seconds" in answer.data


def check_database_url(line, tmp_path, stand_in):
    url = f"sqlite:///{tmp_path / 'chosen.db'}"
    app = line({"DATABASE_URL": url})
    call(app)
    database = Database(url)
    with database.session() as session:
        assert session.query(Call).count() == 1
    database.dispose()


def enqueued_queue(app, *keys: str) -> str:
    """Press keys from the greeting on and return what the caller was queued or dialled to."""
    phone_call = call(app)
    for key in keys:
        phone_call.press(key)
    return [line.text for line in phone_call.transcript if line.kind in ("enqueue", "dial")][-1]


def check_ivr_config(line, tmp_path, stand_in):
    override = tmp_path / "deploy.toml"
    override.write_text('[routing.representative]\nqueue_en = "queue-from-file"\n')
    assert "queue-from-file" in enqueued_queue(line({"IVR_CONFIG": str(override)}), "1", "0")


def check_ivr_config_dir(line, tmp_path, stand_in):
    config = Path(shutil.copytree(DEFAULT_CONFIG_DIR, tmp_path / "config"))
    edit(config / "routing.toml", 'queue_en = "hartford311-en"', 'queue_en = "queue-from-dir"')
    assert "queue-from-dir" in enqueued_queue(line({"IVR_CONFIG_DIR": str(config)}), "1", "0")


def check_public_base_url(line, tmp_path, stand_in):
    app = line({"PUBLIC_BASE_URL": "https://311.example.gov"})
    # The app is reached as http://localhost (TLS ended at a proxy) but Twilio signed the public URL.
    assert greeted(call(app, base="https://311.example.gov", public_host=False))


def check_proxy_hops(line, tmp_path, stand_in):
    app = line({"IVR_PROXY_HOPS": "1"})
    params = {"CallSid": "CA" + "1" * 32, "From": "+18605550123", "To": "+18605550311"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature("https://311.example.gov/voice", params)
    headers = {"X-Twilio-Signature": signature, "X-Forwarded-Proto": "https", "X-Forwarded-Host": "311.example.gov"}
    answer = app.test_client().post("/voice", data=params, headers=headers)
    assert answer.status_code == 200 and "City of Hartford 311" in answer.get_data(as_text=True)


def check_representative_dial(line, tmp_path, stand_in):
    app = line({"IVR_REPRESENTATIVE_MODE": "dial", "IVR_CALL_CENTER_NUMBER": "+18605550177"})
    assert "+18605550177" in enqueued_queue(app, "1", "0")


def check_generic_form(line, tmp_path, stand_in):
    app = line({"IVR_SPEECH__TIMEOUT": "11", "IVR_ROUTING__REPRESENTATIVE__QUEUE_ES": "cola-de-prueba"})
    phone_call = call(app)
    phone_call.press("2")
    assert 'timeout="11"' in phone_call.requests[-1].body
    phone_call.press("0")
    assert "cola-de-prueba" in [line.text for line in phone_call.transcript if line.kind == "enqueue"][-1]


def check_procfile(line, tmp_path, stand_in):
    web = next(row for row in (PROJECT_ROOT / "Procfile").read_text().splitlines() if row.startswith("web:"))
    assert "${PORT:-5000}" in web and "${WEB_CONCURRENCY:-2}" in web


ENV_CHECKS = {
    "TWILIO_AUTH_TOKEN": check_auth_token,
    "TWILIO_ACCOUNT_SID": check_sms_credentials,
    "SECRET_KEY": check_secret_key,
    "METRICS_TOKEN": check_metrics_token,
    "DATABASE_URL": check_database_url,
    "IVR_CONFIG": check_ivr_config,
    "IVR_CONFIG_DIR": check_ivr_config_dir,
    "PUBLIC_BASE_URL": check_public_base_url,
    "IVR_PROXY_HOPS": check_proxy_hops,
    "IVR_REPRESENTATIVE_MODE": check_representative_dial,
    "IVR_CALL_CENTER_NUMBER": check_representative_dial,
    "IVR_SMS_FROM": check_sms_credentials,
    "TWILIO_API_BASE": check_sms_credentials,
    "IVR_<TABLE>__<KEY>": check_generic_form,
    "PORT": check_procfile,
    "WEB_CONCURRENCY": check_procfile,
}
# Read by tests/conftest.py only: CI runs the whole suite with it set, which is its test.
NOT_READ_BY_THE_APP = {"IVR_TEST_DATABASE_URL"}


def readme_variables() -> set[str]:
    """The variables in the README's configuration table."""
    text = (PROJECT_ROOT / "README.md").read_text()
    return set(re.findall(r"^\| `([A-Z_<>]+)`", text, flags=re.MULTILINE)) | {
        name for row in re.findall(r"^\| (`[A-Z_]+`(?:, `[A-Z_]+`)+)", text, flags=re.MULTILINE)
        for name in re.findall(r"`([A-Z_]+)`", row)}


def test_every_readme_variable_has_a_check():
    assert readme_variables() == set(ENV_CHECKS) | NOT_READ_BY_THE_APP


@pytest.mark.parametrize("variable", sorted(ENV_CHECKS))
def test_each_readme_variable_changes_what_it_says(variable, line_from_env, tmp_path, twilio_stand_in):
    ENV_CHECKS[variable](line_from_env, tmp_path, twilio_stand_in)


# ---- the app refuses what it cannot run ---------------------------------------------------------

def test_without_an_auth_token_the_app_refuses_to_start(clean_env, tmp_path):
    with pytest.raises(ConfigError, match="^TWILIO_AUTH_TOKEN is not set"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})


def test_tools_that_never_answer_calls_may_start_without_a_token(clean_env, tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "REQUIRE_AUTH_TOKEN": False})
    assert app.config["TWILIO_AUTH_TOKEN"] is None


def test_the_default_database_is_sqlite_in_the_instance_folder(clean_env, tmp_path):
    clean_env.setattr(ivr.app, "PROJECT_ROOT", tmp_path)
    app = create_app({"TESTING": True, "FLOWS_DIR": PROJECT_ROOT / "flows", "PROMPTS_DIR": PROJECT_ROOT / "prompts"})
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'instance' / 'ivr.db'}"
