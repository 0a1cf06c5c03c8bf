"""The operator's desk: find a case, make one for a caller, who is waiting and what they did, call-backs."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import callbacks, calls
from ..cases import CaseError, NewCase, create_case, queries
from ..cases.numbers import grouped
from ..core.phone import normalise_us_number
from ..core.prompts import LANGUAGES
from ..models import ServiceType, utcnow
from .auth import current_staff, database, now, role_required
from .security import staff_blueprint

bp = staff_blueprint("desk", __name__, "/desk")
RESULTS = 50
CALL_BACKS = 50
# A call whose end Twilio never reported (a lost status callback) stops counting as waiting after this long.
WAITING_AT_MOST = timedelta(hours=4)
LANGUAGE_NAMES = {"en": "English", "es": "Spanish"}
SEARCHES = ("number", "phone", "street")
# The operator is on the phone with the resident: the request came in by phone, taken down by a person.
DESK_CHANNEL = "phone"
FIELD_LONGEST = {"location": 300, "description": 2000, "contact_name": 120, "contact_phone": 32,
                 "contact_email": 200}


# ---- the desk -------------------------------------------------------------------------------------------

def _search(session: Session, by: str, text: str):
    """(cases found, error message); a case number found goes straight to its page."""
    if by == "number":
        case = queries.by_number(session, text)
        return ([case] if case else []), None
    if by == "phone":
        number = queries.caller_number(text)
        return queries.by_phone(session, number, calls.call_sids_from(session, number, RESULTS), RESULTS), None
    return queries.by_street(session, text, RESULTS), None


@bp.get("/")
@role_required("operator")
def index():
    """Find a case, who is waiting in each language's queue, and abandoned reports to call back."""
    by, text = request.args.get("by", "number"), request.args.get("q", "").strip()
    if by not in SEARCHES:
        abort(400, f"Search by one of: {', '.join(SEARCHES)}.")
    with database().session() as session:
        found, error = None, None
        if text:
            try:
                found, error = _search(session, by, text)
            except queries.SearchError as exc:
                error = str(exc)
            if by == "number" and found:
                return redirect(url_for("cases.show", number=found[0].number))
        waiting = calls.waiting_for_representative(session, WAITING_AT_MOST)
        queues = {lang: [call for call in waiting if call.language == lang] for lang in LANGUAGES}
        return render_template("staff/desk/index.html", by=by, text=text, found=found, error=error, queues=queues,
                               languages=LANGUAGE_NAMES, call_backs=calls.awaiting_call_back(session, CALL_BACKS),
                               done=calls.recent_call_backs(session, 10), now=now(),
                               requests=callbacks.open_requests(session, CALL_BACKS),
                               requests_done=callbacks.recently_done(session, 10),
                               calls_now=utcnow()), 400 if error else 200


# ---- one call: what the caller already did --------------------------------------------------------------

def _type_names(session: Session) -> dict[str, ServiceType]:
    return {row.code: row for row in session.scalars(select(ServiceType))}


@bp.get("/calls/<int:call_id>")
@role_required("operator")
def call(call_id: int):
    """A call handed over from the phone menu (or abandoned): language, menu path, cases checked, the report."""
    with database().session() as session:
        found = calls.call_by_id(session, call_id)
        if found is None:
            abort(404, "There is no such call.")
        handover = calls.handover(found)
        made = queries.made_during(session, found.call_sid)
        checked = []
        for number in handover["checked_numbers"]:
            try:
                checked.append((number, queries.by_number(session, number)))
            except queries.SearchError:
                checked.append((number, None))  # a typo the phone refused, shown as the caller keyed it
        return render_template("staff/desk/call.html", call=found, handover=handover, made=made, checked=checked,
                               types=_type_names(session), languages=LANGUAGE_NAMES,
                               abandoned=found.outcome == calls.ABANDONED_INTAKE,
                               called_back=calls.call_back_for(session, found))


@bp.post("/calls/<int:call_id>/called-back")
@role_required("operator")
def called_back(call_id: int):
    """Mark an abandoned report as handled: who called back, when, and what came of it."""
    with database().session() as session:
        found = calls.call_by_id(session, call_id)
        if found is None:
            abort(404, "There is no such call.")
        note = (request.form.get("note") or "").strip()
        if len(note) > 500:
            abort(400, "Keep the note under 500 characters.")
        try:
            calls.mark_called_back(session, found, current_staff().actor, note, now=now())
        except ValueError as exc:
            abort(400, str(exc))
    flash("Marked as called back.")
    return redirect(url_for("desk.index"))


@bp.post("/callbacks/<int:request_id>/done")
@role_required("operator")
def call_back_done(request_id: int):
    """Mark a call-back request (a long wait, a message after hours) as handled: who, when, what came of it."""
    with database().session() as session:
        try:
            callbacks.mark_done(session, request_id, current_staff().actor, request.form.get("note"), now=now())
        except callbacks.NoSuchCallBack as exc:
            abort(404, str(exc))
        except callbacks.CallBackError as exc:
            abort(400, str(exc))
    flash("Call-back request marked as done.")
    return redirect(url_for("desk.index"))


