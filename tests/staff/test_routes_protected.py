"""The signature meta-test's counterpart: no staff route without sign-in, no state change without the CSRF token."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from ivr.models import Closure, StaffAccount

# Routes outside the staff sign-in: Twilio's voice and SMS webhooks (signed), the public Open311 API (its own
# keys), health probes, /metrics (its own bearer token), the stylesheet, and signing in and out (which still
# need the CSRF token to POST).
PUBLIC_BLUEPRINTS = {"voice", "sms", "open311", "health", "metrics"}
PUBLIC_ENDPOINTS = {"static", "healthz", "staff.login", "staff.login_submit", "staff.logout"}
CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
POST_FORM = re.compile(r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", re.DOTALL | re.IGNORECASE)
SAMPLE = {"integer": "1", "float": "1.0", "uuid": "00000000-0000-0000-0000-000000000000"}  # else "x"


def is_public(rule) -> bool:
    return rule.endpoint in PUBLIC_ENDPOINTS or rule.endpoint.split(".")[0] in PUBLIC_BLUEPRINTS


def sample_url(rule) -> str:
    """The rule's URL with a placeholder for each argument."""
    converters = {name: type(conv).__name__.replace("Converter", "").lower()
                  for name, conv in rule._converters.items()}
    url = rule.rule
    for name, kind in converters.items():
        url = re.sub(rf"<(?:[^:<>]+:)?{name}>", SAMPLE.get(kind, "x"), url)
    return url


def guarded_rules(app) -> list:
    return [rule for rule in app.url_map.iter_rules() if not is_public(rule)]


def unguarded(app) -> list[str]:
    """Routes that are not public by design and either lack @role_required or answer without sign-in."""
    problems = []
    client = app.test_client()
    for rule in guarded_rules(app):
        if not rule.rule.startswith("/staff/"):
            problems.append(f"{rule.rule} is neither a staff page nor known to be public")
        if not getattr(app.view_functions[rule.endpoint], "staff_roles", None):
            problems.append(f"{rule.rule} ({rule.endpoint}) has no @role_required")
        url = sample_url(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            # A POST without a session has no token either: it must be refused whatever the reason.
            answer = client.open(url, method=method)
            refused = answer.status_code == 302 and answer.headers["Location"].startswith("/staff/login?next=")
            if not refused and not (method in CHANGING and answer.status_code == 400):
                problems.append(f"{method} {url} answered {answer.status_code} without sign-in")
    return problems


def test_no_staff_route_answers_without_sign_in(app):
    assert len(guarded_rules(app)) >= 8, "the walk found too few staff routes to mean anything"
    assert unguarded(app) == []


def test_the_walk_finds_a_page_someone_forgot_to_guard(app):
    from ivr.staff.security import staff_blueprint

    leaky = staff_blueprint("leaky", __name__, "/leaky")
    leaky.add_url_rule("/<int:number>", "page", lambda number: "secret")
    app.add_url_rule("/reports", "reports", lambda: "secret")
    app.register_blueprint(leaky)
    assert unguarded(app) == ["/reports is neither a staff page nor known to be public",
                              "/reports (reports) has no @role_required", "GET /reports answered 200 without sign-in",
                              "/staff/leaky/<int:number> (leaky.page) has no @role_required",
                              "GET /staff/leaky/1 answered 200 without sign-in"]


def posts_without_token(app, client) -> list[str]:
    """State-changing routes (webhooks and the API aside) that do not answer 400 'CSRF' without a valid token."""
    accepted = []
    for rule in app.url_map.iter_rules():
        if not rule.methods & CHANGING or rule.endpoint.split(".")[0] in PUBLIC_BLUEPRINTS:
            continue
        url = sample_url(rule)
        for data in ({}, {"csrf_token": "forged"}):
            answer = client.post(url, data={**data, "message_en": "x", "message_es": "x", "username": "intruder",
                                            "role": "supervisor", "password": "p" * 20})
            if answer.status_code != 400 or "CSRF" not in answer.get_data(as_text=True):
                accepted.append(f"POST {url} with {'a forged token' if data else 'no token'}: {answer.status_code}")
    return accepted


def test_no_form_accepts_a_post_without_the_csrf_token_even_from_a_supervisor(app, db, staff_client):
    supervisor = staff_client("supervisor")
    posts = {rule.endpoint for rule in app.url_map.iter_rules() if rule.methods & CHANGING}
    assert {"staff.login_submit", "staff.logout", "dashboard.start_closure"} <= posts
    before = db.scalar(select(func.count()).select_from(StaffAccount))
    assert posts_without_token(app, supervisor) == []
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Closure)) == 0
    assert db.scalar(select(func.count()).select_from(StaffAccount)) == before
    assert supervisor.get("/staff/").status_code == 200, "the refused logout must not have signed anyone out"


def test_the_walk_finds_a_form_without_csrf(app, staff_client):
    from flask import Blueprint

    from ivr.staff.auth import role_required

    # A blueprint made without staff_blueprint() has no CSRF check.
    plain = Blueprint("plain", __name__, url_prefix="/staff/plain")
    plain.add_url_rule("/", "change", role_required("supervisor")(lambda: "changed"), methods=["POST"])
    app.register_blueprint(plain)
    assert posts_without_token(app, staff_client("supervisor")) == [
        "POST /staff/plain/ with no token: 200", "POST /staff/plain/ with a forged token: 200"]


@pytest.mark.parametrize("role", ["operator", "department", "supervisor"])
def test_every_post_form_on_the_pages_a_role_opens_carries_the_token(app, staff_client, role):
    client = staff_client(role, "dpw" if role == "department" else None)
    pages = [sample_url(rule) for rule in guarded_rules(app) if "GET" in rule.methods and not rule.arguments]
    seen = 0
    for url in pages:
        answer = client.get(url)
        if answer.status_code != 200 or answer.mimetype != "text/html":
            continue
        for form in POST_FORM.findall(answer.get_data(as_text=True)):
            seen += 1
            assert 'name="csrf_token"' in form, f"a form on {url} posts without the CSRF token"
    assert seen >= 1  # at least the sign-out button
