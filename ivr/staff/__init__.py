"""The staff console (/staff): operators, department staff and supervisors, server-rendered."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, url_for

ROLES = ("operator", "department", "supervisor")


@dataclass(frozen=True)
class NavItem:
    """A page in the console's navigation and the roles that see it (supervisors see operators' pages too)."""

    endpoint: str
    label: str
    roles: tuple[str, ...]


# The navigation, in order. A page appears once its blueprint is registered below.
NAV: list[NavItem] = [
    NavItem("staff.home", "Home", ROLES),
    NavItem("desk.index", "Operator's desk", ("operator",)),
    NavItem("queue.index", "Queues", ROLES),
    NavItem("dashboard.index", "Dashboard", ("supervisor",)),
    NavItem("dashboard.line", "Closure and announcements", ("supervisor",)),
    NavItem("dashboard.accounts_page", "Accounts", ("supervisor",)),
    NavItem("dashboard.audit", "Staff audit log", ("supervisor",)),
]


def install(app: Flask) -> None:
    """Register the console's blueprints, its security and its template helpers."""
    from . import auth, case_page, dashboard, desk, queue, security

    security.install(app)
    for blueprint in (auth.bp, dashboard.bp, desk.bp, queue.bp, case_page.bp):
        app.register_blueprint(blueprint)

    @app.context_processor
    def staff_context():
        user = auth.current_staff() if _in_console() else None
        return {"staff_user": user, "staff_nav": _nav_for(app, user)}


def _in_console() -> bool:
    """Only staff pages look at the staff session (webhooks never touch it)."""
    from flask import request

    return request.path.startswith("/staff")


def _nav_for(app: Flask, user) -> list[tuple[str, str]]:
    """(url, label) of each page the user's role opens."""
    if user is None:
        return []
    return [(url_for(item.endpoint), item.label) for item in NAV
            if item.endpoint in app.view_functions and user.has_role(*item.roles)]
