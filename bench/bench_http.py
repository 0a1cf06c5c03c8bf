"""Whole signed calls over real HTTP against the Procfile's own gunicorn, compared with a bare signed webhook.

    .venv/bin/python bench/bench_http.py                       # SQLite (a fresh temporary file)
    .venv/bin/python bench/bench_http.py --database-url postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/bench_http.py --skip-latency --throughput-duration 10    # a quick look

It migrates a fresh database and syncs config/ (the Procfile's release step; on PostgreSQL a database of its
own is created on the given server and dropped afterwards), starts the line with the Procfile's `web:` command
and, with the same command line, bench/baseline_app.py (signature check + one <Gather>). Load-generator
processes (this file with --loadgen) place whole calls with ivr.simulator, which signs every webhook as Twilio
does and follows the TwiML it gets back: greeting, English, information, hours, main menu, status, a real case
number, hang-up and status callback. Opening hours are forced to all day every day (an IVR_CONFIG file) so the
open-hours flow is measured; on a holiday the after-hours flow runs instead, and the same keys work there.

Measured, for the line and the baseline in the same run:
  throughput  closed loop, --callers callers without think time for --throughput-duration seconds, --rounds
              times alternately: turns (webhook requests) per second, and server CPU-ms per turn (gunicorn
              master + workers, from /proc);
  latency     --calls concurrent callers (default 200 and 1,000), each thinking 2-5 s before every key press,
              for --duration seconds after a ramp-up: p50/p95/p99 per turn;
  statements  SQL statements (and commits) per turn, counted in-process on the same database;
  start-up    `ivr --help`, median of 5.
A table of metric, value, target and pass/fail ends the output; the exit status is 1 if a target is missed.
The machine is shared: repeat runs, and read the load generator's own CPU before trusting a ratio.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

# The checkout this file is in is the one measured (servers, `ivr`, in-process counts), even when the virtualenv's
# editable install points at another: a snapshot of an older commit with this file copied in measures that commit.
ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.prefix) / "bin"
TOKEN = "bench-auth-token"
# As behind a TLS proxy: the app checks signatures against PUBLIC_BASE_URL, requests go to 127.0.0.1.
PUBLIC_BASE_URL = "https://311.bench.invalid"
APP_SPEC = '"ivr:create_app()"'
BASELINE_SPEC = '"bench.baseline_app:create_app()"'
THINK_SECONDS = (2.0, 5.0)
KEEPALIVE_REUSE_SECONDS = 1.0  # below gunicorn's --keep-alive (2 s): an older connection may be closing already
SEED_CASES = 20
GRACE_SECONDS = 15  # how long after the window the load generator waits for answers still outstanding
STARTUP_RUNS = 5
TARGET_RATIO = 0.6
TARGET_P99_MS = {"postgresql": 50.0, "sqlite": 250.0}
TARGET_P99_CALLS = 1000
TARGET_STARTUP_S = 0.3

OPEN_ALL_DAY = """\
# Written by bench/bench_http.py: the line open all day every day (23:59-24:00 is the one closed minute).
[hours]
timezone = "America/New_York"
[hours.weekly]
mon = ["00:00", "23:59"]
tue = ["00:00", "23:59"]
wed = ["00:00", "23:59"]
thu = ["00:00", "23:59"]
fri = ["00:00", "23:59"]
sat = ["00:00", "23:59"]
sun = ["00:00", "23:59"]
[hours.holidays]
day_after_thanksgiving = false
extra_closed = []
"""


def call_script(case_number: str) -> list[str]:
    """English, information, hours, main menu, status, the case number, hang up: eight webhooks."""
    return ["1", "3", "2", "*", "2", f"{case_number}#", "<hangup>"]


REPORT_SCRIPT = ["1", "1", "1", "0", "1", "<record>", "1", "<hangup>"]  # missed trash, no location, a recording


# ---- load generator (a process of its own: python bench/bench_http.py --loadgen < job.json) -----------------

class KeepAliveTransport:
    """ivr.simulator's Transport over one kept-alive http.client connection, timing every request."""

    def __init__(self, host: str, port: int, reuse_seconds: float):
        """Connect lazily; reuse the connection while it has been idle less than reuse_seconds."""
        self.host, self.port, self.reuse_seconds = host, port, reuse_seconds
        self.conn: http.client.HTTPConnection | None = None
        self.last_used = 0.0
        self.samples: list[tuple[float, float, int]] = []  # (start, seconds, status)
        self.in_flight: float | None = None  # when the request now waiting for its answer was sent
        self.retries = 0

    def request(self, method: str, url: str, params: dict[str, str], headers: dict[str, str]):
        """Send one webhook to the server; the URL's path and query go on the wire, the host is ours."""
        from ivr.simulator import Response, path_and_query

        body = urlencode(params) if method == "POST" else None
        headers = dict(headers)
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        start = self.in_flight = time.monotonic()
        status, text, content_type = self._exchange(method, path_and_query(url), body, headers)
        end = time.monotonic()
        self.last_used, self.in_flight = end, None
        self.samples.append((start, end - start, status))
        return Response(status, text, content_type)

    def _exchange(self, method: str, path: str, body: str | None, headers: dict[str, str]):
        """One request and its answer, reconnecting once if a kept-alive connection was closed under us."""
        reused = self.conn is not None and time.monotonic() - self.last_used < self.reuse_seconds
        if not reused:
            self._reconnect()
        try:
            return self._send(method, path, body, headers)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            if not reused:
                raise
            self.retries += 1
            self._reconnect()
            return self._send(method, path, body, headers)

    def _send(self, method: str, path: str, body: str | None, headers: dict[str, str]):
        """Write the request and read the whole answer."""
        self.conn.request(method, path, body, headers)
        answer = self.conn.getresponse()
        text = answer.read().decode("utf-8", "replace")
        if answer.will_close:
            self.close()
        return answer.status, text, answer.getheader("Content-Type", "")

    def _reconnect(self) -> None:
        """Drop the old connection and open a new one (TCP connect counts in the turn's time, as for Twilio)."""
        self.close()
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)

    def close(self) -> None:
        """Close the connection, if any."""
        if self.conn is not None:
            self.conn.close()
            self.conn = None


