"""Typed settings, parsed once: config/*.toml < the IVR_CONFIG file < environment variables.

Every default lives in config/*.toml; Python only describes the shape. An unknown table or key, a missing key
or a value of the wrong type stops start-up with the file (or variable) and the key named.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from .core.prompts import LANGUAGES
from .core.schedule import Schedule

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_DIR = PROJECT_ROOT / "config"
ENV_PREFIX = "IVR_"
ENV_NESTING = "__"
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")
TWILIO_WEBHOOK_SECONDS = 15  # Twilio hangs up on a webhook (and tries the fallback URL) after this


class ConfigError(ValueError):
    """A setting is missing, unknown or malformed; the message names the file (or variable) and key."""


# ---- the shape of the settings ------------------------------------------------------------------

@dataclass(frozen=True)
class SpeechSettings:
    """How the line listens: attempts and silence timeouts (emergencies are recognised in ivr/core/emergency.py)."""

    max_attempts: int
    max_failures_per_call: int
    timeout: int
    speech_timeout: str


@dataclass(frozen=True)
class HolidaySettings:
    """Which days the city closes besides weekends."""

    country: str
    subdiv: str
    day_after_thanksgiving: bool
    extra_closed: tuple[date, ...]


@dataclass(frozen=True)
class HoursSettings:
    """When representatives answer, in local time."""

    timezone: str
    weekly: Mapping[str, tuple[str, ...]]
    holidays: HolidaySettings


@dataclass(frozen=True)
class RepresentativeSettings:
    """Where callers wait for a person."""

    mode: Literal["enqueue", "dial"]
    queue_en: str
    queue_es: str
    workflow_sid: str
    call_center_number: str
    call_center_number_es: str
    dial_timeout: int
    hold_music_url: str


DTMF_KEYS = frozenset("0123456789*#w")  # what SendDigits may hold (w: half a second's wait)
REST_REQUESTS_PER_TURN = 3  # the interpretation turn: the representative, the interpreter, and undoing the first


@dataclass(frozen=True)
class InterpretationSettings:
    """The three-way call with a telephone interpreter: who is dialled into the conference, and the DTMF sent."""

    number: str
    send_digits: str
    dial_timeout: int
    representative_number: str  # empty = [representative] call_center_number
    api_timeout: float  # seconds per REST request while the caller waits for the turn
    language_codes: Mapping[str, str]  # a language the caller named -> the service's code for it, sent as DTMF

    def __post_init__(self) -> None:
        for name, digits in (("send_digits", self.send_digits), *self.language_codes.items()):
            if set(digits) - DTMF_KEYS:
                raise ValueError(f"{name}: {digits!r} holds characters a phone cannot send (0-9, *, #, w)")
        # Twilio gives up on a webhook after 15 s: every REST request of the turn must fit, with room to answer.
        if not 0 < self.api_timeout * REST_REQUESTS_PER_TURN < TWILIO_WEBHOOK_SECONDS - 2:
            raise ValueError(f"api_timeout: {REST_REQUESTS_PER_TURN} requests of {self.api_timeout} s must end "
                             f"well within Twilio's {TWILIO_WEBHOOK_SECONDS} s for a webhook")


@dataclass(frozen=True)
class TransferSettings:
    """Transfers to departments."""

    dial_timeout: int


@dataclass(frozen=True)
class WaitingSettings:
    """What callers in line for a representative hear, and when they are offered a call-back instead."""

    offer_call_back: bool
    call_back_after_minutes: int
    seconds_per_caller: int
    hold_music_loops: int


@dataclass(frozen=True)
class RoutingSettings:
    """Where callers are sent, and what the information menu announces."""

    representative: RepresentativeSettings
    interpretation: InterpretationSettings
    transfer: TransferSettings
    announcement: Mapping[str, str]
    waiting: WaitingSettings


@dataclass(frozen=True)
class NumbersSettings:
    """The city's Twilio numbers (each call records which one was dialled) and how the ten-digit one is read."""

    ten_digit: str
    three_one_one: str
    ten_digit_spoken: Mapping[str, str]


