"""POST requests: check what a client sent against the spec and the service type, then open the case."""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from dateutil.parser import isoparse
from sqlalchemy.orm import Session

from .. import cases
from ..cases.service import find_by_intake
from ..core.phone import normalise_us_number
from ..core.schedule import Schedule
from ..models import ApiKey, Case, Open311Request, ServiceType
from ..settings import Open311AttributeSettings, Open311Settings
from . import keys
from .errors import Open311Error, bad_request, not_found

MAX_DESCRIPTION = 4000  # the spec's limit
MAX_FIELD = 300         # an address, a name, one attribute value
MAX_URL = 500
LISTS = ("singlevaluelist", "multivaluelist")
ATTRIBUTE_FIELD = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

Form = dict[str, list[str]]


@dataclass(frozen=True)
class Location:
    """Where the problem is: coordinates, an address in words, an address id, or several of them."""

    lat: float | None
    long: float | None
    address: str | None
    address_id: str | None


@dataclass(frozen=True)
class Contact:
    """The resident's details, kept only where the service type needs them."""

    name: str | None
    phone: str | None
    email: str | None


def one(form: Form, name: str) -> str | None:
    """A field's first value, stripped; an empty field is an absent one (the spec's optional arguments)."""
    values = form.get(name) or [""]
    return values[0].strip() or None


def authorise(session: Session, form: Form) -> ApiKey:
    """The client's key, or 403."""
    token = one(form, "api_key")
    if token is None:
        raise Open311Error(403, "api_key is missing: POST requests needs the key Hartford 311 issued you")
    key = keys.active_key(session, token)
    if key is None:
        raise Open311Error(403, "api_key is not valid (unknown or revoked)")
    return key


def check_jurisdiction(settings: Open311Settings, given: str | None) -> None:
    """One jurisdiction is served: another id is a 404, as the spec says."""
    if given and given != settings.jurisdiction_id:
        raise not_found(f"jurisdiction_id {given!r} is not served here; this endpoint serves "
                        f"{settings.jurisdiction_id!r}")


def service_type(session: Session, code: str | None) -> ServiceType:
    """The active service type a code names, or 400 (none given) / 404 (unknown)."""
    if not code:
        raise bad_request("service_code is missing")
    found = cases.service_type_by_code(session, code)
    if found is None:
        raise not_found(f"service_code {code!r} is not a service: see services.xml or services.json")
    return found


def _coordinate(raw: str | None, name: str, limit: float, problems: list[str]) -> float | None:
    """A latitude or longitude in range, or a problem noted."""
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or abs(value) > limit:
        problems.append(f"{name} must be a number from -{limit:g} to {limit:g}, got {raw[:40]!r}")
        return None
    return value


def location(form: Form, problems: list[str]) -> Location:
    """lat and long together, address_string or address_id: at least one of them."""
    lat = _coordinate(one(form, "lat"), "lat", 90, problems)
    long = _coordinate(one(form, "long"), "long", 180, problems)
    address, address_id = one(form, "address_string"), one(form, "address_id")
    if (one(form, "lat") is None) != (one(form, "long") is None):
        problems.append("lat and long must be sent together")
    has_point = lat is not None and long is not None
    if not (has_point or address or address_id) and not problems:
        problems.append("a location is required: lat and long, address_string or address_id")
    for name, value in (("address_string", address), ("address_id", address_id)):
        if value and len(value) > MAX_FIELD:
            problems.append(f"{name} is longer than {MAX_FIELD} characters")
    return Location(lat if has_point else None, long if has_point else None, address, address_id)


def attribute_values(form: Form) -> dict[str, list[str]]:
    """attribute[code]=v and attribute[code][]=v1&attribute[code][]=v2, as code -> values."""
    found: dict[str, list[str]] = {}
    for field, values in form.items():
        match = ATTRIBUTE_FIELD.match(field)
        if match:
            found.setdefault(match.group(1), []).extend(v.strip() for v in values if v.strip())
    return {code: values for code, values in found.items() if values}


def _check_number(definition: Open311AttributeSettings, raw: str) -> str | None:
    """A problem with a number attribute, or None."""
    try:
        number = Decimal(raw)
    except InvalidOperation:
        return f"attribute[{definition.code}] must be a number, got {raw[:40]!r}"
    if not number.is_finite():
        return f"attribute[{definition.code}] must be a number, got {raw[:40]!r}"
    low, high = definition.minimum, definition.maximum
    if (low is not None and number < low) or (high is not None and number > high):
        return f"attribute[{definition.code}] must be from {low} to {high}, got {raw[:40]!r}"
    return None


def _check_value(definition: Open311AttributeSettings, values: list[str]) -> str | None:
    """A problem with one attribute's values, or None."""
    code, kind = definition.code, definition.datatype
    if kind != "multivaluelist" and len(values) > 1:
        return f"attribute[{code}] takes one value"
    if kind in LISTS:
        unknown = [value for value in values if value not in definition.values]
        if unknown:
            return f"attribute[{code}]: {unknown[0][:40]!r} is not one of {', '.join(definition.values)}"
        return None
    if kind == "number":
        return _check_number(definition, values[0])
    if kind == "datetime":
        try:
            isoparse(values[0])
        except (ValueError, OverflowError):
            return f"attribute[{code}] must be an ISO 8601 date and time, got {values[0][:40]!r}"
        return None
    if len(values[0]) > (MAX_DESCRIPTION if kind == "text" else MAX_FIELD) or (kind == "string" and "\n" in values[0]):
        return f"attribute[{code}] is too long, or has line breaks where a {kind} has none"
    return None