@dataclass
class CallerStats:
    """What one simulated caller did."""

    calls: int = 0
    failed_calls: int = 0
    errors: list[str] = field(default_factory=list)


def _sleep_until(moment: float) -> None:
    """Sleep until a time.monotonic() instant."""
    delay = moment - time.monotonic()
    if delay > 0:
        time.sleep(delay)


def _think(job: dict, rng: random.Random) -> None:
    """A human pause before the next key press (none in the closed-loop throughput run)."""
    if job["think"]:
        time.sleep(rng.uniform(*job["think"]))


def place_call(job: dict, sim, rng: random.Random) -> bool:
    """One whole call following the script; False if Twilio would have played an application error."""
    from ivr.simulator import apply_step

    call = sim.dial()
    for step in call_script(rng.choice(job["cases"])):
        if call.ended or time.monotonic() >= job["window_end"]:
            break
        _think(job, rng)
        apply_step(call, step)
    return not call.application_error and all(200 <= x.status < 300 for x in call.requests)


def caller(job: dict, transport: KeepAliveTransport, stats: CallerStats, seed: int) -> None:
    """Place calls one after another until the measuring window closes."""
    from ivr.simulator import Simulator

    rng = random.Random(seed)
    sim = Simulator(transport, job["token"], public_base_url=job["public_base_url"], to=job["to"],
                    from_=f"+1860555{rng.randrange(10000):04d}", status_path=job["status_path"])
    _sleep_until(job["start"] + (rng.uniform(0, job["think"][1]) if job["think"] else 0))
    while time.monotonic() < job["window_end"]:
        try:
            ok = place_call(job, sim, rng)
        except Exception as exc:  # noqa: BLE001 - counted and reported, never fatal to the run
            ok = False
            stats.errors.append(f"{type(exc).__name__}: {exc}"[:200])
            transport.close()
            time.sleep(0.05)
        stats.calls += 1
        stats.failed_calls += not ok
        _think(job, rng)