class _NamedInBothLanguages:
    """Rows with name_en and name_es."""

    name_en: str
    name_es: str

    def name(self, lang: str) -> str:
        """The name in a language."""
        return self.name_es if lang == "es" else self.name_en


@dataclass(frozen=True)
class DepartmentSettings(_NamedInBothLanguages):
    """A department: it owns cases and may be in the phone directory (key) with a transfer number."""

    code: str
    key: str
    name_en: str
    name_es: str
    keywords_en: tuple[str, ...]  # what a caller says at the department menu to choose it
    keywords_es: tuple[str, ...]
    phone: str
    line_en: str | None  # what the directory and a transfer call its number, when not the department's name
    line_es: str | None

    def line(self, lang: str) -> str:
        """'the Police non-emergency line': the number a caller is put through to, as a sentence says it."""
        return (self.line_es if lang == "es" else self.line_en) or self.name(lang)


@dataclass(frozen=True)
class ServiceTypeSettings(_NamedInBothLanguages):
    """Something callers can report, the words they say it with, who handles it, how fast, what is asked."""

    code: str
    key: str
    name_en: str
    name_es: str
    spoken_en: str  # as a sentence says it, with its article: "a pothole", "un bache"
    spoken_es: str
    description_en: str
    keywords_en: tuple[str, ...]
    keywords_es: tuple[str, ...]
    phrases_en: tuple[str, ...]  # how residents say it: "my trash wasn't picked up"
    phrases_es: tuple[str, ...]
    department: str
    requires_contact: bool
    sla_days: int | None
    sla_hours: int | None
    location_kind: Literal["problem", "pickup"]  # ask where the problem is, or where to pick the items up
    fallback: bool  # the type a report is filed under, in the caller's words, when no type was named

    def __post_init__(self) -> None:
        if (self.sla_days is None) == (self.sla_hours is None):
            raise ValueError("give exactly one of sla_days or sla_hours")
        if (self.sla_days or self.sla_hours or 0) < 1:
            raise ValueError("the SLA must be at least 1")
        for lang in LANGUAGES:
            # A type nobody can name in a language could only be reached by key, and some have no key.
            if not self.words(lang):
                raise ValueError(f"give keywords_{lang} or phrases_{lang}: callers must be able to say it")

    def spoken(self, lang: str) -> str:
        """The type as a sentence says it, with its article."""
        return self.spoken_es if lang == "es" else self.spoken_en

    def words(self, lang: str) -> tuple[str, ...]:
        """Every keyword and phrase that names the type in a language."""
        return (*self.keywords_es, *self.phrases_es) if lang == "es" else (*self.keywords_en, *self.phrases_en)


@dataclass(frozen=True)
class SmsConfig:
    """Case numbers by text message (the Twilio credentials are secrets, not settings)."""

    enabled: bool
    from_number: str
    timeout: float

    def __post_init__(self) -> None:
        _check_api_timeout(self.timeout)


@dataclass(frozen=True)
class TwilioSettings:
    """How the line reaches Twilio's REST API (the credentials are secrets, not settings)."""

    api_base: str  # empty = Twilio's own API; a stand-in's address in tests and staging
    timeout: float

    def __post_init__(self) -> None:
        _check_api_timeout(self.timeout)


def _check_api_timeout(timeout: float) -> None:
    """A time limit for Twilio's API must be positive and shorter than ten minutes."""
    if not 0 < timeout < 600:
        raise ValueError(f"timeout must be between 0 and 600 seconds, got {timeout}")


