"""Hartford 311 IVR.

`ivr.create_app` (and the rest of ivr.app) is imported on first use, not with the package: the `ivr` command
and gunicorn's "ivr:create_app()" then load Flask, SQLAlchemy and the flows only when they need them.
"""

from __future__ import annotations

from importlib import import_module


def __getattr__(name: str):
    """ivr.create_app, ivr.load_line, ivr.PROJECT_ROOT …: the application module's names, loaded on demand."""
    app = import_module(".app", __name__)
    try:
        return getattr(app, name)
    except AttributeError:
        raise AttributeError(f"module 'ivr' has no attribute {name!r}") from None