def loadgen(job: dict) -> dict:
    """Run job["callers"] callers in threads; return their in-window samples and this process's CPU time."""
    import ivr.simulator

    # Checking every answer against the TwiML grammar costs the load generator more than the baseline costs the
    # server; status codes and application errors are still checked.
    ivr.simulator.check_twiml = lambda body: []
    sys.setswitchinterval(0.0005)  # a thread whose answer has arrived should not wait long for the GIL
    threading.stack_size(512 * 1024)
    reuse = 0.0 if job["think"] else KEEPALIVE_REUSE_SECONDS
    transports = [KeepAliveTransport(job["host"], job["port"], reuse) for _ in range(job["callers"])]
    stats = [CallerStats() for _ in transports]
    threads = [threading.Thread(target=caller, args=(job, t, s, job["seed"] * 100000 + i), daemon=True)
               for i, (t, s) in enumerate(zip(transports, stats, strict=True))]
    for thread in threads:
        thread.start()
    _sleep_until(job["window_start"])
    cpu_start = sum(os.times()[:2])
    _sleep_until(job["window_end"])
    cpu = sum(os.times()[:2]) - cpu_start
    for thread in threads:
        thread.join(timeout=max(0.0, job["window_end"] + GRACE_SECONDS - time.monotonic()))
    now = time.monotonic()
    # Every request sent in the window counts for latency, including those answered after it (the slowest) and
    # those still unanswered, at their time so far; throughput counts what was answered within the window.
    samples = [s for t in transports for s in t.samples if job["window_start"] <= s[0] < job["window_end"]]
    unanswered = [now - t.in_flight for t in transports
                  if t.in_flight is not None and job["window_start"] <= t.in_flight < job["window_end"]]
    return {
        "latencies": [round(s[1], 6) for s in samples] + [round(x, 6) for x in unanswered],
        "answered": sum(1 for s in samples if s[0] + s[1] <= job["window_end"]),
        "unanswered": len(unanswered),
        "bad_status": sum(1 for s in samples if not 200 <= s[2] < 300),
        "calls": sum(s.calls for s in stats),
        "failed_calls": sum(s.failed_calls for s in stats),
        "errors": [e for s in stats for e in s.errors][:20],
        "retries": sum(t.retries for t in transports),
        "cpu_seconds": cpu,
    }


# ---- servers ------------------------------------------------------------------------------------------------

def procfile_web_command() -> str:
    """The Procfile's web: command, exactly as written."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line[len("web:"):].strip()
    raise SystemExit("Procfile has no web: line")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A gunicorn master started from the Procfile's command line."""

    name: str
    process: subprocess.Popen
    port: int

    def pids(self) -> list[int]:
        """The master and its workers."""
        found = [self.process.pid]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    found.append(int(entry.name))
        return found

    def cpu_seconds(self) -> float:
        """utime + stime of the master and its workers so far."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of stat(5)
        return total / ticks

    def stop(self) -> None:
        """Graceful stop (SIGTERM to the master), then SIGKILL to it if it does not go."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(name: str, spec: str, env: dict[str, str], log_dir: Path) -> Server:
    """Start gunicorn with the Procfile's web command (its app replaced by `spec`) and wait until it answers."""
    command = procfile_web_command()
    if APP_SPEC not in command:
        raise SystemExit(f"the Procfile's web command no longer serves {APP_SPEC}: {command}")
    port = free_port()
    log = (log_dir / f"{name}.log").open("w")
    process = subprocess.Popen(["sh", "-c", "exec " + command.replace(APP_SPEC, spec)], cwd=ROOT,
                               env=env | {"PORT": str(port)}, stdout=log, stderr=subprocess.STDOUT)
    server = Server(name, process, port)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} server exited at start-up; see {log_dir / (name + '.log')}")
        if len(server.pids()) > int(env["WEB_CONCURRENCY"]) and _answers(port):
            return server
        time.sleep(0.2)
    server.stop()
    raise SystemExit(f"{name} server did not start within 60 s")


