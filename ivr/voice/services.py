"""What the engine asks of the world during one turn: hours, closures, directories, destinations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from .. import announcements, closures, interpreting
from ..core.engine import ActionResult, ConferenceRoom, Context, Destination, DirectoryEntry, QueueTarget
from ..core.prompts import LANGUAGES, Catalog, Deferred
from ..core.schedule import Schedule
from ..core.speaking import hours_phrase, spoken_opening
from ..settings import ConfigError, Secrets, Settings
from ..sms import SmsSettings
from ..twilio_rest import TwilioAccount


@dataclass(frozen=True)
class LineConfig:
    """What a call needs beyond the settings, derived from them once at start-up."""

    settings: Settings
    departments: tuple[DirectoryEntry, ...]
    service_types: tuple[DirectoryEntry, ...]
    hours_text: dict[str, str]
    twilio: TwilioAccount  # the REST API: texts, interpreters, recordings
    sms: SmsSettings

    @property
    def schedule(self) -> Schedule:
        """When 311 answers."""
        return self.settings.schedule

    @classmethod
    def from_settings(cls, settings: Settings, catalog: Catalog, secrets: Secrets) -> LineConfig:
        """Build the directories, hours phrases and the Twilio account from the settings and the secrets."""
        departments = tuple(
            DirectoryEntry(digits=dept.key, code=dept.code, names={"en": dept.line("en"), "es": dept.line("es")},
                           words={"en": dept.keywords_en, "es": dept.keywords_es})
            for dept in settings.departments if dept.key
        )
        # Read with their articles ("For a pothole, press 2."), understood by every keyword and phrase.
        service_types = tuple(
            DirectoryEntry(digits=st.key, code=st.code, names={lang: st.spoken(lang) for lang in LANGUAGES},
                           words={lang: st.words(lang) for lang in LANGUAGES})
            for st in settings.service_types
        )
        fallbacks = [st.code for st in settings.service_types if st.fallback]
        if len(fallbacks) != 1:
            raise ConfigError(f"config/service_types.toml: exactly one service type needs fallback = true "
                              f"(where unnamed problems are filed), got {fallbacks or 'none'}")
        summary = settings.schedule.weekly_summary()
        twilio = TwilioAccount.from_settings(settings, secrets)
        return cls(
            settings=settings, departments=departments, service_types=service_types,
            hours_text={lang: hours_phrase(summary, lang) for lang in LANGUAGES},
            twilio=twilio, sms=SmsSettings.from_settings(settings.sms, twilio),
        )


class CallServices:
    """Services for one turn, bound to a database session and the current instant."""

    def __init__(self, line: LineConfig, catalog: Catalog, session: Session | None, now: datetime,
                 route: str = "unknown", action_handlers: dict | None = None,
                 closure_cache: closures.ClosureCache | None = None,
                 announcement_cache: announcements.AnnouncementCache | None = None):
        self.line = line
        self.catalog = catalog
        self.session = session
        self.now = now
        self.route = route
        self.action_handlers = action_handlers or {}
        self.closure_cache = closure_cache
        self.announcement_cache = announcement_cache
        self._closure_loaded = False
        self._closure = None

    # -- facts --
    @property
    def closure(self):
        """The active emergency closure, read at most once per turn (and less often through the cache)."""
        if not self._closure_loaded:
            if self.session is None:
                self._closure = None
            elif self.closure_cache is not None:
                self._closure = self.closure_cache.current(self.session)
            else:
                self._closure = closures.active_closure(self.session)
            self._closure_loaded = True
        return self._closure

    def announcement(self, lang: str) -> str:
        """The information menu's announcement: set by a supervisor at run time, else config's ('' if neither)."""
        configured = self.line.settings.routing.announcement
        if self.session is None:
            return configured[lang]
        read = self.announcement_cache.current if self.announcement_cache is not None else announcements.current
        return announcements.heard(read(self.session), configured, lang)

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
        announcement = Deferred(lambda: self.announcement(lang) or closure_message
                                or self.catalog.text(lang, "info.no_announcements"))
        department = self.line.settings.department(ctx.answers.get("departments") or "")
        return {
            "hours": self.line.hours_text[lang],
            "ten_digit_number": self.line.settings.numbers.ten_digit_spoken[lang],
            "closure_message": closure_message,
            "announcement": announcement,
            "department_name": department.line(lang) if department else "",
            "next_opening": Deferred(lambda: spoken_opening(self.line.schedule.next_opening(self.now), self.now, lang)),
        }

    # -- destinations --
    def transfer_destination(self, to: str, ctx: Context) -> Destination | None:
        """The number a transfer dials, or None when there is none to dial (interpreters: conference_room)."""
        routing = self.line.settings.routing
        if to == "department":
            department = self.line.settings.department(ctx.answers.get("departments") or "")
            if department is None or not department.phone:
                return None
            return Destination(department.phone, label=department.code, timeout=routing.transfer.dial_timeout)
        raise KeyError(f"unknown transfer target {to!r}")

    def representative(self, ctx: Context) -> QueueTarget:
        """Where the caller waits for a person: the Spanish-speaking queue for Spanish callers."""
        rep = self.line.settings.routing.representative
        spanish = ctx.lang == "es"
        attributes = {"selected_language": ctx.lang, "language": ctx.lang, "route": self.route,
                      "skill": "spanish" if spanish else "english"}
        if rep.mode == "dial":
            number = (rep.call_center_number_es if spanish else "") or rep.call_center_number
            return QueueTarget(mode="dial", number=number, attributes=attributes, timeout=rep.dial_timeout)
        return QueueTarget(mode="enqueue", name=rep.queue_es if spanish else rep.queue_en,
                           attributes=attributes, workflow_sid=rep.workflow_sid)

    def conference_room(self, to: str, ctx: Context) -> ConferenceRoom | None:
        """The caller's own conference room, or None when nobody can be dialled into it (no REST credentials)."""
        if to != "interpretation":
            raise KeyError(f"unknown conference {to!r}")
        if not ctx.call_sid or not self.line.twilio.usable:
            return None
        return ConferenceRoom(interpreting.conference_name(ctx.call_sid))
