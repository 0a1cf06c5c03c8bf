"""Query-string values the staff pages read, checked once: a bad one is a 400 naming the field."""

from __future__ import annotations

from datetime import date

from flask import abort, request


def date_arg(name: str) -> date | None:
    """A YYYY-MM-DD query argument, None when absent, or a 400 saying what was wrong."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        abort(400, f"{name} must be a date written YYYY-MM-DD, got {raw[:20]!r}")