def _answers(port: int) -> bool:
    """True once a worker has loaded the app and answers HTTP (any status) on the port."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/")
        conn.getresponse().read()
        return True
    except OSError:
        return False
    finally:
        conn.close()


# ---- databases and the release step ----------------------------------------------------------------------

@contextmanager
def fresh_database(server_url: str | None):
    """A URL for an empty database: a SQLite file, or a new PostgreSQL database dropped afterwards."""
    if not server_url or server_url.startswith("sqlite"):
        with tempfile.TemporaryDirectory(prefix="ivr-bench-db-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    from ivr.db import scratch_postgres_database

    with scratch_postgres_database(server_url, "ivr_bench") as url:
        yield url


def release(env: dict[str, str]) -> None:
    """The Procfile's release step: `ivr db upgrade && ivr sync-config`."""
    for args in (["db", "upgrade"], ["sync-config"]):
        done = subprocess.run([str(VENV_BIN / "ivr"), *args], cwd=ROOT, env=env, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"ivr {' '.join(args)} failed:\n{done.stdout}{done.stderr}")


def line_state(env: dict[str, str]) -> str:
    """'open', or why the line is closed right now under the benchmark's settings."""
    from datetime import UTC, datetime

    from ivr.settings import load

    reason = load(environ=env).schedule.closed_reason(datetime.now(UTC))
    return "open" if reason is None else f"closed ({reason}): the after-hours flow is measured"


# ---- calls before the load: cases to look up, a check of the script ------------------------------------------

def seed_cases(server: Server, env: dict[str, str]) -> list[str]:
    """Report problems over HTTP until SEED_CASES cases exist; return their numbers."""
    from sqlalchemy import select

    from ivr.db import Database
    from ivr.models import Case
    from ivr.simulator import format_transcript, run_script

    sim = _http_simulator(server, env)
    for _ in range(SEED_CASES):
        call = run_script(sim, REPORT_SCRIPT)
        if call.application_error:
            raise SystemExit("a report call failed:\n" + format_transcript(call))
    database = Database(env["DATABASE_URL"])
    with database.session() as session:
        numbers = list(session.scalars(select(Case.number)))
    database.dispose()
    if len(numbers) < SEED_CASES:
        raise SystemExit(f"{SEED_CASES} report calls made only {len(numbers)} cases")
    return numbers


def check_script(server: Server, env: dict[str, str], case_number: str) -> None:
    """One call of the benchmark's script must reach the status read-back of the case."""
    from ivr.simulator import format_transcript, run_script

    sim = _http_simulator(server, env)
    call = run_script(sim, call_script(case_number))
    if call.application_error or not any("node=status_menu" in x.body for x in call.requests):
        raise SystemExit("the benchmark's call did not reach the case status:\n" + format_transcript(call))


def _http_simulator(server: Server, env: dict[str, str]):
    """A Simulator calling the server over urllib, for the few calls before the load."""
    from ivr.simulator import HttpTransport, Simulator

    return Simulator(HttpTransport(f"http://127.0.0.1:{server.port}", timeout=60), TOKEN,
                     public_base_url=PUBLIC_BASE_URL, to=_line_number(env))


def _line_number(env: dict[str, str]) -> str:
    """The 311 number callers dial, from the settings."""
    from ivr.settings import load

    return load(environ=env).numbers.three_one_one


# ---- SQL statements per turn ------------------------------------------------------------------------------

