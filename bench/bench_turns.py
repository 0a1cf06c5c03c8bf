"""How long one call turn takes, as a ratio to a bare signed Flask/TwiML round trip measured in the same run.

    .venv/bin/python bench/bench_turns.py [--calls 200] [--database-url sqlite:///...]

The baseline is the least any webhook can cost here: signature check + a one-verb VoiceResponse, through the
same test client. The figures that matter are the ratios; absolute times move with this shared machine.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import tracemalloc
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask, Response
from twilio.twiml.voice_response import VoiceResponse

from ivr import create_app
from ivr.cases import sync_config
from ivr.db import Database, upgrade
from ivr.settings import load as load_settings
from ivr.simulator import Simulator, WsgiTransport
from ivr.voice.signature import twilio_signed

TOKEN = "bench-token"
OPEN = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("America/New_York"))


def baseline_app() -> Flask:
    """The cheapest possible signed webhook."""
    app = Flask("baseline")
    app.config.update(TWILIO_AUTH_TOKEN=TOKEN, PUBLIC_BASE_URL="")

    @app.post("/voice")
    @twilio_signed
    def voice():
        response = VoiceResponse()
        response.gather(action="/voice", num_digits=1).say("Hello")
        return Response(str(response), mimetype="text/xml")

    return app


def time_turns(sim: Simulator, script: list[str], calls: int) -> list[float]:
    """Seconds per request, over `calls` calls following `script`."""
    samples = []
    for _ in range(calls):
        call = sim.dial()
        start = time.perf_counter()
        for step in script:
            call.press(step)
        call.hangup()
        samples.append((time.perf_counter() - start) / max(1, len(call.requests)))
    return samples


def main() -> None:
    """Run the baseline and two IVR scenarios; print per-turn medians and ratios."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    upgrade(url)
    database = Database(url)  # as the release step does: start-up refuses a database out of step with config/
    with database.session() as session:
        sync_config(session, load_settings())
    database.dispose()
    app = create_app({"TESTING": True, "DATABASE_URL": url, "TWILIO_AUTH_TOKEN": TOKEN, "CLOCK": lambda: OPEN})
    ivr_sim = Simulator(WsgiTransport(app.test_client()), TOKEN, public_base_url="http://localhost",
                        to="+18605550311")
    base_sim = Simulator(WsgiTransport(baseline_app().test_client()), TOKEN, public_base_url="http://localhost")
    time_turns(ivr_sim, ["1", "3", "2"], 10)  # warm-up
    base = statistics.median(time_turns(base_sim, ["1", "1", "1"], args.calls))
    menus = statistics.median(time_turns(ivr_sim, ["1", "3", "2", "1", "*"], args.calls))
    report = statistics.median(time_turns(ivr_sim, ["1", "1", "2", "0", "2"], args.calls // 4))
    tracemalloc.start()
    time_turns(ivr_sim, ["1", "3", "2"], 50)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"database: {url.split(':')[0]}")
    print(f"baseline signed webhook : {base * 1000:7.2f} ms/turn (1.00x)")
    print(f"IVR menus + info        : {menus * 1000:7.2f} ms/turn ({menus / base:5.2f}x baseline)")
    print(f"IVR report-a-problem    : {report * 1000:7.2f} ms/turn ({report / base:5.2f}x baseline)")
    print(f"peak traced memory over 50 calls: {peak / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
