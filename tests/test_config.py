"""Settings (ivr/config.py): config/*.toml < IVR_CONFIG file < environment; secrets from the environment only."""

import shutil

import pytest

import ivr
from ivr import create_app
from ivr.config import (
    DEFAULT_CONFIG_DIR,
    PROJECT_ROOT,
    SECRET_ENV_VARS,
    ConfigError,
    load_settings,
    require,
    secrets_from_env,
)


@pytest.fixture
def config_dir(tmp_path):
    """A small config directory: one table per file."""
    root = tmp_path / "config"
    root.mkdir()
    (root / "web.toml").write_text('public_base_url = "https://dir.example.gov"\nproxy_hops = 0\n')
    (root / "speech.toml").write_text("max_attempts = 3\ntimeout = 8\nrelay = false\nratio = 0.5\n"
                                      "[emergency_words]\nen = ['fire']\n")
    (root / "routing.toml").write_text('[representative]\nmode = "enqueue"\nqueue_en = "q-dir"\nqueue_es = "q-es"\n')
    return root


@pytest.fixture
def override_file(tmp_path):
    """An IVR_CONFIG file: overrides some keys, table by table."""
    path = tmp_path / "deploy.toml"
    path.write_text('[speech]\ntimeout = 12\n[routing.representative]\nqueue_en = "q-file"\n'
                    '[web]\npublic_base_url = "https://file.example.gov"\n')
    return path


def test_files_in_the_config_directory_become_tables(config_dir):
    settings = load_settings(config_dir, environ={})
    assert settings["web"] == {"public_base_url": "https://dir.example.gov", "proxy_hops": 0}
    assert settings["routing"]["representative"]["queue_en"] == "q-dir"
    assert settings["speech"]["emergency_words"] == {"en": ["fire"]}


def test_ivr_config_file_overrides_the_directory_table_by_table(config_dir, override_file):
    settings = load_settings(config_dir, environ={"IVR_CONFIG": str(override_file)})
    assert settings["speech"]["timeout"] == 12
    assert settings["speech"]["max_attempts"] == 3  # untouched keys of the same table stay
    assert settings["routing"]["representative"] == {"mode": "enqueue", "queue_en": "q-file", "queue_es": "q-es"}
    assert settings["web"]["public_base_url"] == "https://file.example.gov"


def test_environment_overrides_the_file(config_dir, override_file):
    environ = {"IVR_CONFIG": str(override_file), "IVR_SPEECH__TIMEOUT": "20",
               "PUBLIC_BASE_URL": "https://env.example.gov"}
    settings = load_settings(config_dir, environ=environ)
    assert settings["speech"]["timeout"] == 20  # coerced to the type it replaces
    assert settings["web"]["public_base_url"] == "https://env.example.gov"


def test_full_precedence_chain(config_dir, override_file):
    """Same key at every level: directory < file < environment."""
    assert load_settings(config_dir, environ={})["speech"]["timeout"] == 8
    assert load_settings(config_dir, environ={"IVR_CONFIG": str(override_file)})["speech"]["timeout"] == 12
    both = {"IVR_CONFIG": str(override_file), "IVR_SPEECH__TIMEOUT": "30"}
    assert load_settings(config_dir, environ=both)["speech"]["timeout"] == 30


@pytest.mark.parametrize(("var", "raw", "section", "key", "value"), [
    ("IVR_SPEECH__MAX_ATTEMPTS", "5", "speech", "max_attempts", 5),
    ("IVR_SPEECH__RELAY", "yes", "speech", "relay", True),
    ("IVR_SPEECH__RELAY", "0", "speech", "relay", False),
    ("IVR_SPEECH__RATIO", "0.75", "speech", "ratio", 0.75),
    ("IVR_WEB__NEW_KEY", "hello", "web", "new_key", "hello"),
    ("IVR_NEWSECTION__KEY", "x", "newsection", "key", "x"),
    ("IVR_PROXY_HOPS", "2", "web", "proxy_hops", 2),
    ("IVR_REPRESENTATIVE_MODE", "dial", "representative", "mode", "dial"),
    ("IVR_CALL_CENTER_NUMBER", "+18605550199", "representative", "call_center_number", "+18605550199"),
])
def test_environment_variables_and_their_types(config_dir, var, raw, section, key, value):
    assert load_settings(config_dir, environ={var: raw})[section][key] == value


def test_environment_lists(tmp_path):
    (tmp_path / "holidays.toml").write_text("extra_closed = ['2026-12-24']\n")
    settings = load_settings(tmp_path, environ={"IVR_HOLIDAYS__EXTRA_CLOSED": "2026-12-24, 2026-12-31,"})
    assert settings["holidays"]["extra_closed"] == ["2026-12-24", "2026-12-31"]


def test_variables_that_are_not_settings_are_ignored(config_dir):
    environ = {"IVR_CONFIG_DIR": "/nowhere", "IVR_TEST_DATABASE_URL": "x", "HOME": "/root", "PATH": "/bin"}
    assert load_settings(config_dir, environ=environ) == load_settings(config_dir, environ={})


@pytest.mark.parametrize(("var", "raw"), [("IVR_SPEECH__TIMEOUT", "soon"), ("IVR_PROXY_HOPS", "two")])
def test_a_bad_environment_value_names_the_variable(config_dir, var, raw):
    with pytest.raises(ConfigError, match=f"environment {var}='{raw}'"):
        load_settings(config_dir, environ={var: raw})


