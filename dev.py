#!/usr/bin/env python3
"""Set up and run Hartford 311 on a fresh machine with only Python 3.11+.

    python3 dev.py serve [--port N] [--host H]   # virtualenv, install, migrate, load config, serve (SQLite)
    python3 dev.py test    # virtualenv, install, ruff, the whole test suite (pass pytest options after it)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("IVR_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
DEMO_TOKEN = "demo-auth-token-for-local-use-only"
STAMP = VENV / ".ivr-installed"


def run(*args: str, env: dict | None = None) -> None:
    """Run a command, stopping on failure."""
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], check=True, cwd=ROOT, env=env)


def ensure_venv() -> None:
    """Create the virtualenv and install the project with its test tools (again only when pyproject changes)."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py is what tells an old Python why it cannot run
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}")
    if not (BIN / "python").exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = (ROOT / "pyproject.toml").read_text()
    if not STAMP.exists() or STAMP.read_text() != wanted:
        run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
        run(BIN / "python", "-m", "pip", "install", "--quiet", "-e", ".[test]")
        STAMP.write_text(wanted)


def serve_address(extra: list[str]) -> tuple[str, str]:
    """The host and port `ivr serve` will bind, from its --host/--port options as passed on."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="5000")
    known, _ = parser.parse_known_args(extra)
    return known.host, known.port


def serve(extra: list[str]) -> None:
    """Migrate the database, load departments and service types, and start the development server."""
    env = dict(os.environ)
    if not env.get("TWILIO_AUTH_TOKEN"):
        env["TWILIO_AUTH_TOKEN"] = DEMO_TOKEN
        print(f"TWILIO_AUTH_TOKEN not set: using the demo token {DEMO_TOKEN!r} (simulated calls only).")
    # Production writes JSON lines for a log collector; a terminal reads plain ones better.
    env.setdefault("IVR_WEB__LOG_FORMAT", "text")
    run(BIN / "ivr", "db", "upgrade", env=env)
    run(BIN / "ivr", "sync-config", env=env)
    host, port = serve_address(extra)
    url = f"http://{host}:{port}"
    print(f"\nHartford 311 is answering at {url}/voice")
    print(f"Place a simulated call from another terminal:\n  TWILIO_AUTH_TOKEN={env['TWILIO_AUTH_TOKEN']} "
          f"{BIN / 'ivr'} call --url {url}\n", flush=True)
    os.execve(str(BIN / "ivr"), [str(BIN / "ivr"), "serve", *extra], env)


def test(extra: list[str]) -> None:
    """Lint, then run every test."""
    run(BIN / "ruff", "check", *[p for p in ("ivr", "tests", "bench", "dev.py") if (ROOT / p).exists()])
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)  # tests make their own databases; never point them at a real one
    # One pytest worker per core (pytest-xdist): each gets its own database, server and browser.
    run(BIN / "python", "-m", "pytest", "-n", "auto", *extra, env=env)


def main() -> None:
    """Dispatch `serve` or `test`."""
    commands = {"serve": serve, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    ensure_venv()
    try:
        commands[sys.argv[1]](sys.argv[2:])
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode)


if __name__ == "__main__":
    main()
