"""How fast a department's queue, the desk's searches and the SLA summary answer at a million cases.

    .venv/bin/python bench/bench_queue.py [--cases 1000000] [--database-url sqlite:///... | postgresql://...]

Fills an empty (or a previously benched) database with generated cases by bulk insert (COPY on PostgreSQL),
indexes (and the text index of migration 0007) dropped during the load and rebuilt after, then times each query
the staff pages run (median of a few runs, after a warm-up) and prints the index the database's own plan uses.
Exits 1 when a query misses its target.
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event, func, insert, select, text

from ivr.cases import queries, sla, sync_config
from ivr.cases.numbers import case_number_for_serial
from ivr.cases.queries import QueueFilter
from ivr.db import Database, upgrade
from ivr.models import Case, Department, ServiceType
from ivr.settings import load as load_settings

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
YEARS = 3
PAGE = 50
RUNS = 7
DEEP = 100_000  # how far into the department's cases the deep page starts
STREETS = ("Park Terrace", "Main Street", "Albany Avenue", "Farmington Avenue", "Franklin Avenue", "Wethersfield "
           "Avenue", "Broad Street", "Capitol Avenue", "Asylum Avenue", "Blue Hills Avenue", "Maple Avenue",
           "New Britain Avenue", "Zion Street", "Sigourney Street", "Washington Street", "Homestead Avenue")
WORDS = ("deep", "hole", "lane", "bins", "left", "again", "broken", "light", "tree", "branch", "blocking",
         "sidewalk", "car", "weeks", "corner", "near", "school", "dumped", "mattress", "tires", "graffiti", "wall")
RARE_WORD = "zeppelin"  # put in one description in 20,000: a text search that must look far
# Milliseconds (median) each query must beat; the page itself adds rendering on top.
TARGETS = {
    "first page (open, newest)": 50, "filtered page (type, dates, oldest)": 50, "deep page (keyset)": 50,
    "overdue, due soonest": 50, "text in open cases": 150, "text in all cases (rare word)": 50,
    # A word in a quarter of the cases: SQLite builds the FTS5 match set before reading the ordered index.
    "text in all cases (common word)": 300, "text in all cases (street, partial)": 300,
    "every department, open": 50, "desk: by number": 10, "desk: by phone": 20, "desk: by street": 300,
    "desk: by street, one block": 50,
    "summary: open and overdue": 150, "summary: SLA, 30 days": 300,
}


def generate(cases: int, types: list[ServiceType], first_serial: int, seed: int = 311):
    """Rows for `cases` cases over YEARS years before NOW: most old cases closed, some late, a few open."""
    rng = random.Random(seed)
    span = YEARS * 365 * 86400
    weights = [8, 10, 3, 3, 2, 3, 4, 3, 2, 2, 2, 2][: len(types)] + [1] * max(0, len(types) - 12)
    for serial in range(first_serial, first_serial + cases):
        kind = rng.choices(types, weights)[0]
        requested = NOW - timedelta(seconds=rng.randrange(span))
        days = kind.sla_days or max(1, (kind.sla_hours or 24) // 8)
        expected = requested + timedelta(days=days * 7 / 5)
        age = (NOW - requested).days
        closed = rng.random() < (0.97 if age > 60 else 0.5 if age > 7 else 0.15)
        closed_at = requested + timedelta(hours=rng.uniform(2, days * 24 * 2.2)) if closed else None
        if closed_at and closed_at > NOW:
            closed_at = NOW - timedelta(minutes=1)
        status = "closed" if closed else rng.choice(("open", "open", "in_progress", "on_hold"))
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 9)))
        if rng.randrange(20_000) == 0:
            words += f" {RARE_WORD}"
        yield {
            "number": case_number_for_serial(serial), "service_type_id": kind.id,
            "department_id": kind.department_id, "status": status, "description": words,
            "location": f"{rng.randint(1, 2500)} {rng.choice(STREETS)}",
            "contact_phone": f"+1860555{rng.randrange(10_000):04d}" if kind.requires_contact else None,
            "language": "es" if rng.random() < 0.3 else "en", "channel": "phone",
            "requested_at": requested, "updated_at": closed_at or requested, "expected_at": expected,
            "closed_at": closed_at,
        }


def load(database: Database, count: int) -> None:
    """Add cases until there are `count`, with the cases table's own indexes dropped during the load."""
    with database.session() as session:
        have = session.scalar(select(func.count()).select_from(Case))
        types = list(session.scalars(select(ServiceType).where(ServiceType.active.is_(True))))
        first = (session.scalar(select(func.count()).select_from(Case)) or 0) + 1
    if have >= count:
        print(f"{have:,} cases already there")
        with database.engine.begin() as conn:
            for index in Case.__table__.indexes:
                index.create(conn, checkfirst=True)  # an index added since this database was filled
        _analyse(database)
        return
    indexes = [index for index in Case.__table__.indexes if not index.unique]
    started = time.perf_counter()
    with database.engine.begin() as conn:
        for index in indexes:
            conn.execute(text(f"DROP INDEX IF EXISTS {index.name}"))
        text_index = _drop_text_index(conn)
    rows = generate(count - have, types, first)
    if database.engine.dialect.name == "postgresql":
        _copy(database, rows)
    else:
        _insert(database, rows)
    loaded = time.perf_counter()
    with database.engine.begin() as conn:
        for index in indexes:
            index.create(conn)
        _restore_text_index(conn, text_index)
    _analyse(database)
    print(f"loaded {count - have:,} cases in {loaded - started:.0f} s, indexed and analysed in "
          f"{time.perf_counter() - loaded:.0f} s")


