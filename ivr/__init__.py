"""Hartford 311 IVR: the Flask application factory."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask, jsonify, request

from .config import PROJECT_ROOT, ConfigError, load_settings, merge_tables, secrets_from_env
from .core.engine import Engine, EngineSettings
from .core.flows import Flow, load_flow, validate
from .core.prompts import Catalog, load_catalog
from .db import Database
from .voice import actions
from .voice.services import LineConfig

BUILTIN_CONDITIONS = {"is_open", "is_emergency_closure", "is_holiday"}
BUILTIN_DIRECTORIES = {"departments"}


@dataclass
class LineState:
    """Everything loaded and validated at start-up, shared by all requests of a worker."""

    settings: dict
    catalog: Catalog
    flow: Flow
    engine: Engine
    line: LineConfig
    db: Database
    action_handlers: dict


def load_line(settings: dict, flows_dir: Path, prompts_dir: Path,
              secrets: dict | None = None) -> tuple[Catalog, Flow, Engine, LineConfig]:
    """Load and validate prompts, flows and config; raises with file and key named on any problem."""
    catalog = load_catalog(prompts_dir)
    flow = load_flow(flows_dir)
    validate(flow, catalog, actions=actions.names(),
             conditions=BUILTIN_CONDITIONS | actions.names("condition:"),
             directories=BUILTIN_DIRECTORIES | actions.names("directory:"))
    speech = settings.get("speech", {})
    words = tuple(w for lang_words in speech.get("emergency_words", {}).values() for w in lang_words)
    engine = Engine(flow, catalog, EngineSettings(max_attempts=int(speech.get("max_attempts", 3)),
                                                  timeout=int(speech.get("timeout", 8)),
                                                  max_failures_per_call=int(speech.get("max_failures_per_call", 2)),
                                                  emergency_words=words))
    try:
        line = LineConfig.from_settings(settings, catalog, secrets)
    except (KeyError, ValueError) as exc:
        raise ConfigError(f"config: {exc}") from exc
    return catalog, flow, engine, line


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: config, database, flows and prompts (validated), blueprints."""
    test_config = test_config or {}
    app = Flask(__name__, instance_path=str(PROJECT_ROOT / "instance"))
    settings = load_settings(test_config.get("CONFIG_DIR"))
    if test_config.get("SETTINGS"):
        settings = merge_tables(settings, test_config["SETTINGS"])
    secrets = secrets_from_env()
    app.config.update(
        SECRET_KEY=secrets["SECRET_KEY"] or os.urandom(24).hex(),
        TWILIO_AUTH_TOKEN=secrets["TWILIO_AUTH_TOKEN"],
        TWILIO_ACCOUNT_SID=secrets["TWILIO_ACCOUNT_SID"],
        DATABASE_URL=secrets["DATABASE_URL"] or f"sqlite:///{Path(app.instance_path) / 'ivr.db'}",
        PUBLIC_BASE_URL=settings.get("web", {}).get("public_base_url", ""),
        REQUIRE_AUTH_TOKEN=True,
        CLOCK=lambda: datetime.now(UTC),
    )
    app.config.update({k: v for k, v in test_config.items() if k not in ("CONFIG_DIR", "SETTINGS")})
    if app.config["REQUIRE_AUTH_TOKEN"] and not app.testing and not app.config["TWILIO_AUTH_TOKEN"]:
        raise ConfigError(
            "TWILIO_AUTH_TOKEN is not set: without it no Twilio request can be verified. "
            "Set it to your Twilio account's auth token (see README, 'Environment variables')."
        )
    if app.config["DATABASE_URL"].startswith("sqlite:///"):
        Path(app.config["DATABASE_URL"][len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)

    catalog, flow, engine, line = load_line(
        settings, Path(test_config.get("FLOWS_DIR", PROJECT_ROOT / "flows")),
        Path(test_config.get("PROMPTS_DIR", PROJECT_ROOT / "prompts")),
        {"TWILIO_ACCOUNT_SID": app.config["TWILIO_ACCOUNT_SID"], "TWILIO_AUTH_TOKEN": app.config["TWILIO_AUTH_TOKEN"]},
    )
    app.extensions["ivr"] = LineState(settings=settings, catalog=catalog, flow=flow, engine=engine, line=line,
                                      db=Database(app.config["DATABASE_URL"]),
                                      action_handlers=dict(actions.HANDLERS))

    hops = int(settings.get("web", {}).get("proxy_hops", 0) or 0)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)

    from .voice import bp as voice_bp

    app.register_blueprint(voice_bp)
    _register_error_handlers(app)

    @app.get("/healthz")
    def healthz():
        """Load-balancer health check."""
        return jsonify(status="ok")

    return app


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
