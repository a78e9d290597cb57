"""``cloudsoc notify``: Notifications and tickets: channels, routing, the delivery outbox."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from cloudsoc.cli.output import HomeOpt, OutOpt, Output, console, emit, emit_json, emit_table
from cloudsoc.core.config import Home

if TYPE_CHECKING:
    from cloudsoc.integrations.notifier import Notifier

notify_app = typer.Typer(
    help="Notifications and tickets: channels, routing, the delivery outbox.", no_args_is_help=True
)


def _open(home: HomeOpt) -> tuple[Home, Notifier]:
    from cloudsoc.integrations.notifier import Notifier

    h = Home.open(home)
    return h, Notifier.from_home(h)


@notify_app.command("channels")
def channels(home: HomeOpt = None, output: OutOpt = Output.table) -> None:
    """The configured channels and the routes that feed them (defaults when none are configured)."""
    from cloudsoc.core.severity import LEVELS

    _, n = _open(home)
    data: dict[str, Any] = {
        "channels": [{"name": name, "type": cfg.type, "target": _target(cfg), "template": cfg.template}
                     for name, cfg in n.config.channels.items()],
        "routes": [{"severities": [s for s in LEVELS if r.takes(s)], "events": r.events, "channels": r.channels,
                    "digest": r.digest} for r in n.routes],
        "defaults": n.config.routes is None,
    }  # fmt: skip
    if output is Output.json:
        emit_json(data)
        return
    emit_table("channels", ["name", "type", "target", "template"],
               [[c["name"], c["type"], c["target"], c["template"] or "default"] for c in data["channels"]])  # fmt: skip
    emit_table("routes" + (" (default)" if data["defaults"] else ""), ["severities", "events", "channels", "when"],
               [[" ".join(r["severities"]), " ".join(r["events"] or ["all"]), " ".join(r["channels"]),
                 "daily digest" if r["digest"] else "at once"] for r in data["routes"]])  # fmt: skip


def _target(cfg: Any) -> str:
    """Where a channel sends, without its secrets (webhook URLs carry theirs in the path)."""
    from cloudsoc.integrations.channels.base import site

    url = {"slack": "webhook_url", "webhook": "url", "pagerduty": "events_url", "servicenow": "instance_url",
           "jira": "base_url"}.get(cfg.type)  # fmt: skip
    if url:
        value = str(getattr(cfg, url))
        shown = value if value.startswith("env:") else site(value)
        return f"{shown} project {cfg.project}" if cfg.type == "jira" else shown
    if cfg.type == "sns":
        return str(cfg.topic_arn)
    return f"{', '.join(cfg.to)} via {cfg.host}:{cfg.port}"


@notify_app.command("outbox")
def outbox_list(
    home: HomeOpt = None,
    output: OutOpt = Output.table,
    status: Annotated[str | None, typer.Option(help="pending, sent, failed or dead")] = None,
    limit: Annotated[int, typer.Option()] = 100,
) -> None:
    """Messages in the outbox, newest first."""
    from cloudsoc.core import db
    from cloudsoc.integrations import outbox

    if status is not None and status not in outbox.STATUSES:
        raise typer.BadParameter(
            f"{status!r} is not one of {', '.join(outbox.STATUSES)}", param_hint="--status"
        )
    h = Home.open(home)
    with db.connect(h.database_url).connect() as conn:
        rows = outbox.listing(conn, status, limit)
    emit(output, rows, f"{len(rows)} messages", ["id", "channel", "event", "incident", "status", "attempts", "next attempt",
               "ref", "error"], [[r["id"], r["channel"], r["event"], r["incident_id"], r["status"], r["attempts"],
               r["next_attempt_at"] if r["status"] in ("pending", "failed") else "", r["external_ref"],
               (r["last_error"] or "")[:120]] for r in rows])  # fmt: skip


@notify_app.command("deliver")
def deliver(home: HomeOpt = None, output: OutOpt = Output.table) -> None:
    """Send every message that is due; failures stay in the outbox for the next run."""
    from cloudsoc.core import db

    h, n = _open(home)
    report = n.deliver_due(db.connect(h.database_url)).to_dict()
    emit(output, report, "delivery", ["sent", "failed (will retry)", "dead", "deferred"],
               [[len(report["sent"]), len(report["failed"]), len(report["dead"]), len(report["deferred"])]])  # fmt: skip


@notify_app.command("digest")
def digest(home: HomeOpt = None, output: OutOpt = Output.table) -> None:
    """Queue the daily digest of yesterday's (UTC) incidents for the digest routes' channels."""
    from cloudsoc.core import db

    h, n = _open(home)
    ids = n.digest(db.connect(h.database_url))
    emit_json({"queued": ids}) if output is Output.json else console.print(
        f"{len(ids)} digest messages queued"
    )


@notify_app.command("retry")
def retry(ids: Annotated[list[int], typer.Argument(help="outbox ids")], home: HomeOpt = None) -> None:
    """Give failed or dead messages a fresh set of attempts (after fixing a channel)."""
    from cloudsoc.core import db
    from cloudsoc.core.timeutil import utcnow
    from cloudsoc.integrations import outbox

    h = Home.open(home)
    with db.connect(h.database_url).begin() as conn:
        console.print(f"{outbox.requeue(conn, ids, utcnow())} messages queued again")


@notify_app.command("test")
def test(
    channel: Annotated[str, typer.Argument(help="channel name")],
    home: HomeOpt = None,
    output: OutOpt = Output.table,
) -> None:
    """Send a test message to one channel now (ticketing channels only check their access)."""
    from cloudsoc.core import db

    h, n = _open(home)
    row = n.test(db.connect(h.database_url), channel)
    if output is Output.json:
        emit_json(row)
    else:
        console.print(
            f"{channel}: {row['status']}" + (f" ({row['last_error']})" if row["last_error"] else "")
        )
    raise typer.Exit(0 if row["status"] == "sent" else 1)
