"""The Flask application factory: settings, flows and prompts, database, blueprints."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask, current_app, jsonify, request
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import RequestEntityTooLarge

from . import cases, health, logs, metrics, privacy, staff
from .announcements import AnnouncementCache
from .closures import ClosureCache
from .core.engine import Engine
from .core.flows import Flow, load_flow, validate
from .core.prompts import Catalog, Voice, load_catalog
from .db import Database
from .models import ServiceType
from .settings import PROJECT_ROOT, ConfigError, Secrets, Settings
from .settings import load as load_settings
from .voice import actions
from .voice.services import LineConfig

BUILTIN_CONDITIONS = {"is_open", "is_emergency_closure", "is_holiday"}
BUILTIN_DIRECTORIES = {"departments"}


@dataclass
class LineState:
    """Everything loaded and validated at start-up, shared by all requests of a worker."""

    settings: Settings
    catalog: Catalog
    flow: Flow
    engine: Engine
    line: LineConfig
    db: Database
    action_handlers: dict
    closure_cache: ClosureCache
    announcement_cache: AnnouncementCache


def load_line(settings: Settings, flows_dir: Path, prompts_dir: Path,
              secrets: Secrets) -> tuple[Catalog, Flow, Engine, LineConfig]:
    """Load and validate prompts, flows and config; raises with file and key named on any problem."""
    offered = settings.languages.offered
    catalog = load_catalog(prompts_dir, offered={code: Voice(settings.languages.voices[code].voice,
                                                             settings.languages.voices[code].language)
                                                 for code in offered})
    flow = load_flow(flows_dir)
    # Built first: the keys config gives directory entries are checked against the menus' own.
    line = LineConfig.from_settings(settings, catalog, secrets)
    entries = {"departments": line.departments, "service_types": line.service_types}
    validate(flow, catalog, actions=actions.names(),
             conditions=BUILTIN_CONDITIONS | actions.names("condition:"),
             directories={name: tuple(entry.digits for entry in entries.get(name, ()))
                          for name in BUILTIN_DIRECTORIES | actions.names("directory:")})
    engine = Engine(flow, catalog, settings.speech)
    return catalog, flow, engine, line


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: settings, flows and prompts (validated), database (checked against config), blueprints."""
    test_config = test_config or {}
    # Named "ivr", the package: its logger is the parent of every module's, and templates/ and static/ sit beside it.
    app = Flask("ivr", instance_path=str(PROJECT_ROOT / "instance"))
    settings = load_settings(test_config.get("CONFIG_DIR"), overrides=test_config.get("SETTINGS"))
    _configure(app, settings, Secrets.from_env(), test_config)
    catalog, flow, engine, line = load_line(
        settings, Path(test_config.get("FLOWS_DIR", PROJECT_ROOT / "flows")),
        Path(test_config.get("PROMPTS_DIR", PROJECT_ROOT / "prompts")),
        Secrets(twilio_auth_token=app.config["TWILIO_AUTH_TOKEN"], twilio_account_sid=app.config["TWILIO_ACCOUNT_SID"],
                secret_key=None, database_url=None, metrics_token=None),
    )
    # Web requests answer callers and staff within Twilio's 15 s: the [database] time limits bound them. A command
    # (a purge over a million calls, a year's report) may take longer than a caller's turn ever should.
    database = Database(app.config["DATABASE_URL"], settings.database if app.config["DATABASE_TIME_LIMITS"] else None)
    if app.config["CHECK_DATABASE"]:
        require_database_matches_config(database, settings, app.logger)
    app.extensions["ivr"] = LineState(settings=settings, catalog=catalog, flow=flow, engine=engine, line=line,
                                      db=database, action_handlers=dict(actions.HANDLERS),
                                      closure_cache=ClosureCache(settings.database.closure_cache_seconds),
                                      announcement_cache=AnnouncementCache(settings.database.closure_cache_seconds))

    hops = settings.web.proxy_hops
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)

    from .voice import bp as voice_bp

    app.register_blueprint(voice_bp)
    from .voice.sms_status import bp as sms_bp

    app.register_blueprint(sms_bp)  # status by text message, signed like /voice
    from .open311 import bp as open311_bp

    app.register_blueprint(open311_bp)  # key-authenticated API: no CSRF (only staff blueprints check it)
    app.before_request(_refuse_too_many_fields)
    logs.install(app, settings.web.log_format)
    metrics.install(app)
    # Phone numbers never reach a log: the app's handlers and the root's (gunicorn, journald) mask them.
    privacy.install(app.logger, logging.getLogger())
    _register_error_handlers(app)

    @app.get("/healthz")
    def healthz():
        """Liveness: the process is up with valid settings; the database is /readyz's business."""
        return jsonify(status="ok")

    health.install(app, database)
    staff.install(app)

    return app