def attributes(settings: Open311Settings, code: str, form: Form, problems: list[str]) -> dict:
    """The service definition's answers, checked: required ones present, values of the right kind."""
    given = attribute_values(form)
    definitions = {definition.code: definition for definition in settings.attributes_of(code)}
    problems += [f"attribute[{name}] is not an attribute of {code}" for name in given if name not in definitions]
    kept: dict = {}
    for name, definition in definitions.items():
        values = given.get(name)
        if not values:
            if definition.required:
                problems.append(f"attribute[{name}] is required: {definition.description}")
            continue
        problem = _check_value(definition, values)
        if problem:
            problems.append(problem)
        else:
            kept[name] = list(dict.fromkeys(values)) if definition.datatype == "multivaluelist" else values[0]
    return kept


def contact(form: Form, needed: bool, problems: list[str]) -> Contact:
    """Name, phone and e-mail where the type needs a way to reach the resident; otherwise none are kept."""
    if not needed:
        return Contact(None, None, None)  # asked for only where a department needs them, so never stored
    raw_phone, email = one(form, "phone"), one(form, "email")
    phone = normalise_us_number(raw_phone) if raw_phone else None
    if raw_phone and phone is None:
        problems.append("phone must be a ten-digit US phone number")
    if email and (len(email) > 200 or not EMAIL.match(email)):
        problems.append("email is not an e-mail address")
        email = None
    if not (raw_phone or email):
        problems.append("this service needs a way to reach you: give phone or email")
    name = " ".join(filter(None, (one(form, "first_name"), one(form, "last_name")))) or None
    if name and len(name) > 120:
        problems.append("first_name and last_name are longer than 120 characters together")
    return Contact(name, phone, email)


def _text_fields(form: Form, problems: list[str]) -> tuple[str, str | None]:
    """description and media_url, within the spec's limits."""
    description = one(form, "description") or ""
    if len(description) > MAX_DESCRIPTION:
        problems.append(f"description is longer than {MAX_DESCRIPTION} characters")
    media_url = one(form, "media_url")
    if media_url and (len(media_url) > MAX_URL or not media_url.lower().startswith(("https://", "http://"))):
        problems.append(f"media_url must be an http(s) URL of at most {MAX_URL} characters")
    return description, media_url


def fingerprint(key: ApiKey, form: Form) -> str:
    """What makes two POSTs 'the same': the key, the device/account and every field of content."""
    content = {name: values for name, values in sorted(form.items()) if name not in ("api_key", "jurisdiction_id")}
    return hashlib.sha256(json.dumps([key.id, content], sort_keys=True).encode()).hexdigest()


def intake_key(fingerprint_: str, bucket: int) -> str:
    """The case's intake key for a fingerprint in one time bucket (fits cases.intake_key, 100 characters)."""
    return "open311:" + hashlib.sha256(f"{bucket}:{fingerprint_}".encode()).hexdigest()


def earlier_repeat(session: Session, fingerprint_: str, bucket: int, window: int, now: datetime) -> Case | None:
    """The case the same POST opened in the previous bucket, if it is still within the window.

    Buckets alone would split a repeat that straddles a bucket's edge (09:59:59 and 10:00:01) into two cases;
    looking one bucket back, bounded by the window itself, catches it.
    """
    earlier = find_by_intake(session, intake_key(fingerprint_, bucket - 1))
    if earlier is not None and now - earlier.requested_at <= timedelta(seconds=window):
        return earlier
    return None


def submit(session: Session, form: Form, settings: Open311Settings, schedule: Schedule,
           now: datetime) -> tuple[Case, bool]:
    """Check a POST and open its case through the case service; (case, created). Raises Open311Error."""
    key = authorise(session, form)
    check_jurisdiction(settings, one(form, "jurisdiction_id"))
    kind = service_type(session, one(form, "service_code"))
    problems: list[str] = []
    where = location(form, problems)
    answers = attributes(settings, kind.code, form, problems)
    reach = contact(form, kind.requires_contact, problems)
    description, media_url = _text_fields(form, problems)
    if problems:
        raise bad_request(*problems)
    window = settings.repeat_window_seconds
    bucket, print_ = int(now.timestamp()) // window, fingerprint(key, form)
    repeat = earlier_repeat(session, print_, bucket, window, now)
    if repeat is not None:
        return repeat, False
    request = cases.NewCase(
        service_type=kind.code, description=description, location=where.address, latitude=where.lat,
        longitude=where.long, contact_name=reach.name, contact_phone=reach.phone, contact_email=reach.email,
        language="en", channel="open311", intake_key=intake_key(print_, bucket),
    )
    try:
        case, created = cases.create_case(session, request, schedule, actor=keys.actor(key), now=now)
    except cases.CaseError as exc:
        raise bad_request(str(exc)) from exc
    if created:
        session.add(Open311Request(case_id=case.id, api_key_id=key.id, address_id=where.address_id,
                                   attributes=answers, media_url=media_url))
        session.flush()
    return case, created
