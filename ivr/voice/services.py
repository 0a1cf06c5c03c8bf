"""What the engine asks of the world during one turn: hours, closures, directories, destinations."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from .. import closures
from ..core.engine import ActionResult, Context, Destination, DirectoryEntry, QueueTarget
from ..core.prompts import Catalog
from ..core.schedule import Schedule
from ..core.speaking import hours_phrase
from ..sms import SmsSettings


@dataclass(frozen=True)
class LineConfig:
    """The parts of the settings a call needs, parsed once at start-up."""

    schedule: Schedule
    departments: tuple[DirectoryEntry, ...]
    department_phones: dict[str, str]
    routing: dict
    numbers: dict
    hours_text: dict[str, str]
    service_types: tuple[DirectoryEntry, ...] = ()
    service_type_info: dict = field(default_factory=dict)
    sms: SmsSettings = SmsSettings(enabled=False, from_number="", account_sid=None, auth_token=None)

    @classmethod
    def from_settings(cls, settings: dict, catalog: Catalog, secrets: dict | None = None) -> LineConfig:
        """Build from the merged settings tables (and the Twilio secrets, for text messages)."""
        secrets = secrets or {}
        schedule = Schedule.from_config(settings.get("hours", {}))
        entries, phones = [], {}
        for dept in settings.get("departments", {}).get("department", []):
            phones[dept["code"]] = dept.get("phone", "")
            if dept.get("key"):
                entries.append(DirectoryEntry(
                    digits=str(dept["key"]), code=dept["code"],
                    names={"en": dept["name_en"], "es": dept["name_es"]},
                    words={"en": tuple(_words(dept["name_en"])), "es": tuple(_words(dept["name_es"]))},
                ))
        types, info = [], {}
        for raw in settings.get("service_types", {}).get("service_type", []):
            if raw.get("department") not in phones:
                raise ValueError(f"service_types.toml: {raw.get('code')}: unknown department {raw.get('department')!r}")
            info[raw["code"]] = raw
            types.append(DirectoryEntry(
                digits=str(raw.get("key") or ""), code=raw["code"],
                names={"en": raw["name_en"], "es": raw["name_es"]},
                words={"en": tuple(raw.get("keywords_en", [])), "es": tuple(raw.get("keywords_es", []))},
            ))
        summary = schedule.weekly_summary()
        return cls(
            schedule=schedule, departments=tuple(entries), department_phones=phones,
            routing=settings.get("routing", {}), numbers=settings.get("numbers", {}),
            hours_text={lang: hours_phrase(summary, lang) for lang in catalog.voices},
            service_types=tuple(types), service_type_info=info,
            sms=SmsSettings.from_settings(settings.get("sms", {}), secrets.get("TWILIO_ACCOUNT_SID"),
                                          secrets.get("TWILIO_AUTH_TOKEN")),
        )


def _words(name: str) -> list[str]:
    """The spoken name of a directory entry, without leading articles."""
    name = name.lower()
    for article in ("the ", "la ", "el ", "los ", "las "):
        if name.startswith(article):
            name = name[len(article):]
    return [name.split(",")[0].strip()]


class CallServices:
    """Services for one turn, bound to a database session and the current instant."""

    def __init__(self, line: LineConfig, catalog: Catalog, session: Session | None, now: datetime,
                 route: str = "unknown", action_handlers: dict | None = None):
        self.line = line
        self.catalog = catalog
        self.session = session
        self.now = now
        self.route = route
        self.action_handlers = action_handlers or {}
        self._closure_loaded = False
        self._closure = None

    # -- facts --
    @property
    def closure(self):
        """The active emergency closure, read once per turn."""
        if not self._closure_loaded:
            self._closure = closures.active_closure(self.session) if self.session is not None else None
            self._closure_loaded = True
        return self._closure

    def is_open(self) -> bool:
        """Whether representatives are answering now."""
        return self.line.schedule.is_open(self.now, emergency_closure=self.closure is not None)

    def condition(self, name: str, ctx: Context) -> bool:
        """Named yes/no questions flows may branch on."""
        if name == "is_open":
            return self.is_open()
        if name == "is_emergency_closure":
            return self.closure is not None
        if name == "is_holiday":
            return self.line.schedule.closed_reason(self.now) == "holiday"
        handler = self.action_handlers.get(f"condition:{name}")
        if handler is None:
            raise KeyError(f"unknown condition {name!r}")
        return bool(handler(self, ctx))

    def run_action(self, name: str, ctx: Context) -> ActionResult:
        """Run a named action (case intake and lookup live in ivr.actions)."""
        return self.action_handlers[name](self, ctx)

    def directory(self, name: str) -> list[DirectoryEntry]:
        """Menu entries built from config."""
        if name == "departments":
            return list(self.line.departments)
        handler = self.action_handlers.get(f"directory:{name}")
        if handler is None:
            raise KeyError(f"unknown directory {name!r}")
        return handler(self)

    def prompt_values(self, ctx: Context, lang: str) -> dict:
        """Values every prompt may use."""
        closure = self.closure
        closure_message = ""
        if closure is not None:
            closure_message = (closure.message_es if lang == "es" else closure.message_en) or ""
        announcement = self.line.routing.get("announcement", {}).get(lang, "") or closure_message
        if not announcement:
            announcement = self.catalog.text(lang, "info.no_announcements")
        department = ctx.answers.get("departments")
        names = {e.code: e.names for e in self.line.departments}
        return {
            "hours": self.line.hours_text[lang],
            "ten_digit_number": self.line.numbers.get(f"ten_digit_spoken_{lang}", ""),
            "closure_message": closure_message,
            "announcement": announcement,
            "department_name": names.get(department, {}).get(lang, ""),
        }

    # -- destinations --
    def transfer_destination(self, to: str, ctx: Context) -> Destination | None:
        """The number a transfer dials, or None when there is none to dial."""
        if to == "department":
            code = ctx.answers.get("departments")
            number = self.line.department_phones.get(code or "")
            timeout = int(self.line.routing.get("transfer", {}).get("dial_timeout", 25))
            return Destination(number, label=code, timeout=timeout) if number else None
        if to == "interpretation":
            interp = self.line.routing.get("interpretation", {})
            if not interp.get("number"):
                return None
            return Destination(interp["number"], send_digits=interp.get("send_digits") or None,
                               label="interpretation", timeout=int(interp.get("dial_timeout", 30)))
        raise KeyError(f"unknown transfer target {to!r}")

    def representative(self, ctx: Context) -> QueueTarget:
        """Where the caller waits for a person: the Spanish-speaking queue for Spanish callers."""
        rep = self.line.routing.get("representative", {})
        spanish = ctx.lang == "es"
        attributes = {"selected_language": ctx.lang, "language": ctx.lang, "route": self.route,
                      "skill": "spanish" if spanish else "english"}
        if rep.get("mode") == "dial":
            number = rep.get("call_center_number_es") if spanish else rep.get("call_center_number")
            return QueueTarget(mode="dial", number=number or rep.get("call_center_number", ""),
                               attributes=attributes)
        return QueueTarget(mode="enqueue", name=rep.get("queue_es" if spanish else "queue_en", "311"),
                           attributes=attributes, workflow_sid=rep.get("workflow_sid", ""))
