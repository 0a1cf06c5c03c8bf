"""`ivr report sla --from --to [--csv]`: how often each department and type met its SLA, from the console."""

from __future__ import annotations

import csv
import sys
from datetime import date, datetime, time, timedelta

import click

from ..cases import sla

CSV_COLUMNS = ("department_code", "department", "type_code", "type", "cases", "met", "missed", "pending",
               "no_sla", "compliance")
TABLE = "{:<28} {:<36} {:>6} {:>6} {:>6} {:>7} {:>10}"


@click.group("report")
def report() -> None:
    """Reports on how departments are doing."""


@report.command("sla")
@click.option("--from", "first", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="First day of requests counted (YYYY-MM-DD, Hartford time).")
@click.option("--to", "last", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="Last day of requests counted, included (YYYY-MM-DD).")
@click.option("--csv", "as_csv", is_flag=True, help="Comma-separated values, one row per department and type.")
def sla_report(first: datetime, last: datetime, as_csv: bool) -> None:
    """SLA compliance per department and service type for cases requested between two days."""
    if last < first:
        raise click.BadParameter("--to must not be before --from", param_hint="--to")
    from ..cli import _app

    app = _app()
    state = app.extensions["ivr"]
    zone = state.line.schedule.timezone
    start = datetime.combine(first.date(), time(0), tzinfo=zone)
    end = datetime.combine(last.date() + timedelta(days=1), time(0), tzinfo=zone)
    with state.db.session() as session:
        rows = sla.compliance_by_type(session, start, end, app.config["CLOCK"]())
    if as_csv:
        _write_csv(rows)
    else:
        _write_table(rows, first.date(), last.date())


def percent(rate: float | None) -> str:
    """'87.5%', or '-' when no case could be judged yet."""
    return "-" if rate is None else f"{rate:.1%}"


def _write_table(rows: list[sla.Compliance], first: date, last: date) -> None:
    """Each department's total, then its types; met = closed by the expected date."""
    click.echo(f"SLA compliance for cases requested {first.isoformat()} to {last.isoformat()} (Hartford time)")
    if not rows:
        click.echo("No cases were requested in that period.")
        return
    click.echo(TABLE.format("department", "type", "cases", "met", "missed", "pending", "compliance"))
    totals = {row.department_code: row for row in sla.by_department(rows)}
    shown = None
    for row in rows:
        if row.department_code != shown:
            shown = row.department_code
            total = totals[shown]
            click.echo(TABLE.format(total.department_name[:28], "(all types)", total.cases, total.met, total.missed,
                                    total.pending, percent(total.rate)))
        click.echo(TABLE.format("", row.type_name[:36], row.cases, row.met, row.missed, row.pending,
                                percent(row.rate)))
    click.echo("compliance = met / (met + missed); pending cases are open and not yet due.")


def _write_csv(rows: list[sla.Compliance]) -> None:
    """Machine-readable: compliance as a fraction with four decimals, empty when none could be judged."""
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow((row.department_code, row.department_name, row.type_code, row.type_name, row.cases, row.met,
                         row.missed, row.pending, row.no_sla, "" if row.rate is None else f"{row.rate:.4f}"))