@dataclass(frozen=True)
class WebSettings:
    """How requests reach the app: the public URL Twilio signs, or how many proxies to trust."""

    public_base_url: str
    proxy_hops: int
    max_content_length: int    # bytes of request body, refused (413) before any parsing
    max_form_parts: int        # form fields, refused (413) before parsing
    max_form_memory_size: int  # bytes of one multipart text field
    log_format: str            # json (one object per line, for the city's log collector) or text

    def __post_init__(self) -> None:
        for name in ("max_content_length", "max_form_parts", "max_form_memory_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.log_format not in ("json", "text"):
            raise ValueError(f"log_format must be 'json' or 'text', got {self.log_format!r}")


@dataclass(frozen=True)
class DatabaseSettings:
    """How long a turn waits on the database, and how many connections a web worker keeps."""

    connect_timeout: int  # whole seconds: libpq's unit
    statement_timeout: float
    lock_timeout: float
    pool_timeout: float
    pool_size: int
    max_overflow: int
    sqlite_busy_timeout: float
    closure_cache_seconds: float
    max_turns_per_call: int
    watchdog_seconds: float

    def __post_init__(self) -> None:
        # libpq rounds a connect timeout below 2 seconds up to 2; saying 1 would promise what it does not do.
        if not 2 <= self.connect_timeout <= TWILIO_WEBHOOK_SECONDS // 2:
            raise ValueError(f"connect_timeout must be 2 to {TWILIO_WEBHOOK_SECONDS // 2} seconds")
        for name in ("statement_timeout", "lock_timeout", "pool_timeout", "sqlite_busy_timeout"):
            # Each wait alone must leave the turn time to answer the fallback before Twilio gives up.
            if not 0 < getattr(self, name) <= TWILIO_WEBHOOK_SECONDS / 2:
                raise ValueError(f"{name} must be above 0 and at most {TWILIO_WEBHOOK_SECONDS / 2} seconds")
        if not self.statement_timeout < self.watchdog_seconds <= TWILIO_WEBHOOK_SECONDS / 2:
            # Above statement_timeout: a live server cancels its own slow statement first, with a clear error.
            raise ValueError(f"watchdog_seconds must be above statement_timeout and at most "
                             f"{TWILIO_WEBHOOK_SECONDS / 2} seconds")
        if self.pool_size < 1 or self.max_overflow < 0:
            raise ValueError("pool_size must be at least 1 and max_overflow at least 0")


@dataclass(frozen=True)
class PrivacySettings:
    """How long personal details are kept (`ivr purge` removes them after that)."""

    keep_call_details_days: int  # callers' numbers, what they said and pressed; the call's statistics stay
    keep_closed_case_contacts_days: int  # a closed case's contact details and recording; the case stays

    def __post_init__(self) -> None:
        for name in ("keep_call_details_days", "keep_closed_case_contacts_days"):
            # 0 would purge a call while it is still being answered.
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")


@dataclass(frozen=True)
class StaffSettings:
    """The staff console: password length, lockout after failed sign-ins, session length, cookie security."""

    min_password_length: int
    lockout_after_failures: int
    lockout_minutes: int
    address_failures_per_window: int
    address_window_minutes: int
    session_hours: int
    secure_cookies: Literal["auto", "always", "never"]

    def __post_init__(self) -> None:
        for name in ("lockout_after_failures", "lockout_minutes", "address_failures_per_window",
                     "address_window_minutes", "session_hours"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.min_password_length < 8:
            raise ValueError(f"min_password_length must be at least 8, got {self.min_password_length}")


@dataclass(frozen=True)
class Open311AttributeSettings:
    """One question a service type asks Open311 clients beyond the location and description."""

    service_type: str  # the service type's code
    code: str
    datatype: Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
    required: bool
    order: int
    description: str
    datatype_description: str
    values: Mapping[str, str]  # key -> name, for the list datatypes; empty otherwise
    minimum: int | None  # numbers only
    maximum: int | None

    def __post_init__(self) -> None:
        listed = self.datatype in ("singlevaluelist", "multivaluelist")
        if listed != bool(self.values):
            raise ValueError(f"attribute {self.code!r}: values are for list datatypes, and lists need them")
        if self.order < 1:
            raise ValueError(f"attribute {self.code!r}: order must be at least 1")


@dataclass(frozen=True)
class Open311Settings:
    """The Open311 GeoReport v2 API: discovery texts, list limits, repeat window and attributes."""

    jurisdiction_id: str
    changeset: str  # sortable; change it when service types or attributes change, so clients refresh
    endpoint_type: Literal["production", "test"]
    contact: str
    key_service: str
    page_limit: int  # most requests one GET answers
    window_days: int  # the spec's default (and widest) date window
    repeat_window_seconds: int  # the same POST again within this time returns the first case
    attributes: tuple[Open311AttributeSettings, ...]  # [[attributes]] tables

    def __post_init__(self) -> None:
        for name in ("page_limit", "window_days", "repeat_window_seconds"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        for what in ("code", "order"):
            seen = [(a.service_type, getattr(a, what)) for a in self.attributes]
            twice = sorted({pair for pair in seen if seen.count(pair) > 1})
            if twice:
                raise ValueError(f"attributes: {twice[0][0]} has two attributes with {what} {twice[0][1]!r}")

    def attributes_of(self, service_type: str) -> tuple[Open311AttributeSettings, ...]:
        """A service type's attributes in their order."""
        return tuple(sorted((a for a in self.attributes if a.service_type == service_type), key=lambda a: a.order))


@dataclass(frozen=True)
class Settings:
    """Every setting of the line, one table per config file."""

    speech: SpeechSettings
    hours: HoursSettings
    routing: RoutingSettings
    numbers: NumbersSettings
    departments: tuple[DepartmentSettings, ...] = field(metadata={"array": "department"})
    service_types: tuple[ServiceTypeSettings, ...] = field(metadata={"array": "service_type"})
    sms: SmsConfig
    twilio: TwilioSettings
    web: WebSettings
    database: DatabaseSettings
    privacy: PrivacySettings
    staff: StaffSettings
    open311: Open311Settings
    languages: LanguageSettings
    recording: RecordingSettings
    # Built from `hours` once, so every worker answers "are we open" from the same parsed rules.
    schedule: Schedule = field(metadata={"derived": True}, compare=False)

    def department(self, code: str) -> DepartmentSettings | None:
        """A department by code."""
        return next((dept for dept in self.departments if dept.code == code), None)

    def service_type(self, code: str) -> ServiceTypeSettings | None:
        """A service type by code."""
        return next((st for st in self.service_types if st.code == code), None)


@dataclass(frozen=True)
class Secrets:
    """Values that never come from files: a config file is easy to commit by mistake."""

    twilio_auth_token: str | None
    twilio_account_sid: str | None
    secret_key: str | None
    database_url: str | None
    metrics_token: str | None  # bearer token for /metrics; unset, /metrics is off

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={'***' if getattr(self, f.name) else None}" for f in dataclasses.fields(self))
        return f"Secrets({shown})"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Secrets:
        """Read the secrets from the environment only."""
        environ = os.environ if environ is None else environ
        return cls(**{f.name: environ.get(f.name.upper()) or None for f in dataclasses.fields(cls)})


# Environment variables with a name of their own, and the setting each one sets.
NAMED_ENV_VARS: dict[str, tuple[str, ...]] = {
    "PUBLIC_BASE_URL": ("web", "public_base_url"),
    "IVR_PROXY_HOPS": ("web", "proxy_hops"),
    "IVR_REPRESENTATIVE_MODE": ("routing", "representative", "mode"),
    "IVR_CALL_CENTER_NUMBER": ("routing", "representative", "call_center_number"),
    "IVR_SMS_FROM": ("sms", "from_number"),
    "TWILIO_API_BASE": ("twilio", "api_base"),
}


# ---- reading the layers -------------------------------------------------------------------------

@dataclass
class _Layers:
    """Raw values merged layer by layer, remembering where each leaf came from."""

    values: dict = field(default_factory=dict)
    origins: dict[tuple[str, ...], str] = field(default_factory=dict)

    def add(self, path: tuple[str, ...], value: Any, origin: str) -> None:
        """Set one leaf (a table's arrays are leaves: a layer replaces them whole)."""
        _check_path(path, origin)
        table = self.values
        for part in path[:-1]:
            table = table.setdefault(part, {})
        table[path[-1]] = value
        self.origins[path] = origin

    def add_tables(self, tables: Mapping, origin: str, prefix: tuple[str, ...] = ()) -> None:
        """Merge nested tables leaf by leaf."""
        for key, value in tables.items():
            path = (*prefix, str(key))
            # An empty table is kept as one (a language table with no entries yet), not dropped as missing.
            if isinstance(value, Mapping) and value and not _is_leaf(path):
                self.add_tables(value, origin, path)
            else:
                self.add(path, value, origin)

    def origin(self, path: tuple[str, ...]) -> str:
        """Which file or variable gave `path`, or the config file where its default belongs."""
        for length in range(len(path), 0, -1):
            if path[:length] in self.origins:
                return self.origins[path[:length]]
        return f"config/{path[0]}.toml"


def _field_type(cls: type, name: str) -> Any:
    """The resolved annotation of one dataclass field."""
    return get_type_hints(cls)[name]


def _schema_at(path: tuple[str, ...]) -> Any:
    """The type a settings path leads to, or None if there is no such setting."""
    current: Any = Settings
    for part in path:
        current = _strip_optional(current)
        if dataclasses.is_dataclass(current):
            fields = {f.name: f for f in dataclasses.fields(current) if not f.metadata.get("derived")}
            if part not in fields:
                return None
            array = fields[part].metadata.get("array")
            current = _field_type(current, part)
            if array:
                current = {array: current}
        elif isinstance(current, dict):  # an array-of-tables file: {"department": tuple[...]}
            current = current.get(part)
        elif get_origin(current) is Mapping:
            current = get_args(current)[1]
        else:
            return None
        if current is None:
            return None
    return current


def _is_leaf(path: tuple[str, ...]) -> bool:
    """True where a layer replaces the value whole instead of merging into it."""
    schema = _schema_at(path)
    return not (isinstance(schema, dict) or dataclasses.is_dataclass(schema) or get_origin(schema) is Mapping)


def _check_path(path: tuple[str, ...], origin: str) -> None:
    """Fail on a table or key that is not a setting."""
    if _schema_at(path) is None:
        where = ".".join(path[1:]) or path[0]
        what = "table" if len(path) == 1 else "key"
        raise ConfigError(f"{origin}: unknown {what} {where!r}")


def _read_toml(path: Path) -> dict:
    """Parse one TOML file, naming it in any error."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from exc


def _env_paths(environ: Mapping[str, str]) -> list[tuple[tuple[str, ...], str, str]]:
    """(settings path, raw value, variable) for every variable that sets a setting."""
    found = [(path, environ[var], var) for var, path in NAMED_ENV_VARS.items() if environ.get(var)]
    for var, raw in sorted(environ.items()):
        if var.startswith(ENV_PREFIX) and ENV_NESTING in var:
            found.append((tuple(var[len(ENV_PREFIX):].lower().split(ENV_NESTING)), raw, var))
    return found


# ---- turning raw values into typed ones ---------------------------------------------------------

def _strip_optional(kind: Any) -> Any:
    """X | None -> X."""
    if get_origin(kind) in (Union, types.UnionType):
        args = [arg for arg in get_args(kind) if arg is not type(None)]
        if len(args) == 1:
            return args[0]
    return kind


def _from_env_text(kind: Any, raw: str) -> Any:
    """An environment string as the value a TOML file would have given."""
    kind = _strip_optional(kind)
    if kind is bool:
        word = raw.strip().lower()
        if word in TRUE_WORDS + FALSE_WORDS:
            return word in TRUE_WORDS
        raise ValueError(f"expected true or false, got {raw!r}")
    if kind is int:
        return int(raw)
    if kind is float:
        return float(raw)
    if get_origin(kind) is tuple:
        return [item.strip() for item in raw.split(",") if item.strip()]
    return raw


def _convert(kind: Any, value: Any, where: str) -> Any:
    """Check one raw value against its type and return the typed value."""
    plain = _strip_optional(kind)
    if dataclasses.is_dataclass(plain):
        return _build(plain, value, where)
    origin = get_origin(plain)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ValueError(f"{where}: expected a list, got {value!r}")
        item = get_args(plain)[0]
        return tuple(_convert(item, entry, f"{where}[{index}]") for index, entry in enumerate(value))
    if origin is Mapping:
        if not isinstance(value, Mapping):
            raise ValueError(f"{where}: expected a table, got {value!r}")
        item = get_args(plain)[1]
        return {str(key): _convert(item, entry, f"{where}.{key}") for key, entry in value.items()}
    if origin is Literal:
        if value not in get_args(plain):
            raise ValueError(f"{where}: expected one of {', '.join(get_args(plain))}, got {value!r}")
        return value
    return _convert_scalar(plain, value, where)


def _convert_scalar(kind: Any, value: Any, where: str) -> Any:
    """str, int, float, bool and date values."""
    if kind is date:
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        raise ValueError(f'{where}: expected a date as "YYYY-MM-DD", got {value!r}')
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        raise ValueError(f"{where}: expected {kind.__name__}, got {value!r}")
    return value


def _build(cls: type, raw: Any, where: str) -> Any:
    """One dataclass from its table; missing keys are errors (defaults live in config/)."""
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: expected a table, got {raw!r}")
    specs = [spec for spec in dataclasses.fields(cls) if not spec.metadata.get("derived")]
    unknown = sorted(set(raw) - {spec.metadata.get("array", spec.name) for spec in specs})
    if unknown:
        raise ValueError(f"{where}.{unknown[0]}: unknown key" if where else f"{unknown[0]}: unknown key")
    values = {}
    for spec in specs:
        kind = _field_type(cls, spec.name)
        name = spec.metadata.get("array", spec.name)
        inner = f"{where}.{name}" if where else name
        if name not in raw:
            if _strip_optional(kind) is not kind:
                values[spec.name] = None
                continue
            raise ValueError(f"{inner}: missing key")
        values[spec.name] = _convert(kind, raw[name], inner)
    try:
        return cls(**values)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from exc


# ---- the whole ----------------------------------------------------------------------------------

def _gather(config_dir: Path, environ: Mapping[str, str], overrides: Mapping | None) -> _Layers:
    """Every layer, lowest first."""
    layers = _Layers()
    paths = sorted(config_dir.glob("*.toml"))
    if not paths:
        raise ConfigError(f"{config_dir}: no config files (*.toml)")
    for path in paths:
        # Each file is one table: config/hours.toml holds the [hours] settings.
        layers.add_tables({path.stem: _read_toml(path)}, f"config/{path.name}")
    if environ.get("IVR_CONFIG"):
        layers.add_tables(_read_toml(Path(environ["IVR_CONFIG"])), environ["IVR_CONFIG"])
    if overrides:
        layers.add_tables(overrides, "test settings")
    for path, raw, var in _env_paths(environ):
        _check_path(path, f"environment {var}")
        try:
            layers.add(path, _from_env_text(_schema_at(path), raw), f"environment {var}")
        except ValueError as exc:
            raise ConfigError(f"environment {var}={raw!r}: {exc}") from exc
    return layers


def _table(layers: _Layers, spec: dataclasses.Field) -> Any:
    """One top-level table, typed, with errors naming where the offending value came from."""
    raw = layers.values.get(spec.name)
    if raw is None:
        raise ConfigError(f"config/{spec.name}.toml: missing (every table needs its file)")
    try:
        return _convert(_field_type(Settings, spec.name), _wrap_array(spec, raw), spec.metadata.get("array", ""))
    except ValueError as exc:
        message = str(exc)
        key = message.split(":", 1)[0]
        parts = [part.split("[")[0] for part in key.split(".")]
        path = (spec.name, *[part for part in parts if part])
        raise ConfigError(f"{layers.origin(path)}: {message}") from exc


def _wrap_array(spec: dataclasses.Field, raw: Any) -> Any:
    """An array-of-tables file ({department = [...]}) as the list it holds."""
    array = spec.metadata.get("array")
    if not array:
        return raw
    if not isinstance(raw, Mapping) or set(raw) != {array}:
        raise ValueError(f"{array}: expected [[{array}]] tables only")
    return raw[array]


def _cross_checks(settings: Settings) -> None:
    """Rules that span tables: unique codes, known departments, every language spoken."""
    for label, rows in (("department", settings.departments), ("service_type", settings.service_types)):
        codes = [row.code for row in rows]
        twice = sorted({code for code in codes if codes.count(code) > 1})
        if twice:
            raise ConfigError(f"config/{label}s.toml: code {twice[0]!r} is used twice")
    known = {dept.code for dept in settings.departments}
    for index, service_type in enumerate(settings.service_types):
        if service_type.department not in known:
            raise ConfigError(f"config/service_types.toml: service_type[{index}] ({service_type.code}): "
                              f"unknown department {service_type.department!r}")
    for index, attribute in enumerate(settings.open311.attributes):
        if attribute.service_type not in {st.code for st in settings.service_types}:
            raise ConfigError(f"config/open311.toml: attributes[{index}] ({attribute.code}): "
                              f"unknown service type {attribute.service_type!r}")
    for where, table in (("config/numbers.toml: ten_digit_spoken", settings.numbers.ten_digit_spoken),
                         ("config/routing.toml: announcement", settings.routing.announcement)):
        if set(table) != set(LANGUAGES):
            raise ConfigError(f"{where}: needs exactly the languages {', '.join(LANGUAGES)}, got {sorted(table)}")


def load(config_dir: Path | str | None = None, environ: Mapping[str, str] | None = None,
         overrides: Mapping | None = None) -> Settings:
    """Read, merge, check and type every setting; raises ConfigError naming file and key."""
    environ = os.environ if environ is None else environ
    config_dir = Path(config_dir or environ.get("IVR_CONFIG_DIR") or DEFAULT_CONFIG_DIR)
    layers = _gather(config_dir, environ, overrides)
    tables = {spec.name: _table(layers, spec) for spec in dataclasses.fields(Settings)
              if not spec.metadata.get("derived")}
    try:
        schedule = Schedule.from_config(dataclasses.asdict(tables["hours"]))
    except ValueError as exc:
        raise ConfigError(f"config/hours.toml: {exc}") from exc
    settings = Settings(**tables, schedule=schedule)
    _cross_checks(settings)
    return settings


# ---- other languages and recorded calls (issue 11) ---------------------------------------------------------

@dataclass(frozen=True)
class VoiceSettings:
    """A Twilio text-to-speech voice and the language tag <Say> is given with it."""

    voice: str  # "Polly.Camila", "Google.vi-VN-Standard-A"
    language: str  # "pt-BR", "vi-VN"


@dataclass(frozen=True)
class LanguageSettings:
    """The languages the greeting also offers help in, after English and Spanish, in order, and their voices."""

    offered: tuple[str, ...]  # ISO 639-1 codes; each has a voice here and an offer in prompts/offers.yaml
    voices: Mapping[str, VoiceSettings]

    def __post_init__(self) -> None:
        for code in self.offered:
            if self.offered.count(code) > 1:
                raise ValueError(f"offered: {code!r} is given twice")
            if code in LANGUAGES:
                raise ValueError(f"offered: {code!r} is a language of the whole line, not an offer")
            if code not in self.voices:
                raise ValueError(f"offered: {code!r} has no voice in [voices]")


@dataclass(frozen=True)
class RecordingSettings:
    """Whether conversations with representatives and departments are recorded (the greeting then says so)."""

    enabled: bool
