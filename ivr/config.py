"""Settings: built-in defaults < config/*.toml < the file named by IVR_CONFIG < environment variables."""

from __future__ import annotations

import copy
import os
import tomllib
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_DIR = PROJECT_ROOT / "config"

# Secrets never come from files: a config file is easy to commit by mistake.
SECRET_ENV_VARS = ("TWILIO_AUTH_TOKEN", "SECRET_KEY", "DATABASE_URL", "TWILIO_ACCOUNT_SID", "IVR_OPEN311_API_KEYS")

# Environment variables with a name of their own, mapped to a (section, key) in the settings.
NAMED_ENV_VARS: dict[str, tuple[str, str]] = {
    "PUBLIC_BASE_URL": ("web", "public_base_url"),
    "IVR_PROXY_HOPS": ("web", "proxy_hops"),
    "IVR_REPRESENTATIVE_MODE": ("representative", "mode"),
    "IVR_CALL_CENTER_NUMBER": ("representative", "call_center_number"),
    "IVR_SMS_FROM": ("sms", "from_number"),
    "TWILIO_API_BASE": ("sms", "api_base"),
}


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the file and key."""


def merge_tables(base: dict, override: dict) -> dict:
    """Merge override into a copy of base, table by table."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_tables(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _read_toml(path: Path) -> dict:
    """Parse one TOML file, naming it in any error."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from exc


def _coerce(raw: str, current: Any) -> Any:
    """Turn an environment string into the type of the value it replaces."""
    if isinstance(current, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(current, int):
        return int(raw)
    if isinstance(current, float):
        return float(raw)
    if isinstance(current, list):
        return [item.strip() for item in raw.split(",") if item.strip()]
    return raw


def _apply_env(settings: dict, environ: dict[str, str]) -> dict:
    """Apply named variables and the generic IVR_<SECTION>__<KEY> form."""
    for var, (section, key) in NAMED_ENV_VARS.items():
        if environ.get(var):
            table = settings.setdefault(section, {})
            try:
                table[key] = _coerce(environ[var], table.get(key))
            except ValueError as exc:
                raise ConfigError(f"environment {var}={environ[var]!r}: {exc}") from exc
    for var, raw in environ.items():
        if not var.startswith("IVR_") or "__" not in var:
            continue
        section, _, key = var[4:].lower().partition("__")
        table = settings.setdefault(section, {})
        try:
            table[key] = _coerce(raw, table.get(key))
        except ValueError as exc:
            raise ConfigError(f"environment {var}={raw!r}: {exc}") from exc
    return settings


def load_settings(config_dir: Path | None = None, environ: dict[str, str] | None = None) -> dict:
    """Return the merged settings tables (not secrets) for the app."""
    environ = dict(os.environ if environ is None else environ)
    config_dir = Path(config_dir or environ.get("IVR_CONFIG_DIR") or DEFAULT_CONFIG_DIR)
    settings: dict = {}
    for path in sorted(config_dir.glob("*.toml")):
        # Each file is one table: config/hours.toml becomes settings["hours"].
        settings = merge_tables(settings, {path.stem: _read_toml(path)})
    if environ.get("IVR_CONFIG"):
        settings = merge_tables(settings, _read_toml(Path(environ["IVR_CONFIG"])))
    return _apply_env(settings, environ)


def secrets_from_env(environ: dict[str, str] | None = None) -> dict[str, str | None]:
    """Read the secret settings from the environment only."""
    environ = os.environ if environ is None else environ
    return {name: environ.get(name) or None for name in SECRET_ENV_VARS}


def require(settings: dict, section: str, key: str) -> Any:
    """Fetch a required setting or fail naming it."""
    try:
        return settings[section][key]
    except KeyError:
        raise ConfigError(f"config/{section}.toml: missing key {key!r}") from None