def test_config_dir_from_the_environment(config_dir):
    assert load_settings(environ={"IVR_CONFIG_DIR": str(config_dir)})["web"]["public_base_url"] == \
        "https://dir.example.gov"


def test_default_config_dir_is_the_projects():
    assert DEFAULT_CONFIG_DIR == PROJECT_ROOT / "config"
    settings = load_settings(environ={})
    assert {"hours", "numbers", "routing", "speech", "web", "departments"} <= set(settings)


def test_a_malformed_file_is_named(config_dir):
    (config_dir / "hours.toml").write_text("[weekly\n")
    with pytest.raises(ConfigError, match=r"hours\.toml"):
        load_settings(config_dir, environ={})


def test_a_missing_ivr_config_file_is_named(config_dir, tmp_path):
    with pytest.raises(ConfigError, match=r"missing\.toml: cannot read"):
        load_settings(config_dir, environ={"IVR_CONFIG": str(tmp_path / "missing.toml")})


def test_require_names_the_missing_key():
    assert require({"web": {"a": 1}}, "web", "a") == 1
    with pytest.raises(ConfigError, match=r"config/web\.toml: missing key 'b'"):
        require({"web": {"a": 1}}, "web", "b")


# ---- secrets -------------------------------------------------------------------------------------

def test_secrets_come_from_the_environment():
    environ = {"TWILIO_AUTH_TOKEN": "tok", "DATABASE_URL": "postgresql://db", "SECRET_KEY": ""}
    secrets = secrets_from_env(environ)
    assert set(secrets) == set(SECRET_ENV_VARS)
    assert secrets["TWILIO_AUTH_TOKEN"] == "tok" and secrets["DATABASE_URL"] == "postgresql://db"
    assert secrets["SECRET_KEY"] is None  # empty means unset


@pytest.fixture
def clean_env(monkeypatch):
    """No secrets or settings from the developer's own environment."""
    for name in (*SECRET_ENV_VARS, "IVR_CONFIG", "IVR_CONFIG_DIR", "PUBLIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_secrets_in_config_files_are_ignored(clean_env, tmp_path):
    config = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, config)
    with (config / "web.toml").open("a") as handle:
        handle.write('TWILIO_AUTH_TOKEN = "from-a-file"\nDATABASE_URL = "postgresql://leak"\n')
    deploy = tmp_path / "deploy.toml"
    deploy.write_text('TWILIO_AUTH_TOKEN = "from-ivr-config"\nSECRET_KEY = "from-ivr-config"\n'
                      '[twilio]\nauth_token = "nested"\n')
    clean_env.setenv("IVR_CONFIG", str(deploy))
    clean_env.setattr(ivr, "PROJECT_ROOT", tmp_path)  # the default database goes to tmp_path/instance
    app = create_app({"TESTING": True, "CONFIG_DIR": config, "FLOWS_DIR": PROJECT_ROOT / "flows",
                      "PROMPTS_DIR": PROJECT_ROOT / "prompts"})
    assert app.config["TWILIO_AUTH_TOKEN"] is None
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'instance' / 'ivr.db'}"
    assert app.config["SECRET_KEY"] not in ("from-a-file", "from-ivr-config")


def test_secrets_from_the_environment_reach_the_app(clean_env, tmp_path):
    clean_env.setenv("TWILIO_AUTH_TOKEN", "env-token")
    clean_env.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    clean_env.setenv("SECRET_KEY", "env-secret")
    app = create_app({"TESTING": True})
    assert app.config["TWILIO_AUTH_TOKEN"] == "env-token"
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'env.db'}"
    assert app.config["SECRET_KEY"] == "env-secret"


def test_public_base_url_from_the_environment_reaches_the_app(clean_env, tmp_path):
    clean_env.setenv("PUBLIC_BASE_URL", "https://311.example.gov")
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert app.config["PUBLIC_BASE_URL"] == "https://311.example.gov"


def test_settings_overrides_merge_table_by_table(clean_env, tmp_path):
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
                      "SETTINGS": {"routing": {"representative": {"mode": "dial"}}}})
    representative = app.extensions["ivr"].settings["routing"]["representative"]
    assert representative["mode"] == "dial" and representative["queue_es"] == "hartford311-es"


def test_without_an_auth_token_the_app_refuses_to_start(clean_env, tmp_path):
    with pytest.raises(ConfigError) as caught:
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    message = str(caught.value)
    assert message.startswith("TWILIO_AUTH_TOKEN is not set")
    assert "auth token" in message


def test_with_an_auth_token_the_app_starts(clean_env, tmp_path):
    clean_env.setenv("TWILIO_AUTH_TOKEN", "real-token")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert not app.testing and app.config["TWILIO_AUTH_TOKEN"] == "real-token"


def test_tools_that_never_answer_calls_may_start_without_a_token(clean_env, tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "REQUIRE_AUTH_TOKEN": False})
    assert app.config["TWILIO_AUTH_TOKEN"] is None


def test_engine_settings_come_from_config(clean_env, tmp_path):
    clean_env.setenv("IVR_SPEECH__MAX_ATTEMPTS", "5")
    clean_env.setenv("IVR_SPEECH__TIMEOUT", "15")
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    engine_settings = app.extensions["ivr"].engine.settings
    assert (engine_settings.max_attempts, engine_settings.timeout) == (5, 15)
    assert "incendio" in engine_settings.emergency_words and "fire" in engine_settings.emergency_words