def _drop_text_index(conn) -> list[str]:
    """Drop the text index's triggers (SQLite) or GIN index (PostgreSQL) for the load; their DDL to restore them."""
    if conn.dialect.name == "postgresql":
        found = conn.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_cases_words'")).scalars()
        ddl = list(found)
        conn.execute(text("DROP INDEX IF EXISTS ix_cases_words"))
        return ddl
    ddl = list(conn.execute(text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'cases' "
                                 "AND name LIKE 'cases_text_%'")).scalars())
    for name in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                  "AND name LIKE 'cases_text_%'")).scalars().all():
        conn.execute(text(f"DROP TRIGGER {name}"))
    return ddl


def _restore_text_index(conn, ddl: list[str]) -> None:
    """Create the triggers or the GIN index again; FTS5 then reads every case anew ('rebuild')."""
    for statement in ddl:
        conn.exec_driver_sql(statement)
    if conn.dialect.name == "sqlite" and ddl:
        conn.execute(text("INSERT INTO cases_text(cases_text) VALUES ('rebuild')"))


def _analyse(database: Database) -> None:
    """Statistics for the planner; on PostgreSQL also the visibility map, as autovacuum keeps it in production."""
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if conn.dialect.name == "postgresql" else "ANALYZE"))


def _insert(database: Database, rows) -> None:
    """executemany in chunks (SQLite)."""
    chunk: list[dict] = []
    with database.engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA synchronous = OFF")
        for row in rows:
            chunk.append(row)
            if len(chunk) == 50_000:
                conn.execute(insert(Case.__table__), chunk)
                chunk = []
        if chunk:
            conn.execute(insert(Case.__table__), chunk)


COPY_COLUMNS = ("number", "service_type_id", "department_id", "status", "description", "location", "contact_phone",
                "language", "channel", "requested_at", "updated_at", "expected_at", "closed_at")


def _copy(database: Database, rows) -> None:
    """COPY ... FROM STDIN (PostgreSQL), tab-separated."""
    raw = database.engine.raw_connection()
    try:
        with raw.cursor() as cursor, cursor.copy(f"COPY cases ({', '.join(COPY_COLUMNS)}) FROM STDIN") as copy:
            buffer = io.StringIO()
            for n, row in enumerate(rows, 1):
                buffer.write("\t".join(_copy_value(row[c]) for c in COPY_COLUMNS) + "\n")
                if n % 50_000 == 0:
                    copy.write(buffer.getvalue())
                    buffer = io.StringIO()
            copy.write(buffer.getvalue())
        raw.commit()
    finally:
        raw.close()


