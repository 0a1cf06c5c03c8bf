"""Signing in and out, who is signed in, and the role check every staff view carries."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

from flask import abort, current_app, flash, g, redirect, render_template, request, session, url_for

from . import accounts
from .accounts import StaffUser
from .security import staff_blueprint

bp = staff_blueprint("staff", __name__)
SESSION_KEY = "staff"
REFUSALS = {
    # One message for a wrong name, a wrong password and a locked account: none tells a guesser which it was.
    "wrong": (401, "Wrong username or password. After {failures} wrong tries in a row an account is locked "
                   "for {minutes} minutes; a supervisor can unlock it."),
    "locked": (401, "Wrong username or password. After {failures} wrong tries in a row an account is locked "
                    "for {minutes} minutes; a supervisor can unlock it."),
    "throttled": (429, "Too many failed sign-ins from this computer. Wait {window} minutes and try again."),
}


def now() -> datetime:
    """The app's clock (tests freeze it)."""
    return current_app.config["CLOCK"]()


def database():
    """The app's database (sessions that commit on success)."""
    return current_app.extensions["ivr"].db


def rules():
    """config/staff.toml."""
    return current_app.extensions["ivr"].settings.staff


def current_staff() -> StaffUser | None:
    """The signed-in person for this request, or None."""
    if "staff_user" not in g:
        g.staff_user = _from_session()
    return g.staff_user


def _from_session() -> StaffUser | None:
    """The session's account, if it is still active, unchanged and within the sign-in's lifetime."""
    stored = session.get(SESSION_KEY)
    if not isinstance(stored, dict):
        return None
    try:
        since = datetime.fromisoformat(stored["since"])
        account_id, epoch = int(stored["id"]), int(stored["epoch"])
    except (KeyError, TypeError, ValueError):
        return None
    if now() - since > timedelta(hours=rules().session_hours):
        return None
    with database().session() as db:
        return accounts.signed_in(db, account_id, epoch)


def role_required(*roles: str):
    """Only signed-in staff with one of `roles` (supervisors count as operators): else sign-in, or 403."""

    def decorate(view):
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            user = current_staff()
            if user is None:
                return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))
            if not user.has_role(*roles):
                abort(403, "Your account's role does not include this page.")
            return view(*args, **kwargs)

        guarded.staff_roles = roles  # read by the test that walks the URL map
        return guarded

    return decorate


def _safe_next(target: str | None) -> str:
    """Where to go after signing in: only back into the console, never to another site."""
    if target and target.startswith("/staff") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("staff.home")


@bp.get("/login")
def login():
    """The sign-in form."""
    if current_staff() is not None:
        return redirect(_safe_next(request.args.get("next")))
    return render_template("staff/login.html", next=request.args.get("next", ""), error=None)


@bp.post("/login")
def login_submit():
    """Check the password; lock and throttle as config/staff.toml says."""
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    limits, address = rules(), request.remote_addr
    with database().session() as db:
        attempt = accounts.begin_sign_in(db, username, address, limits, now())
    if attempt.refusal:
        result = accounts.SignIn(None, attempt.refusal)
    else:
        # The slow password check holds no database connection.
        matched = accounts.password_matches(attempt, password)
        new_hash = accounts.new_hash_if_outdated(attempt, password) if matched else None
        with database().session() as db:
            result = accounts.finish_sign_in(db, attempt, matched, new_hash, address, limits, now())
    if result.user is None:
        status, message = REFUSALS[result.refusal]
        error = message.format(failures=limits.lockout_after_failures, minutes=limits.lockout_minutes,
                               window=limits.address_window_minutes)
        return render_template("staff/login.html", next=request.form.get("next", ""), error=error,
                               username=username[:60]), status
    # A fresh session (and so a fresh CSRF token) at every sign-in: nothing from before carries over.
    session.clear()
    session.permanent = True
    session[SESSION_KEY] = {"id": result.user.id, "epoch": result.user.epoch, "since": now().isoformat()}
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
def logout():
    """Sign out (a POST with the token, so no other site can sign staff out)."""
    user = current_staff()
    if user is not None:
        with database().session() as db:
            accounts.audit(db, user.actor, "logout", now(), address=request.remote_addr)
    session.clear()
    flash("You are signed out.")
    return redirect(url_for("staff.login"))


@bp.get("/")
@role_required("operator", "department", "supervisor")
def home():
    """The pages this person's role opens."""
    return render_template("staff/home.html")
