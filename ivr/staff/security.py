"""What keeps the staff console safe: CSRF on every staff form, a strict Content-Security-Policy, cookies."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Flask, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import HTTPException

csrf = CSRFProtect()
STAFF_PREFIX = "/staff"
# No script at all, no inline style: the console is plain server-rendered HTML and one stylesheet. Charts are
# SVG images in data: URLs (an image document runs no script, whatever it holds).
PAGE_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
               "frame-ancestors 'none'; base-uri 'none'")
STAFF_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",  # case pages carry callers' details: never kept by a shared browser cache
}


def staff_blueprint(name: str, import_name: str, url_prefix: str = "") -> Blueprint:
    """A blueprint under /staff whose POSTs must carry the CSRF token and whose errors are staff pages."""
    bp = Blueprint(name, import_name, url_prefix=STAFF_PREFIX + url_prefix)
    bp.before_request(_check_csrf)
    bp.register_error_handler(HTTPException, error_page)
    return bp


def _check_csrf() -> None:
    """Refuse (400) a state-changing request without this session's token."""
    csrf.protect()


def error_page(exc: HTTPException):
    """A staff-styled error page (the app's own handler answers JSON, for webhooks and APIs)."""
    code = exc.code or 500
    return render_template("staff/error.html", code=code, name=exc.name, description=exc.description), code


def install(app: Flask) -> None:
    """Cookies, CSRF (checked only by staff blueprints: webhooks are signed instead) and response headers."""
    rules = app.extensions["ivr"].settings.staff
    public = app.extensions["ivr"].settings.web.public_base_url
    secure = rules.secure_cookies == "always" or (rules.secure_cookies == "auto" and public.startswith("https://"))
    app.config.update(
        SESSION_COOKIE_NAME="ivr_staff",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=rules.session_hours),
        # Checked by the staff blueprints' own hook; Twilio's webhooks and API clients carry no token.
        WTF_CSRF_CHECK_DEFAULT=False,
        # The token lives as long as the sign-in: a form left open over lunch still submits.
        WTF_CSRF_TIME_LIMIT=None,
    )
    csrf.init_app(app)
    app.session_interface = CookieSessions()
    app.after_request(_staff_headers)


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, opened without building a signer for a request that sends no cookie.

    Flask opens the session of every request; Twilio's webhooks and API clients never send one, and building
    the signer was a measurable part of a call turn. What a request with the cookie gets is unchanged.
    """

    def open_session(self, app, request):
        """An empty session when there is no cookie (as Flask's own answer then); Flask's otherwise."""
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def _staff_headers(response):
    """Every answer under /staff gets the policy and the no-cache headers."""
    if request.path.startswith(STAFF_PREFIX):
        response.headers.setdefault("Content-Security-Policy", PAGE_POLICY)
        for header, value in STAFF_HEADERS.items():
            response.headers.setdefault(header, value)
    elif request.path.startswith("/static/"):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response