def _copy_value(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


# ---- timing ----------------------------------------------------------------------------------------------

class Recorder:
    """The SQL statements a query function ran, for EXPLAIN."""

    def __init__(self, engine):
        self.statements: list[tuple[str, object]] = []
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append((statement, parameters))


def plan(database: Database, statement: str, parameters) -> str:
    """The indexes the database's plan uses for a statement, or the table scan it falls back to."""
    dialect = database.engine.dialect.name
    prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
    with database.engine.connect() as conn:
        lines = [" ".join(str(col) for col in row) for row in conn.exec_driver_sql(prefix + statement, parameters)]
    used = []
    for line in lines:
        for word in line.replace("(", " ").split():
            if word.startswith(("ix_", "sqlite_autoindex", "cases_pkey", "cases_text")) and word not in used:
                used.append(word)
    scans = [line.strip() for line in lines if "SCAN cases" in line and "INDEX" not in line
             or "Seq Scan on cases" in line]
    return ", ".join(used) + (f"  [full scan: {scans[0][:40]}]" if scans else "")


def measure(database: Database, name: str, run) -> tuple[str, float, float, str, int]:
    """(name, median ms, max ms, plan, rows) over RUNS runs after one warm-up."""
    recorder = Recorder(database.engine)
    with database.session() as session:
        start = time.perf_counter()
        found = run(session)
        warm_up = time.perf_counter() - start
    event.remove(database.engine, "before_cursor_execute", recorder._seen)
    samples = []
    for _ in range(RUNS if warm_up < 1 else 2):  # a query that takes seconds is timed twice, not seven times
        with database.session() as session:
            start = time.perf_counter()
            run(session)
            samples.append((time.perf_counter() - start) * 1000)
    main_statement = max(recorder.statements, key=lambda s: "FROM cases" in s[0] or "cases." in s[0])
    rows = len(found.cases) if hasattr(found, "cases") else len(found) if hasattr(found, "__len__") else 1
    return name, statistics.median(samples), max(samples), plan(database, *main_statement), rows


def scenarios(database: Database) -> list:
    """The queries the staff pages run, on the busiest department."""
    with database.session() as session:
        dpw = session.scalars(select(Department).where(Department.code == "dpw")).one()
        pothole = session.scalars(select(ServiceType).where(ServiceType.code == "pothole")).one()
        in_dpw = session.scalar(select(func.count()).select_from(Case).where(Case.department_id == dpw.id))
        depth = min(DEEP, in_dpw // 2)
        deep = session.execute(select(Case.requested_at, Case.id).where(Case.department_id == dpw.id)
                               .order_by(Case.requested_at.desc(), Case.id.desc()).offset(depth).limit(1)).one()
        sample = session.scalars(select(Case).where(Case.contact_phone.is_not(None)).limit(1)).one()
        number, phone = sample.number, sample.contact_phone
    deep_cursor = queries.encode_cursor(*deep)
    print(f"the deep page starts {depth:,} cases into Public Works' {in_dpw:,}")

    def page(after=None, **filters):
        return lambda s: queries.queue_page(s, QueueFilter(**({"department_id": dpw.id} | filters)), NOW, PAGE, after)

    return [
        ("first page (open, newest)", page()),
        ("filtered page (type, dates, oldest)", page(service_type_id=pothole.id, status="all", sort="oldest",
                                                     created_from=NOW - timedelta(days=400),
                                                     created_to=NOW - timedelta(days=300))),
        ("deep page (keyset)", page(deep_cursor, status="all")),
        ("overdue, due soonest", page(overdue=True, sort="due")),
        ("text in open cases", page(text="Park Terrace")),
        ("text in all cases (rare word)", page(text=RARE_WORD, status="all")),
        ("text in all cases (common word)", page(text="broken", status="all")),
        ("text in all cases (street, partial)", page(text="wethersf ave", status="all")),
        ("every department, open", lambda s: queries.queue_page(s, QueueFilter(department_id=None), NOW, PAGE)),
        ("desk: by number", lambda s: [queries.by_number(s, number)]),
        ("desk: by phone", lambda s: queries.by_phone(s, phone, [], PAGE)),
        ("desk: by street", lambda s: queries.by_street(s, "Zion Street", PAGE)),
        ("desk: by street, one block", lambda s: queries.by_street(s, "2417 Zion", PAGE)),
        ("summary: open and overdue", lambda s: sla.open_and_overdue(s, NOW, department_id=dpw.id)),
        ("summary: SLA, 30 days", lambda s: sla.compliance_by_type(s, NOW - timedelta(days=30), NOW, NOW,
                                                                     department_id=dpw.id)),
    ]


def main() -> int:
    """Load, time, print the table; 1 if any target is missed."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench_queue.db'}"
    upgrade(url)
    database = Database(url)
    with database.session() as session:
        sync_config(session, load_settings())
    load(database, args.cases)
    with database.session() as session:
        total = session.scalar(select(func.count()).select_from(Case))
    print(f"\n{database.engine.dialect.name}, {total:,} cases; median and worst of {RUNS} runs, milliseconds\n")
    print(f"{'query':<38} {'median':>8} {'max':>8} {'target':>7} {'rows':>5}  index used by the plan")
    missed = []
    for name, run in scenarios(database):
        name, median, worst, used, rows = measure(database, name, run)
        flag = "" if median <= TARGETS[name] else "  MISSED"
        if flag:
            missed.append(name)
        print(f"{name:<38} {median:8.1f} {worst:8.1f} {TARGETS[name]:7d} {rows:5d}  {used}{flag}")
    database.dispose()
    if missed:
        print(f"\nmissed: {', '.join(missed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