def _configure(app: Flask, settings: Settings, secrets: Secrets, test_config: dict) -> None:
    """Flask config from the secrets and settings, then the test's own values; refuse to run unverifiable."""
    app.config.update(
        SECRET_KEY=secrets.secret_key or os.urandom(24).hex(),
        TWILIO_AUTH_TOKEN=secrets.twilio_auth_token,
        TWILIO_ACCOUNT_SID=secrets.twilio_account_sid,
        METRICS_TOKEN=secrets.metrics_token,
        DATABASE_URL=secrets.database_url or f"sqlite:///{Path(app.instance_path) / 'ivr.db'}",
        PUBLIC_BASE_URL=settings.web.public_base_url,
        # Checked by werkzeug before the body is read or parsed, so before any signature check.
        MAX_CONTENT_LENGTH=settings.web.max_content_length,
        MAX_FORM_PARTS=settings.web.max_form_parts,
        MAX_FORM_MEMORY_SIZE=settings.web.max_form_memory_size,
        REQUIRE_AUTH_TOKEN=True,
        CHECK_DATABASE=True,
        DATABASE_TIME_LIMITS=True,
        CLOCK=lambda: datetime.now(UTC),
    )
    app.config.update({k: v for k, v in test_config.items() if k not in ("CONFIG_DIR", "SETTINGS")})
    if app.config["REQUIRE_AUTH_TOKEN"] and not app.testing and not app.config["TWILIO_AUTH_TOKEN"]:
        raise ConfigError(
            "TWILIO_AUTH_TOKEN is not set: without it no Twilio request can be verified. "
            "Set it to your Twilio account's auth token (see README, 'Configuration')."
        )
    if app.config["DATABASE_URL"].startswith("sqlite:///"):
        Path(app.config["DATABASE_URL"][len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)


def require_database_matches_config(database: Database, settings: Settings, log: logging.Logger) -> None:
    """Refuse to start when config/ names service types or departments the database lacks.

    Otherwise a caller could go through a whole report and only then hear that it cannot be saved. A database
    that cannot be reached or is not migrated yet is only logged: the line still answers with its fallback.
    """
    try:
        with database.session() as session:
            if not inspect(session.connection()).has_table(ServiceType.__tablename__):
                log.warning("the database has no tables yet: run `ivr db upgrade` and `ivr sync-config`")
                return
            problems = cases.config_differences(session, settings)
    except SQLAlchemyError as exc:
        log.warning("database not reachable at start-up (%s); config/ not compared with it", type(exc).__name__)
        return
    finally:
        # No connection outlives start-up: gunicorn may fork workers from this process after it.
        database.dispose()
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise ConfigError(f"config/ and the database differ: {shown}. "
                          "Run `ivr sync-config` (the release step does) before starting the line.")


def _refuse_too_many_fields() -> None:
    """413 for a urlencoded body with more fields than MAX_FORM_PARTS, counted before it is parsed."""
    # werkzeug applies MAX_FORM_PARTS to multipart bodies only; Twilio posts urlencoded ones.
    if request.mimetype != "application/x-www-form-urlencoded":
        return
    limit = current_app.config["MAX_FORM_PARTS"]
    # get_data enforces MAX_CONTENT_LENGTH and caches the body, which the form parser then reuses.
    if limit is not None and request.get_data(cache=True).count(b"&") >= limit:
        raise RequestEntityTooLarge(f"more than {limit} form fields")


def _register_error_handlers(app: Flask) -> None:
    """Clear 4xx answers, and never a stack trace."""
    from werkzeug.exceptions import HTTPException

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return jsonify(error=exc.name, message=exc.description), exc.code

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return jsonify(error="Internal Server Error", message="Something went wrong; it has been logged."), 503
