"""The supervisor's pages: the dashboard, the closure switch with its announcements, accounts, the audit log."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, render_template, request, url_for

from .. import announcements, closures
from ..models import STAFF_ROLES
from . import accounts, figures
from .auth import current_staff, database, now, role_required, rules
from .query_args import date_arg
from .security import staff_blueprint

bp = staff_blueprint("dashboard", __name__, "/supervisor")
DEFAULT_DAYS = 7
AUDIT_PAGE = 50
MESSAGE_LIMIT = announcements.LONGEST  # characters of an announcement, in each language


def _settings():
    return current_app.extensions["ivr"].settings


@bp.get("/")
@role_required("supervisor")
def index():
    """Charts and figures of the line and the departments, for a period of whole days."""
    zone = ZoneInfo(_settings().hours.timezone)
    today = now().astimezone(zone).date()
    last = date_arg("to") or today
    first = date_arg("from") or last - timedelta(days=DEFAULT_DAYS - 1)
    try:
        span = figures.period(first, last, zone)
    except ValueError as exc:
        abort(400, str(exc))
    with database().session() as session:
        board = figures.build(session, _settings(), span, now())
    return render_template("staff/dashboard/index.html", board=board, outcomes=figures.OUTCOMES)


# ---- the line: emergency closure, its announcement, and the information menu's announcement ----------------

@bp.get("/line")
@role_required("supervisor")
def line():
    """Whether the line is closed for an emergency, and what callers are told."""
    with database().session() as session:
        active = closures.active_closure(session)
        closure = None if active is None else {
            "since": active.started_at, "by": active.started_by,
            "message_en": active.message_en or "", "message_es": active.message_es or ""}
        announcement = announcements.current(session)
    return render_template("staff/dashboard/line.html", closure=closure, announcement=announcement,
                           configured=_settings().routing.announcement, limit=MESSAGE_LIMIT)


def _messages(prefix: str = "message") -> tuple[str, str]:
    """The announcement in English and Spanish from the form, trimmed and bounded."""
    english = request.form.get(f"{prefix}_en", "").strip()
    spanish = request.form.get(f"{prefix}_es", "").strip()
    if len(english) > MESSAGE_LIMIT or len(spanish) > MESSAGE_LIMIT:
        abort(400, f"an announcement may be at most {MESSAGE_LIMIT} characters")
    return english, spanish


@bp.post("/line/closure")
@role_required("supervisor")
def start_closure():
    """Close the line now (as `ivr closure start` does), or change the announcement of the closure in force."""
    user = current_staff()
    english, spanish = _messages()
    if bool(english) != bool(spanish):
        flash("Give the announcement in both English and Spanish, or in neither.", "error")
        return redirect(url_for("dashboard.line"))
    with database().session() as session:
        was_closed = closures.active_closure(session) is not None
        closures.start_closure(session, english, spanish, user.actor)
        action = "announcement_changed" if was_closed else "closure_started"
        accounts.audit(session, user.actor, action, now(), target="line",
                       detail=f"en: {english or '(none)'} | es: {spanish or '(none)'}")
    flash("The announcement is changed." if was_closed else
          "311 is closed for an emergency: callers hear the after-hours menu and the announcement.")
    return redirect(url_for("dashboard.line"))


@bp.post("/line/reopen")
@role_required("supervisor")
def end_closure():
    """End the emergency closure (as `ivr closure end` does): regular hours apply again."""
    user = current_staff()
    with database().session() as session:
        ended = closures.end_closure(session, user.actor)
        if ended:
            accounts.audit(session, user.actor, "closure_ended", now(), target="line")
    flash("The emergency closure is over; regular hours apply." if ended else "No emergency closure was in force.")
    return redirect(url_for("dashboard.line"))


@bp.post("/line/announcement")
@role_required("supervisor")
def set_announcement():
    """Set the information menu's announcement (as `ivr announcement set` does); audited."""
    english, spanish = _messages("announcement")
    with database().session() as session:
        try:
            announcements.set_announcement(session, english, spanish, current_staff().actor, now())
        except announcements.AnnouncementError as exc:
            flash(f"Not set: {exc}.", "error")
            return redirect(url_for("dashboard.line"))
    flash("The announcement is set: callers in the information menu hear it in their language.")
    return redirect(url_for("dashboard.line"))