class CountingTransport:
    """Runs requests through a Flask test client, noting the SQL each one sent."""

    def __init__(self, client, statements: list[str], events: Counter):
        """Share the list and counter the engine's event listeners fill."""
        from ivr.simulator import WsgiTransport

        self.inner = WsgiTransport(client)
        self.statements, self.events = statements, events
        self.rows: list[tuple[str, list[str], Counter]] = []

    def request(self, method: str, url: str, params: dict[str, str], headers: dict[str, str]):
        """Forward the request; remember which turn it was and what SQL it cost."""
        first, events = len(self.statements), Counter(self.events)
        answer = self.inner.request(method, url, params, headers)
        self.rows.append((turn_label(url, params), self.statements[first:], self.events - events))
        return answer


def turn_label(url: str, params: dict[str, str]) -> str:
    """'greeting', 'status callback' or the node the caller answered, with what was pressed."""
    parts = urlsplit(url)
    if parts.path == "/voice":
        return "greeting"
    if parts.path == "/voice/status":
        return "status callback"
    node = parse_qs(parts.query).get("node", ["?"])[0]
    given = params.get("Digits") or ("recording" if "RecordingUrl" in params else "-")
    return f"{node} <- {given}"


def count_statements(env: dict[str, str], case_number: str) -> tuple[list, list]:
    """Run one benchmark call and one report call in-process; return (label, statements, commits) per turn."""
    from sqlalchemy import event

    from ivr import create_app
    from ivr.simulator import Simulator, run_script

    saved = dict(os.environ)
    os.environ.update(env)  # the same settings (IVR_CONFIG, PUBLIC_BASE_URL) as the servers
    try:
        app = create_app({"DATABASE_URL": env["DATABASE_URL"], "TWILIO_AUTH_TOKEN": TOKEN})
    finally:
        os.environ.clear()
        os.environ.update(saved)
    engine = app.extensions["ivr"].db.engine
    statements: list[str] = []
    events: Counter = Counter()
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    event.listen(engine, "commit", lambda conn: events.update(["commit"]))
    event.listen(engine, "checkout", lambda *args: events.update(["checkout"]))
    results = []
    for script in (call_script(case_number), REPORT_SCRIPT):
        transport = CountingTransport(app.test_client(), statements, events)
        sim = Simulator(transport, TOKEN, public_base_url=PUBLIC_BASE_URL, to=_line_number(env))
        run_script(sim, script)
        results.append(transport.rows)
    app.extensions["ivr"].db.dispose()
    return results[0], results[1]


def print_statements(title: str, rows: list) -> float:
    """Print SQL per turn; return the mean statements per turn."""
    print(f"\nSQL per turn, {title}:")
    for label, sql, events in rows:
        kinds = Counter(statement.split(None, 1)[0].upper() for statement in sql)
        shown = ", ".join(f"{n} {kind}" for kind, n in kinds.most_common())
        print(f"  {label:<36} {len(sql):3d} statements, {events['commit']} commit, "
              f"{events['checkout']} checkout   {shown}")
    mean = statistics.mean(len(sql) for _, sql, _ in rows)
    print(f"  mean: {mean:.1f} statements per turn over {len(rows)} turns "
          "(on PostgreSQL each checkout also pings the server: pool_pre_ping)")
    return mean


# ---- running the load ---------------------------------------------------------------------------------------

@dataclass
class LoadResult:
    """One load run against one server."""

    server: str
    callers: int
    seconds: float
    latencies: list[float]
    answered: int
    unanswered: int
    server_cpu: float
    loadgen_cpu: float
    bad_status: int
    calls: int
    failed_calls: int
    errors: list[str]
    retries: int

    @property
    def turns_per_second(self) -> float:
        """Webhook requests answered per second in the window."""
        return self.answered / self.seconds

    @property
    def cpu_ms_per_turn(self) -> float:
        """Server CPU (master and workers) per turn answered in the window."""
        return 1000 * self.server_cpu / max(1, self.answered)

    def percentile_ms(self, q: float) -> float:
        """A latency percentile in milliseconds."""
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] if ordered else float("nan")


