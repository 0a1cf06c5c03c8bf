"""What the API says about services and cases, in the spec's element order; never a resident's contact details."""

from __future__ import annotations

import re
from datetime import tzinfo

from ..cases.service import note_for_callers
from ..core.prompts import Catalog
from ..models import Case, Department, Open311Request, ServiceType
from ..privacy import PHONE
from ..settings import Open311AttributeSettings, Open311Settings
from .formats import timestamp

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"  # the spec's own token for discovery, not a link
FORMATS = ["text/xml", "application/json"]
OPEN_STATUSES = ("open", "in_progress", "on_hold")
EMAIL = re.compile(r"[^\s@<>()\[\],;:\"]+@[^\s@<>()\[\],;:\"]+\.[A-Za-z]{2,}")
NAME_PART = re.compile(r"[^\W\d_]{3,}")  # words of a name long enough to mean something on their own


class Words:
    """How the API words things it shares with the phone: status names and each type's response time.

    Worded once per request: a page holds up to a thousand cases with a handful of statuses and types.
    """

    def __init__(self, catalog: Catalog, zone: tzinfo):
        self.catalog, self.zone = catalog, zone
        self._statuses: dict[tuple[str, str], str] = {}
        self._notices: dict[int, str] = {}

    def status(self, status: str, lang: str) -> str:
        """'in progress' / 'en proceso'."""
        if (status, lang) not in self._statuses:
            self._statuses[status, lang] = self.catalog.text(lang, f"status.word.{status}")
        return self._statuses[status, lang]

    def notice(self, service_type: ServiceType, department: Department) -> str:
        """'Public Works usually responds within 5 business days.', as the phone says it after a report."""
        if service_type.id not in self._notices:
            count, unit = ((service_type.sla_hours, "hour") if service_type.sla_hours
                           else (service_type.sla_days or 0, "day"))
            sla = self.catalog.text("en", f"sla.{unit}" if count == 1 else f"sla.{unit}s", count=count)
            name = department.name_en
            self._notices[service_type.id] = self.catalog.text(
                "en", "report.sla", case_department=name[:1].upper() + name[1:], sla_text=sla)
        return self._notices[service_type.id]


def service(service_type: ServiceType, department: Department, settings: Open311Settings) -> dict:
    """One entry of GET services."""
    return {
        "service_code": service_type.code,
        "service_name": service_type.name_en,
        "description": service_type.description_en,
        "metadata": bool(settings.attributes_of(service_type.code)),
        "type": "realtime",
        "keywords": ", ".join([*service_type.keywords_en, *service_type.keywords_es]),
        "group": department.name_en,
    }


def attribute(definition: Open311AttributeSettings) -> dict:
    """One attribute of a service definition."""
    return {
        "variable": True,
        "code": definition.code,
        "datatype": definition.datatype,
        "required": definition.required,
        "datatype_description": definition.datatype_description,
        "order": definition.order,
        "description": definition.description,
        "values": [{"key": key, "name": name} for key, name in definition.values.items()],
    }


def definition(service_type: ServiceType, settings: Open311Settings) -> dict:
    """GET services/{code}: the questions the type asks besides where and what."""
    return {"service_code": service_type.code,
            "attributes": [attribute(item) for item in settings.attributes_of(service_type.code)]}


def discovery(settings: Open311Settings, endpoint_url: str) -> dict:
    """The Service Discovery document: where the endpoint is, its formats, and how to get a key."""
    return {
        "changeset": settings.changeset,
        "contact": settings.contact,
        "key_service": settings.key_service,
        "endpoints": [{"specification": SPECIFICATION, "url": endpoint_url, "changeset": settings.changeset,
                       "type": settings.endpoint_type, "formats": list(FORMATS)}],
    }


def created(case: Case, notice: str, account_id: str | None) -> dict:
    """One entry of POST requests' answer."""
    return {"service_request_id": case.number, "service_notice": notice, "account_id": account_id}


def _private_words(case: Case) -> list[str]:
    """The case's own contact details as they might appear in free text: each name word, the phone's digits."""
    words = NAME_PART.findall(case.contact_name or "")
    if case.contact_phone:
        digits = re.sub(r"\D", "", case.contact_phone)
        words += [digits, digits[-10:], digits[-7:]]
    if case.contact_email:
        words += [case.contact_email, case.contact_email.split("@")[0]]
    return [word for word in words if len(word) >= 3]


class Redactor:
    """Makes free text safe to publish: a case's own contact details and any phone number or e-mail removed."""

    def __init__(self, case: Case):
        words = sorted(_private_words(case), key=len, reverse=True)
        # One pattern per case, longest words first, so "Ana Maria" goes before "Ana" could split it.
        self.own = (re.compile("|".join(rf"(?<!\w){re.escape(word)}(?!\w)" for word in words), re.IGNORECASE)
                    if words else None)

    def __call__(self, text: str | None) -> str | None:
        if not text:
            return text
        text = PHONE.sub("[phone number removed]", EMAIL.sub("[e-mail removed]", text))
        return self.own.sub("[removed]", text) if self.own else text


def status_notes(case: Case, words: Words, redact: Redactor) -> str:
    """The detailed status and the latest public note, then the Spanish ones where staff wrote a Spanish note."""
    english, spanish = note_for_callers(case, "en"), note_for_callers(case, "es")
    notes = words.status(case.status, "en") + (f": {english}" if english else "")
    if spanish and spanish != english:
        notes += f" / {words.status(case.status, 'es')}: {spanish}"
    return redact(notes) or ""


def _extended(case: Case, department: Department, extra: Open311Request | None, words: Words) -> dict:
    """extensions=true: the detailed status, the department, the expected date, the attributes given."""
    answers = (extra.attributes if extra else None) or {}
    return {
        "detailed_status": case.status,
        "detailed_status_name": words.status(case.status, "en"),
        "department_code": department.code,
        "department": department.name_en,
        "expected_datetime": timestamp(case.expected_at, words.zone),
        "channel": case.channel,
        "attributes": [{"code": code, "values": value if isinstance(value, list) else [value]}
                       for code, value in answers.items()],
    }


def service_request(case: Case, service_type: ServiceType, department: Department, extra: Open311Request | None,
                    words: Words, extensions: bool) -> dict:
    """One entry of GET requests, in the spec's order."""
    redact = Redactor(case)
    document = {
        "service_request_id": case.number,
        "status": "open" if case.status in OPEN_STATUSES else "closed",
        "status_notes": status_notes(case, words, redact),
        "service_name": service_type.name_en,
        "service_code": service_type.code,
        "description": redact(case.description) or "",
        "agency_responsible": department.name_en,
        "service_notice": words.notice(service_type, department),
        "requested_datetime": timestamp(case.requested_at, words.zone),
        "updated_datetime": timestamp(case.updated_at, words.zone),
        "expected_datetime": timestamp(case.expected_at, words.zone),
        # The phone's spoken location and the API's address_string both live here.
        "address": redact(case.location),
        "address_id": extra.address_id if extra else None,
        "zipcode": None,
        "lat": case.latitude,
        "long": case.longitude,
        "media_url": extra.media_url if extra else None,
    }
    if extensions:
        document["extended_attributes"] = _extended(case, department, extra, words)
    return document
