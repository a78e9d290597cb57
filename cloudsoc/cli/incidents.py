"""``cloudsoc incidents``: Incidents: alerts grouped, worked through a status workflow, measured against SLAs."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cloudsoc.cli.output import HomeOpt, OutOpt, Output, console, emit, emit_json, emit_table
from cloudsoc.core.config import Home

if TYPE_CHECKING:
    from sqlalchemy import Connection

incidents_app = typer.Typer(
    help="Incidents: alerts grouped, worked through a status workflow, measured against SLAs.",
    no_args_is_help=True,
)
ByOpt = Annotated[str, typer.Option("--by", help="who does this (default: the OS user)")]
IdArg = Annotated[int, typer.Argument(help="incident id")]


def _me() -> str:
    return getpass.getuser()


def _sql(home: Home):  # type: ignore[no-untyped-def]
    from cloudsoc.core import db

    return db.connect(home.database_url)


def _public(row: dict[str, Any], home: Home) -> dict[str, Any]:
    from cloudsoc.cases import sla
    from cloudsoc.core.timeutil import utcnow

    out = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}
    out["sla"] = sla.clocks(row, home.settings.incidents.sla, utcnow())
    out["measures"] = sla.durations(row)
    return out


@incidents_app.command("list")
def incidents_list(
    home: HomeOpt = None,
    output: OutOpt = Output.table,
    status: Annotated[str, typer.Option(help="open, a status, or all")] = "open",
    severity: Annotated[str | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option()] = 100,
) -> None:
    """List incidents, the most recently active first, with their SLA state."""
    from cloudsoc.cases import incidents

    h = Home.open(home)
    with _sql(h).connect() as conn:
        rows = [_public(r, h) for r in incidents.list_rows(conn, status=None if status == "all" else status,
                                                           severity=severity, limit=limit)]  # fmt: skip
    emit(output, rows, f"{len(rows)} incidents", ["id", "severity", "status", "title", "account", "assignee", "sla", "mttd s"],
               [[r["id"], r["severity"], r["status"], r["title"], r["account_id"], r["assignee"] or "",
                 _breaches(r), r["measures"]["mttd"]] for r in rows])  # fmt: skip


def _breaches(row: dict[str, Any]) -> str:
    late = [stage for stage, c in row["sla"].items() if c["breached"]]
    return "BREACHED " + ",".join(late) if late else "ok"


@incidents_app.command("show")
def incidents_show(incident: IdArg, home: HomeOpt = None, output: OutOpt = Output.table) -> None:
    """One incident: its alerts, entities, SLA clocks, measures and timeline."""
    from cloudsoc.cases import incidents, timeline

    h = Home.open(home)
    with _sql(h).connect() as conn:
        data = _public(incidents.get_row(conn, incident), h)
        data["alerts"] = incidents.alerts_of(conn, incident)
        data["timeline"] = timeline.entries(conn, incident)
    if output is Output.json:
        emit_json(data)
        return
    console.print(f"[bold]#{data['id']} {data['title']}[/]  {data['severity']} · {data['status']} · "
                  f"account {data['account_id']} · assignee {data['assignee'] or '-'}")  # fmt: skip
    console.print(f"SLA: {_breaches(data)}   measures (s): {data['measures']}")
    console.print({k: v for k, v in data["entities"].items() if v})
    print_timeline(data["timeline"])


def print_timeline(entries: list[dict[str, Any]]) -> None:
    emit_table("timeline", ["at", "kind", "actor", "what"],
               [[e["at"], e["kind"], e["actor"], e["summary"]] for e in entries])  # fmt: skip


@incidents_app.command("status")
def incidents_status(
    incident: IdArg,
    status: Annotated[
        str, typer.Argument(help="new, acknowledged, contained, eradicated, resolved, closed, false_positive")
    ],
    why: Annotated[str, typer.Option("--why", help="the reason, kept in the timeline")] = "",
    by: ByOpt = "",
    home: HomeOpt = None,
    output: OutOpt = Output.table,
) -> None:
    """Move an incident along the workflow (who, when and why are recorded)."""
    from cloudsoc.cases import incidents

    _change(home, output, incident, lambda c: incidents.set_status(c, incident, status, by=by or _me(), why=why),
            f"incident {incident} is {status}")  # fmt: skip


@incidents_app.command("assign")
def incidents_assign(
    incident: IdArg,
    assignee: Annotated[str, typer.Argument()],
    why: Annotated[str, typer.Option("--why")] = "",
    by: ByOpt = "",
    home: HomeOpt = None,
    output: OutOpt = Output.table,
) -> None:
    """Give an incident to an analyst."""
    from cloudsoc.cases import incidents

    _change(home, output, incident, lambda c: incidents.assign(c, incident, assignee, by=by or _me(), why=why),
            f"incident {incident} assigned to {assignee}")  # fmt: skip


@incidents_app.command("comment")
def incidents_comment(
    incident: IdArg,
    text: Annotated[str, typer.Argument()],
    by: ByOpt = "",
    home: HomeOpt = None,
    output: OutOpt = Output.table,
) -> None:
    """Add a comment to an incident's timeline."""
    from cloudsoc.cases import incidents

    _change(home, output, incident, lambda c: incidents.comment(c, incident, text, by=by or _me()),
            f"comment added to incident {incident}")  # fmt: skip


@incidents_app.command("metrics")
def incidents_metrics(
    home: HomeOpt = None,
    output: OutOpt = Output.table,
    since: Annotated[str, typer.Option(help="ISO time or -30d")] = "-30d",
) -> None:
    """MTTD, MTTA, MTTC, MTTR (seconds: mean, median, p95), counts and SLA breaches."""
    from cloudsoc.cases import incidents, sla
    from cloudsoc.core.timeutil import parse_time, utcnow

    h = Home.open(home)
    with _sql(h).connect() as conn:
        rows = incidents.list_rows(conn, since=parse_time(since), limit=100000)
    data = sla.aggregate(rows, h.settings.incidents.sla, utcnow())
    if output is Output.json:
        emit_json(data)
        return
    emit_table(f"{data['incidents']} incidents", ["measure", "count", "mean s", "median s", "p95 s"],
               [[m.upper(), data[m]["count"], data[m]["mean"], data[m]["median"], data[m]["p95"]]
                for m in sla.MEASURES])  # fmt: skip
    console.print(f"by status {data['by_status']}  by severity {data['by_severity']}  "
                  f"SLA breaches {data['sla_breaches']}")  # fmt: skip


def _change(home: Path | None, output: Output, incident: int, change: Callable[[Connection], object],
            message: str) -> None:  # fmt: skip
    """Make one change in a transaction and show the incident as it now is."""
    from cloudsoc.cases import incidents

    h = Home.open(home)
    with _sql(h).begin() as conn:
        change(conn)
        row = incidents.get_row(conn, incident)
    if output is Output.json:
        emit_json(_public(row, h))
    else:
        console.print(message)