def run_load(server: Server, job: dict, callers: int, processes: int, warmup: float, seconds: float) -> LoadResult:
    """Spread `callers` over load-generator processes; measure the window after `warmup`."""
    start = time.monotonic() + 3.0  # time for the processes to import and start their threads
    window_start = start + warmup
    job = job | {"port": server.port, "start": start, "window_start": window_start,
                 "window_end": window_start + seconds}
    shares = [callers // processes + (i < callers % processes) for i in range(processes)]
    procs = []
    for index, share in enumerate(s for s in shares if s):
        proc = subprocess.Popen([sys.executable, __file__, "--loadgen"], cwd=ROOT, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)
        proc.stdin.write(json.dumps(job | {"callers": share, "seed": index + 1}))
        proc.stdin.close()
        procs.append(proc)
    _sleep_until(window_start)
    cpu_start = server.cpu_seconds()
    _sleep_until(job["window_end"])
    server_cpu = server.cpu_seconds() - cpu_start
    outputs = [proc.stdout.read() for proc in procs]
    if any([proc.wait() for proc in procs]):
        raise SystemExit("a load-generator process failed; its error is printed above")
    parts = [json.loads(output) for output in outputs]
    return LoadResult(server.name, callers, seconds, [x for p in parts for x in p["latencies"]],
                      sum(p["answered"] for p in parts), sum(p["unanswered"] for p in parts), server_cpu,
                      sum(p["cpu_seconds"] for p in parts), sum(p["bad_status"] for p in parts),
                      sum(p["calls"] for p in parts), sum(p["failed_calls"] for p in parts),
                      [e for p in parts for e in p["errors"]], sum(p["retries"] for p in parts))


def describe(result: LoadResult) -> str:
    """One line about a run."""
    return (f"  {result.server:<8} {result.callers:5d} callers: {result.turns_per_second:7.1f} turns/s, "
            f"p50 {result.percentile_ms(50):6.1f} p95 {result.percentile_ms(95):6.1f} "
            f"p99 {result.percentile_ms(99):6.1f} ms, server {result.cpu_ms_per_turn:5.2f} CPU-ms/turn "
            f"({100 * result.server_cpu / result.seconds:3.0f}% of a core), load generator "
            f"{100 * result.loadgen_cpu / result.seconds:3.0f}% of a core, {result.calls} calls, "
            f"{result.bad_status} non-2xx, {result.unanswered} unanswered after {GRACE_SECONDS} s, "
            f"{result.failed_calls} failed calls, {result.retries} reconnects")


# ---- the report ---------------------------------------------------------------------------------------------

def time_startup() -> tuple[float, float]:
    """Median wall time and median CPU time (user + system) of `ivr --help`."""
    import resource

    times, cpu = [], []
    for _ in range(STARTUP_RUNS):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        begin = time.perf_counter()
        subprocess.run([str(VENV_BIN / "ivr"), "--help"], cwd=ROOT, capture_output=True, check=True)
        times.append(time.perf_counter() - begin)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return statistics.median(times), statistics.median(cpu)


def load_average() -> str:
    """The 1-, 5- and 15-minute load averages: other work on the machine moves every figure."""
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


@dataclass
class Table:
    """Rows of metric, value, target, result."""

    rows: list[tuple[str, str, str, str]] = field(default_factory=list)
    missed: int = 0

    def add(self, metric: str, value: str, target: str = "", ok: bool | None = None) -> None:
        """Add a row; ok=None for a figure that is reported, not judged."""
        self.missed += ok is False
        self.rows.append((metric, value, target or "-", {True: "pass", False: "FAIL", None: ""}[ok]))

    def print(self) -> None:
        """Print it aligned."""
        widths = [max(len(row[i]) for row in [("metric", "value", "target", "result"), *self.rows])
                  for i in range(4)]
        for row in [("metric", "value", "target", "result"), tuple("-" * w for w in widths), *self.rows]:
            print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def throughput_rows(table: Table, app: list[LoadResult], base: list[LoadResult]) -> None:
    """Throughput ratio (judged) and CPU per turn (reported)."""
    app_tps = statistics.mean(r.turns_per_second for r in app)
    base_tps = statistics.mean(r.turns_per_second for r in base)
    ratio = app_tps / base_tps
    table.add("throughput, line / bare webhook", f"{ratio:.2f}x ({app_tps:.0f} / {base_tps:.0f} turns/s)",
              f">= {TARGET_RATIO}x", ratio >= TARGET_RATIO)
    app_cpu = statistics.mean(r.cpu_ms_per_turn for r in app)
    base_cpu = statistics.mean(r.cpu_ms_per_turn for r in base)
    table.add("server CPU-ms per turn, line / bare", f"{app_cpu:.2f} / {base_cpu:.2f} ({base_cpu / app_cpu:.2f}x)")
    gen = max(r.loadgen_cpu / r.seconds for r in app + base)
    table.add("load generator CPU (throughput runs, max)", f"{100 * gen:.0f}% of a core")


def latency_rows(table: Table, results: list[LoadResult], dialect: str) -> None:
    """p50/p95/p99 per run; the line's p99 at TARGET_P99_CALLS is judged."""
    for result in results:
        value = (f"{result.percentile_ms(50):.1f} / {result.percentile_ms(95):.1f} / "
                 f"{result.percentile_ms(99):.1f} ms ({len(result.latencies)} turns)")
        judged = result.server == "line" and result.callers == TARGET_P99_CALLS
        target = f"p99 < {TARGET_P99_MS[dialect]:.0f} ms" if judged else ""
        ok = result.percentile_ms(99) < TARGET_P99_MS[dialect] if judged else None
        table.add(f"{result.server} p50/p95/p99, {result.callers} calls", value, target, ok)


def failure_rows(table: Table, results: list[LoadResult]) -> None:
    """Every request answered 2xx, every call without an application error."""
    bad = sum(r.bad_status + r.unanswered for r in results)
    failed = sum(r.failed_calls for r in results)
    table.add("non-2xx or unanswered / failed calls (all runs)", f"{bad} / {failed}", "0 / 0",
              bad == 0 and failed == 0)
    errors = [e for r in results for e in r.errors]
    if errors:
        print("\nload generator errors (first 10):\n  " + "\n  ".join(errors[:10]))


# ---- main -----------------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL server URL (a fresh database is created on it); default: SQLite")
    parser.add_argument("--duration", type=float, default=60, help="seconds measured per latency run")
    parser.add_argument("--calls", default="200,1000", help="concurrent calls of the latency runs")
    parser.add_argument("--throughput-duration", type=float, default=20, help="seconds per throughput run")
    parser.add_argument("--callers", type=int, default=32, help="callers of the closed-loop throughput runs")
    parser.add_argument("--rounds", type=int, default=2, help="throughput runs per server, alternating")
    parser.add_argument("--processes", type=int, default=2, help="load-generator processes")
    parser.add_argument("--skip-latency", action="store_true", help="throughput, statements and start-up only")
    parser.add_argument("--skip-baseline-latency", action="store_true", help="latency runs of the line only")
    parser.add_argument("--loadgen", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def bench_env(database_url: str, config_file: Path) -> dict[str, str]:
    """The servers' environment: the deployment's variables, as the Procfile expects them."""
    env = dict(os.environ)
    env.update(TWILIO_AUTH_TOKEN=TOKEN, DATABASE_URL=database_url, IVR_CONFIG=str(config_file),
               PUBLIC_BASE_URL=PUBLIC_BASE_URL, PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
               PYTHONPATH=str(ROOT))
    env.setdefault("WEB_CONCURRENCY", "2")
    return env


def measure(args: argparse.Namespace, env: dict[str, str], work: Path, table: Table) -> None:
    """Start both servers, seed cases, then the statements, throughput and latency measurements."""
    dialect = "sqlite" if env["DATABASE_URL"].startswith("sqlite") else "postgresql"
    with ExitStack() as stack:
        line = start_server("line", APP_SPEC, env, work)
        stack.callback(line.stop)
        cases = seed_cases(line, env)
        check_script(line, env, cases[0])
        call_rows, report_rows = count_statements(env, cases[0])
        mean = print_statements("the benchmark's call", call_rows)
        print_statements("a report call (not in the load)", report_rows)
        table.add("SQL statements per turn (the benchmark's call)", f"{mean:.1f}", "reported")
        base = start_server("bare", BASELINE_SPEC, env, work)
        stack.callback(base.stop)
        job = {"host": "127.0.0.1", "token": TOKEN, "public_base_url": PUBLIC_BASE_URL, "to": _line_number(env),
               "cases": cases}
        line_job, base_job = job | {"status_path": "/voice/status"}, job | {"status_path": "/voice"}
        print(f"\nthroughput: {args.callers} callers, no think time, {args.throughput_duration:.0f} s per run")
        runs: dict[str, list[LoadResult]] = {"line": [], "bare": []}
        for _ in range(args.rounds):
            for server, server_job in ((base, base_job), (line, line_job)):
                result = run_load(server, server_job | {"think": None}, args.callers, args.processes, 3.0,
                                  args.throughput_duration)
                runs[server.name].append(result)
                print(describe(result), flush=True)
        throughput_rows(table, runs["line"], runs["bare"])
        latency = [] if args.skip_latency else run_latency(args, (line, line_job), (base, base_job))
        latency_rows(table, latency, dialect)
        failure_rows(table, runs["line"] + runs["bare"] + latency)


def run_latency(args: argparse.Namespace, line: tuple, base: tuple) -> list[LoadResult]:
    """Latency runs with think time, for each number of concurrent calls."""
    servers = [line] if args.skip_baseline_latency else [line, base]
    results = []
    for calls in (int(n) for n in args.calls.split(",")):
        print(f"\nlatency: {calls} concurrent calls, think {THINK_SECONDS[0]:.0f}-{THINK_SECONDS[1]:.0f} s, "
              f"{args.duration:.0f} s measured after a {THINK_SECONDS[1] + 5:.0f} s ramp-up")
        for server, job in servers:
            result = run_load(server, job | {"think": list(THINK_SECONDS)}, calls, args.processes,
                              THINK_SECONDS[1] + 5, args.duration)
            results.append(result)
            print(describe(result), flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    """Run everything; print the table; 1 if a target is missed."""
    sys.path.insert(0, str(ROOT))
    os.environ["PYTHONPATH"] = str(ROOT)  # for the load generators and `ivr --help` too
    args = parse_args(argv)
    if args.loadgen:
        print(json.dumps(loadgen(json.loads(sys.stdin.read()))))
        return 0
    table = Table()
    with tempfile.TemporaryDirectory(prefix="ivr-bench-") as tmp, fresh_database(args.database_url) as url:
        work = Path(tmp)
        config_file = work / "open-all-day.toml"
        config_file.write_text(OPEN_ALL_DAY)
        env = bench_env(url, config_file)
        release(env)
        dialect = url.split(":", 1)[0].split("+", 1)[0]
        print(f"database: {dialect}; workers: {env['WEB_CONCURRENCY']}; the line is {line_state(env)}")
        print(f"server command: {procfile_web_command()}")
        print(f"load average before: {load_average()} on {os.cpu_count()} cores")
        measure(args, env, work, table)
    startup, startup_cpu = time_startup()
    table.add("`ivr --help` start-up (median of 5)", f"{startup:.2f} s (CPU {startup_cpu:.2f} s)",
              f"< {TARGET_STARTUP_S} s", startup < TARGET_STARTUP_S)
    print(f"\nresults ({dialect}; load average {load_average()} on {os.cpu_count()} cores: "
          "a shared machine, figures move from run to run)")
    table.print()
    return 1 if table.missed else 0


if __name__ == "__main__":
    sys.exit(main())
