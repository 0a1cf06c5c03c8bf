"""The Open311 blueprint: /open311/discovery.{fmt} and /open311/v2/… in XML and JSON; errors in the same format."""

from __future__ import annotations

import json
import logging
from functools import cache
from pathlib import Path

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import HTTPException

from . import documents, intake, listing
from .errors import Open311Error, bad_request, not_found
from .formats import errors, format_of, respond

log = logging.getLogger(__name__)
bp = Blueprint("open311", __name__, url_prefix="/open311")
FMT = "<any(xml,json):fmt>"
OPENAPI = Path(__file__).with_name("openapi.json")


def _state():
    return current_app.extensions["ivr"]


def _words() -> documents.Words:
    state = _state()
    return documents.Words(state.catalog, state.settings.schedule.timezone)


def _now():
    return current_app.config["CLOCK"]()


def _check_jurisdiction() -> None:
    intake.check_jurisdiction(_state().settings.open311, request.args.get("jurisdiction_id"))


def _form() -> dict[str, list[str]]:
    """The POST body's fields (and any in the query string), each with all its values."""
    fields = {key: request.args.getlist(key) for key in request.args}
    fields.update({key: request.form.getlist(key) for key in request.form})
    return fields


def _base_url() -> str:
    """Where clients reach this server: the configured public URL, else the one this request used."""
    return (_state().settings.web.public_base_url or request.url_root).rstrip("/")


@bp.before_request
def _refuse_nul_characters() -> None:
    """400 for a NUL in any argument: no text column takes one (PostgreSQL refuses it outright)."""
    for fields in (request.args, request.form):
        if any("\x00" in key or any("\x00" in value for value in fields.getlist(key)) for key in fields):
            raise bad_request("arguments must not contain NUL characters")


@bp.get(f"/discovery.{FMT}")
def discovery(fmt: str):
    """Service Discovery: the endpoint, its formats, changeset, contact and how to get a key."""
    endpoint = f"{_base_url()}{bp.url_prefix}/v2"
    return respond(fmt, "discovery", documents.discovery(_state().settings.open311, endpoint))


@bp.get(f"/v2/services.{FMT}")
def services(fmt: str):
    """GET services: every service type the phone offers too."""
    _check_jurisdiction()
    state = _state()
    with state.db.session() as session:
        types, departments = listing.lookups(session)
        listed = [documents.service(row, departments[row.department_id], state.settings.open311)
                  for row in sorted(types.values(), key=lambda row: row.id) if row.active]
    return respond(fmt, "services", listed)


@bp.get(f"/v2/services/<code>.{FMT}")
def service_definition(code: str, fmt: str):
    """GET services/{code}: the type's attributes (an empty list where it asks nothing more)."""
    _check_jurisdiction()
    state = _state()
    with state.db.session() as session:
        found = next((row for row in listing.lookups(session)[0].values() if row.code == code and row.active), None)
        if found is None:
            raise not_found(f"service_code {code[:40]!r} is not a service")
        document = documents.definition(found, state.settings.open311)
    return respond(fmt, "service_definition", document)


@bp.post(f"/v2/requests.{FMT}")
def create_request(fmt: str):
    """POST requests: open a case with an API key; the same POST again soon answers the same case."""
    state = _state()
    form = _form()
    with state.db.session() as session:
        case, created = intake.submit(session, form, state.settings.open311, state.settings.schedule, _now())
        department = listing.lookups(session)[1][case.department_id]
        notice = _words().notice(case.service_type, department)
        document = documents.created(case, notice, intake.one(form, "account_id"))
    return respond(fmt, "service_requests", [document], 201 if created else 200)


@bp.get(f"/v2/requests.{FMT}")
def list_requests(fmt: str):
    """GET requests: filters, the 90-day window, a page limit, newest first."""
    _check_jurisdiction()
    state = _state()
    words = _words()
    query = listing.parse_query(request.args, state.settings.open311, words.zone, _now())
    with state.db.session() as session:
        found = listing.find_requests(session, query)
        listed = _documents(found, words)
    return respond(fmt, "service_requests", listed)


@bp.get(f"/v2/requests/<number>.{FMT}")
def get_request(number: str, fmt: str):
    """GET requests/{id}: one case, as a list of one (the spec's shape)."""
    _check_jurisdiction()
    with _state().db.session() as session:
        listed = _documents(listing.find_request(session, number), _words())
    return respond(fmt, "service_requests", listed)


def _documents(found: listing.Found, words: documents.Words) -> list[dict]:
    extensions = request.args.get("extensions", "").lower() == "true"
    return [documents.service_request(case, found.types[case.service_type_id], found.departments[case.department_id],
                                      found.extras.get(case.id), words, extensions) for case in found.cases]


@bp.get("/v2/openapi.json")
def openapi():
    """The OpenAPI 3 description of this API."""
    return Response(_openapi_text(), content_type="application/json; charset=utf-8")


@cache
def _openapi_text() -> str:
    return json.dumps(json.loads(OPENAPI.read_text(encoding="utf-8")), ensure_ascii=False)


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(rest: str):
    """Anything else under /open311: 405 where the resource exists, 404 otherwise, in the format asked for."""
    adapter = current_app.url_map.bind("localhost")
    allowed = []
    for method in ("GET", "POST"):
        try:
            endpoint, _ = adapter.match(request.path, method=method)
        except HTTPException:
            continue
        if endpoint != "open311.unknown":
            allowed.append(method)
    if allowed:
        response = errors(format_of(request.path), 405, [(405, f"{request.method} is not allowed here; use "
                                                              f"{' or '.join(allowed)}")])
        response.headers["Allow"] = ", ".join(allowed)
        return response
    raise not_found(f"no Open311 resource at {request.path[:100]}: see /open311/discovery.xml")


@bp.errorhandler(Open311Error)
def open311_error(exc: Open311Error):
    return errors(format_of(request.path), exc.status, exc.problems)


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    status = exc.code or 400
    return errors(format_of(request.path), status, [(status, exc.description or exc.name)])


@bp.errorhandler(Exception)
def unexpected(exc: Exception):
    # The type only: a database error's text can carry the row, and with it a resident's details.
    log.error("open311: unhandled %s on %s %s", type(exc).__name__, request.method, request.path)
    return errors(format_of(request.path), 503, [(503, "The service is unavailable; try again shortly.")])
