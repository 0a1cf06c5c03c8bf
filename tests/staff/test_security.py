"""Cookies, the Content-Security-Policy and CSRF: the staff console's protections, and webhooks left alone."""

from __future__ import annotations

import pytest

from tests.conftest import STAFF_PASSWORD, form_token


def session_cookie_header(response) -> str:
    [cookie] = [value for value in response.headers.getlist("Set-Cookie") if value.startswith("ivr_staff=")]
    return cookie


def signed_in_response(app, staff_account):
    username, _ = staff_account("operator")
    client = app.test_client()
    return client.post("/staff/login", data={"username": username, "password": STAFF_PASSWORD,
                                             "csrf_token": form_token(client)})


def test_the_session_cookie_is_httponly_and_samesite_lax_and_not_secure_over_plain_http(app, staff_account):
    cookie = session_cookie_header(signed_in_response(app, staff_account))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # a developer's http://127.0.0.1 would otherwise never keep the session


@pytest.mark.parametrize("settings", [{"web": {"public_base_url": "https://311.hartford.gov"}},
                                      {"staff": {"secure_cookies": "always"}}])
def test_the_session_cookie_is_secure_behind_tls_or_when_config_says(make_app, settings):
    app = make_app(settings)
    from ivr.staff import accounts

    state = app.extensions["ivr"]
    with state.db.session() as session:
        accounts.create(session, "tls", "operator", None, accounts.hash_password(STAFF_PASSWORD, state.settings.staff),
                        "test", app.config["CLOCK"]())
    client = app.test_client()
    # Over https Flask-WTF also wants a same-site Referer (browsers send it: the policy is same-origin).
    answer = client.post("/staff/login", base_url="https://localhost",
                         headers={"Referer": "https://localhost/staff/login"},
                         data={"username": "tls", "password": STAFF_PASSWORD,
                               "csrf_token": form_token(client, "https://localhost/staff/login")})
    assert "Secure" in session_cookie_header(answer)


def test_never_secure_cookies_when_config_says_never(make_app):
    app = make_app({"web": {"public_base_url": "https://311.hartford.gov"}, "staff": {"secure_cookies": "never"}})
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_staff_pages_carry_a_script_free_policy_and_no_cache(app, staff_client):
    for client, url in ((app.test_client(), "/staff/login"), (staff_client("supervisor"), "/staff/supervisor/")):
        answer = client.get(url)
        assert answer.status_code == 200
        policy = answer.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "script-src" not in policy  # so no script from anywhere
        assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
        assert answer.headers["Cache-Control"] == "no-store"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert "<script" not in answer.get_data(as_text=True)
        assert " style=" not in answer.get_data(as_text=True)


def test_error_pages_under_staff_carry_the_policy_too(app, staff_client):
    answer = staff_client("operator").get("/staff/supervisor/")
    assert answer.status_code == 403 and "Content-Security-Policy" in answer.headers


def test_webhooks_get_no_staff_headers_no_cookie_and_no_csrf_check(app, phone):
    call = phone()
    call.press("1")
    assert call.heard()  # the signed webhooks answered without any CSRF token
    answer = app.test_client().get("/healthz")
    assert "Content-Security-Policy" not in answer.headers and not answer.headers.getlist("Set-Cookie")


def test_the_login_form_itself_needs_the_token(app, staff_account):
    username, password = staff_account("operator")
    answer = app.test_client().post("/staff/login", data={"username": username, "password": password})
    assert answer.status_code == 400 and "CSRF" in answer.get_data(as_text=True)


def test_a_token_from_another_session_is_refused(app, staff_account):
    username, password = staff_account("operator")
    stolen = form_token(app.test_client())
    answer = app.test_client().post("/staff/login", data={"username": username, "password": password,
                                                          "csrf_token": stolen})
    assert answer.status_code == 400