# ---- a new case for a caller ----------------------------------------------------------------------------

def _active_types(session: Session) -> list[ServiceType]:
    return list(session.scalars(select(ServiceType).where(ServiceType.active.is_(True))
                                .order_by(ServiceType.name_en)))


def _prefill(session: Session) -> dict:
    """What a handed-over call already said, so the caller is not asked again (?call=<id>)."""
    call_id = request.args.get("call", type=int)
    found = calls.call_by_id(session, call_id) if call_id else None
    if found is None:
        return {}
    report = calls.handover(found)["report"]
    return {"call": found.id, "type": report.get("service_types", ""), "language": found.language,
            "location": report.get("location", ""), "description": report.get("description", ""),
            "contact_name": report.get("contact_name", ""), "contact_phone": report.get("contact_phone", "")}


@bp.get("/new")
@role_required("operator")
def new():
    """Step 1: the type and language; step 2 (type chosen): the details, contact only where the type needs it."""
    with database().session() as session:
        form = _prefill(session) | {key: value for key, value in request.args.items() if value}
        types = _active_types(session)
        chosen = next((t for t in types if t.code == form.get("type")), None)
        if form.get("type") and chosen is None:
            abort(400, f"There is no service type {form['type']!r}.")
        return render_template("staff/desk/new.html", types=types, chosen=chosen, form=form, errors={},
                               languages=LANGUAGE_NAMES, intake=secrets.token_urlsafe(12))


def _new_case_form(chosen: ServiceType) -> tuple[dict, dict]:
    """The details typed in, and what is wrong with them."""
    form = {key: (request.form.get(key) or "").strip() for key in
            ("type", "language", "location", "description", "contact_name", "contact_phone", "contact_email",
             "call", "intake")}
    errors = {key: f"Keep this under {longest} characters." for key, longest in FIELD_LONGEST.items()
              if len(form[key]) > longest}
    if form["language"] not in LANGUAGES:
        errors["language"] = "Choose the caller's language."
    if chosen.requires_contact:
        if form["contact_phone"]:
            number = normalise_us_number(form["contact_phone"])
            if number is None:
                errors["contact_phone"] = "That is not a ten-digit phone number."
            form["contact_phone"] = number or form["contact_phone"]
        if not (form["contact_phone"] or form["contact_email"]):
            errors["contact_phone"] = f"{chosen.name_en} needs a call-back number or an e-mail address."
    else:
        # Contact details are asked only where the department needs them, and never kept otherwise.
        form.update(contact_name="", contact_phone="", contact_email="")
    if not form["intake"]:
        errors["type"] = "The form is incomplete: start again from the desk."
    return form, errors


@bp.post("/new")
@role_required("operator")
def create():
    """Make the case through the same case service and rules as the phone; show its number to read out."""
    user = current_staff()
    with database().session() as session:
        types = _active_types(session)
        chosen = next((t for t in types if t.code == request.form.get("type")), None)
        if chosen is None:
            abort(400, "Choose a service type.")
        form, errors = _new_case_form(chosen)
        source = calls.call_by_id(session, int(form["call"])) if form["call"].isdigit() else None
        if not errors:
            request_ = NewCase(
                service_type=chosen.code, description=form["description"], location=form["location"] or None,
                contact_name=form["contact_name"] or None, contact_phone=form["contact_phone"] or None,
                contact_email=form["contact_email"] or None, language=form["language"], channel=DESK_CHANNEL,
                call_sid=source.call_sid if source else None, intake_key=f"desk:{form['intake']}")
            try:
                case, _ = create_case(session, request_, current_app.extensions["ivr"].line.schedule, user.actor,
                                      now=now())
            except CaseError as exc:
                errors["type"] = str(exc)
            else:
                flash(f"Case {grouped(case.number)} created: read the number to the caller.")
                return redirect(url_for("cases.show", number=case.number))
        return render_template("staff/desk/new.html", types=types, chosen=chosen, form=form, errors=errors,
                               languages=LANGUAGE_NAMES, intake=form["intake"]), 400


@bp.app_template_filter("turn_input")
def turn_input(value: str | None) -> str:
    """What the caller did at a turn, in words: 'pressed 2', 'said "pothole"', 'nothing'."""
    if not value:
        return "nothing (silence)"
    if value.startswith("speech:"):
        return f"said “{value[len('speech:'):]}”"
    if value.replace("#", "").replace("*", "").isdigit() or value in ("#", "*"):
        return f"pressed {value}"
    return value  # a transfer's or queue's result, or a recording


@bp.app_template_filter("node_name")
def node_name(node: str | None) -> str:
    """'report_location_confirm' -> 'report location confirm'."""
    return (node or "").replace("_", " ")
