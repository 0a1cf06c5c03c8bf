"""Named side effects and questions that flows refer to (case intake and lookup)."""

from __future__ import annotations

# name -> handler(services, ctx) -> ActionResult; "condition:NAME" -> handler(services, ctx) -> bool;
# "directory:NAME" -> handler(services) -> list[DirectoryEntry]; "on_call_end" -> hook(session, call).
HANDLERS: dict = {}


def names(prefix: str = "") -> set[str]:
    """Registered names of one sort: actions (no prefix), 'condition:' or 'directory:'."""
    if prefix:
        return {name[len(prefix):] for name in HANDLERS if name.startswith(prefix)}
    return {name for name in HANDLERS if ":" not in name and name != "on_call_end"}