@bp.post("/line/announcement/clear")
@role_required("supervisor")
def clear_announcement():
    """Clear the information menu's announcement (as `ivr announcement clear` does); config's default applies."""
    with database().session() as session:
        cleared = announcements.clear_announcement(session, current_staff().actor, now())
    flash("The announcement is cleared." if cleared else "No announcement was set.")
    return redirect(url_for("dashboard.line"))


# ---- accounts ------------------------------------------------------------------------------------------

@bp.get("/accounts")
@role_required("supervisor")
def accounts_page():
    """Every account, a form to add one, and the changes a supervisor can make."""
    with database().session() as session:
        rows = [(account, accounts.is_locked(account, now())) for account in accounts.listing(session)]
        departments = [(dept.code, dept.name_en) for dept in sorted(_settings().departments, key=lambda d: d.name_en)]
        return render_template("staff/dashboard/accounts.html", rows=rows, roles=STAFF_ROLES,
                               departments=departments, min_length=rules().min_password_length)


@bp.post("/accounts")
@role_required("supervisor")
def add_account():
    """Add an account with a password the supervisor typed or one made up and shown once."""
    form = request.form
    password = form.get("password", "") or accounts.new_password()
    department = form.get("department") or None if form.get("role") == "department" else None
    try:
        hashed = accounts.hash_password(password, rules())  # before the session: hashing takes a while
        with database().session() as session:
            accounts.create(session, form.get("username", ""), form.get("role", ""), department, hashed,
                            current_staff().actor, now())
    except accounts.AccountError as exc:
        flash(f"Not added: {exc}.", "error")
        return redirect(url_for("dashboard.accounts_page"))
    flash(f"Added {form.get('username', '').strip().lower()}." +
          ("" if form.get("password") else f" Their password, shown only now: {password}"))
    return redirect(url_for("dashboard.accounts_page"))


@bp.post("/accounts/<username>/<change>")
@role_required("supervisor")
def change_account(username: str, change: str):
    """Disable, enable, unlock an account, or give it a new random password (shown once)."""
    user = current_staff()
    if change not in ("disable", "enable", "unlock", "reset"):
        abort(404)
    if username == user.username and change == "disable":
        flash("You cannot disable your own account.", "error")
        return redirect(url_for("dashboard.accounts_page"))
    password = accounts.new_password()
    hashed = accounts.hash_password(password, rules()) if change == "reset" else ""
    with database().session() as session:
        account = accounts.find(session, username)
        if account is None:
            abort(404, f"no account {username!r}")
        if change in ("disable", "enable"):
            accounts.set_active(session, account, change == "enable", user.actor, now())
        elif change == "unlock":
            accounts.unlock(session, account, user.actor, now())
        else:
            accounts.reset_password(session, account, hashed, user.actor, now())
    done = {"disable": "disabled", "enable": "enabled", "unlock": "unlocked",
            "reset": f"given a new password, shown only now: {password}"}[change]
    flash(f"{username} {done}.")
    return redirect(url_for("dashboard.accounts_page"))


# ---- the staff audit log -------------------------------------------------------------------------------

@bp.get("/audit")
@role_required("supervisor")
def audit():
    """Every staff action, newest first, a page at a time."""
    page = request.args.get("page", "1")
    if not page.isdigit() or int(page) < 1:
        abort(400, "page must be a whole number from 1")
    number = int(page)
    with database().session() as session:
        events = accounts.recent_audit(session, AUDIT_PAGE + 1, (number - 1) * AUDIT_PAGE)
    return render_template("staff/dashboard/audit.html", events=events[:AUDIT_PAGE], page=number,
                           more=len(events) > AUDIT_PAGE)
