"""Readiness: /readyz answers 200 only when the database answers quickly and its schema is this release's."""

from __future__ import annotations

import logging
import threading

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from .db import Database, alembic_config

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)

PROBE_SECONDS = 1.0  # a load balancer probes often; a database slower than this is not fit to take calls
UNREACHABLE = "database unreachable"
BEHIND = "migrations behind: run ivr db upgrade"


class Readiness:
    """Probes the database with a hard time bound; the migration head is read once, at start-up."""

    def __init__(self, database: Database, seconds: float = PROBE_SECONDS):
        self.database = database
        self.seconds = seconds
        script = ScriptDirectory.from_config(alembic_config("sqlite://"))
        self.head = script.get_current_head()
        self.known = {revision.revision for revision in script.walk_revisions()}
        self._probing: threading.Thread | None = None
        self._lock = threading.Lock()

    def check(self) -> str | None:
        """None when ready, otherwise why not; never takes much longer than `seconds`."""
        result: list[str | None] = []
        with self._lock:
            if self._probing is not None and self._probing.is_alive():
                # The last probe still hangs: answer at once rather than pile up threads and connections.
                return UNREACHABLE
            # A daemon thread, so that a probe stuck in connect() bounds the answer, not the process's exit.
            self._probing = threading.Thread(target=lambda: result.append(self._probe()), daemon=True,
                                             name="readyz-probe")
            self._probing.start()
            probing = self._probing
        probing.join(self.seconds)
        return result[0] if result else UNREACHABLE

    def _probe(self) -> str | None:
        """Run the trivial query and compare the schema revision; any failure is a reason, never a raise."""
        try:
            with self.database.engine.connect() as conn:
                if conn.dialect.name == "postgresql":
                    # The server gives up too, so a slow probe does not keep holding a pooled connection.
                    conn.execute(text(f"SET LOCAL statement_timeout = {round(self.seconds * 1000)}"))
                conn.execute(text("SELECT 1"))
                return self._schema_reason(MigrationContext.configure(conn).get_current_revision())
        except Exception as exc:  # a probe must answer, whatever the database did
            log.warning("readiness probe failed: %s", type(exc).__name__)
            return UNREACHABLE

    def _schema_reason(self, revision: str | None) -> str | None:
        """None at the head; otherwise what to do about the revision the database is at."""
        if revision == self.head:
            return None
        if revision is not None and revision not in self.known:
            # Only a rolled-back release meets a newer schema: upgrading will not help, restoring will.
            return f"schema at revision {revision}, unknown to this release"
        return BEHIND


@bp.get("/readyz")
def readyz():
    """Load-balancer readiness: the database answers within a second and is migrated to this release's head."""
    reason = current_app.extensions["readiness"].check()
    if reason is None:
        return jsonify(status="ready")
    return jsonify(status="unavailable", reason=reason), 503


def install(app, database: Database) -> None:
    """Register /readyz for the app's database."""
    app.extensions["readiness"] = Readiness(database)
    app.register_blueprint(bp)
