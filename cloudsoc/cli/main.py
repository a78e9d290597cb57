"""``cloudsoc``: ingest, detect, hunt, alerts, rules; sandbox, simulate, validate; incidents, actions,
playbooks, evidence, notify; posture."""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cloudsoc.cli.actions import actions_app
from cloudsoc.cli.evidence import evidence_app
from cloudsoc.cli.incidents import incidents_app
from cloudsoc.cli.notify import notify_app
from cloudsoc.cli.output import HomeOpt, OutOpt, Output, console, emit, emit_json, emit_json_line, emit_table
from cloudsoc.cli.playbooks import playbooks_app
from cloudsoc.cli.posture import posture_app
from cloudsoc.cli.simulate import sandbox_app, simulate_app, validate
from cloudsoc.core.config import Home
from cloudsoc.core.errors import CloudSOCError

if TYPE_CHECKING:
    from cloudsoc.detect.rules import Rule, RuleSet

# Layers are imported inside each command: `ingest` should not pay for the detection engine.

app = typer.Typer(help="cloudsoc: security operations for AWS organizations.", no_args_is_help=True)
alerts_app = typer.Typer(help="Alerts raised by detections and findings.", no_args_is_help=True)
rules_app = typer.Typer(help="Detection rules.", no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")
app.add_typer(rules_app, name="rules")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(simulate_app, name="simulate")
app.command("validate")(validate)
app.add_typer(incidents_app, name="incidents")
app.add_typer(actions_app, name="actions")
app.add_typer(playbooks_app, name="playbooks")
app.add_typer(evidence_app, name="evidence")
app.add_typer(notify_app, name="notify")
app.add_typer(posture_app, name="posture")

RulesOpt = Annotated[list[Path] | None, typer.Option("--rules", help="extra rule files or folders")]


def _home(path: Path | None) -> Home:
    return Home.open(path)


def _rules(home: Home, extra: list[Path] | None) -> RuleSet:
    from cloudsoc.detect import rules as rule_loader

    rs = rule_loader.load([*home.rule_paths(), *(extra or [])], home.settings.detect.placeholders)
    for err in rs.errors:
        console.print(f"[yellow]rule not loaded[/] {err}")
    return rs


@app.command()
def ingest(
    paths: Annotated[list[str] | None, typer.Argument(help="files, folders or s3://bucket/prefix")] = None,
    home: HomeOpt = None,
    output: OutOpt = Output.table,
    workers: Annotated[
        int, typer.Option(help="parser processes (0: the configured number, or one per core)")
    ] = 0,
    queue: Annotated[
        str | None, typer.Option(help="SQS queue URL of the live EventBridge feed, drained once")
    ] = None,
    sandbox: Annotated[bool, typer.Option(help="read S3 and the queue in the sandbox organization")] = False,
) -> None:
    """Ingest CloudTrail, GuardDuty, Security Hub and VPC Flow Logs into the lake."""
    from cloudsoc.lake.workers import start_forkserver, worker_count

    h = _home(home)
    if paths and worker_count(h, workers) > 1:
        start_forkserver()  # its imports run beside the ingest's, which follow
    from cloudsoc.lake.ingest import ingest as run_ingest

    s3, sqs = _readers(h, sandbox)
    if not paths and not queue:
        raise typer.BadParameter("give paths, s3:// prefixes or --queue")
    if queue:
        from cloudsoc.collect.live import collect_live

        taken = collect_live(sqs(), queue, h.root / "spool", lambda p: run_ingest(h, p, workers=1))
        if not paths:
            emit_json({"queue": queue, "messages": taken}) if output is Output.json else console.print(
                f"live queue: {taken} messages ingested")  # fmt: skip
            return
    summary = _with_progress(
        lambda cb: run_ingest(h, paths or [], s3=s3, workers=workers, progress=cb), output
    )
    if output is Output.json:
        emit_json(summary.to_dict())
    else:
        emit_table("ingest", ["files", "skipped", "events", "duplicates", "quarantined", "seconds"],
                   [[summary.files, summary.files_skipped, summary.events_ingested, summary.duplicates_skipped,
                     len(summary.quarantined), summary.seconds]])  # fmt: skip
        for q in summary.quarantined:
            where = f" record {q.record_index}" if q.record_index is not None else ""
            console.print(f"[red]quarantined[/] {q.uri}{where}: {q.reason}")
    raise typer.Exit(2 if summary.partial else 0)


def _aws_sqs():  # type: ignore[no-untyped-def]
    from cloudsoc.aws.session import client

    return client("sqs")


def _readers(h: Home, sandbox: bool):  # type: ignore[no-untyped-def]
    """S3 and SQS clients: AWS's by default; with --sandbox, cloudsoc's own identity in the sandbox
    (its role in the log-archive account for S3, its user in the security account for the queue)."""
    if not sandbox:  # boto3 is imported only when S3 or the queue is read
        return None, _aws_sqs
    from cloudsoc.aws.sandbox import Sandbox
    from cloudsoc.aws.session import ClientFactory

    sb = Sandbox(h.root)
    state = sb.state()
    return (ClientFactory.of(sb.soc_session(state, "log-archive"), "s3"),
            ClientFactory.of(sb.soc_session(state), "sqs"))  # fmt: skip


def _with_progress(run, output: Output):  # type: ignore[no-untyped-def]
    if not console.is_terminal:
        return run(None)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    cols = [TextColumn("ingest"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[events]} events"),
            TimeElapsedColumn()]  # fmt: skip
    with Progress(*cols, console=console, transient=output is Output.json) as bar:
        task = bar.add_task("ingest", total=None, events=0)
        return run(lambda done, total, events: bar.update(task, completed=done, total=total, events=events))


@app.command()
def detect(
    home: HomeOpt = None,
    output: OutOpt = Output.table,
    rules: RulesOpt = None,
    follow: Annotated[bool, typer.Option("--follow", help="keep evaluating newly ingested events")] = False,
    interval: Annotated[float | None, typer.Option(help="seconds between runs with --follow")] = None,
    cycles: Annotated[int, typer.Option(help="stop after this many runs with --follow (0: never)")] = 0,
) -> None:
    """Evaluate the events ingested since the last run and raise alerts."""
    from cloudsoc.cases.detection import detect_new, group_incidents
    from cloudsoc.core import db

    h = _home(home)
    rs = _rules(h, rules)
    sql = db.connect(h.database_url)
    n = 0
    while True:
        summary = detect_new(h, rs, sql)
        summary.incidents = group_incidents(h, sql)
        n += 1
        if output is Output.json:
            emit_json_line(summary.to_dict())
        elif summary.files or not follow:
            a = summary.alerts
            emit_table("detect", ["files", "events", "matches", "new alerts", "updated", "suppressed", "incidents",
                                  "seconds"],
                       [[summary.files, summary.events, summary.matches, a.new, a.updated, a.suppressed,
                         len(summary.incidents), summary.seconds]])  # fmt: skip
        if not follow or (cycles and n >= cycles):
            return
        time.sleep(interval if interval is not None else h.settings.detect.follow_interval_seconds)


@app.command("watch")
def watch_cmd(
    home: HomeOpt = None,
    output: OutOpt = Output.table,
    sandbox: Annotated[bool, typer.Option(help="watch the sandbox organization's live queue")] = False,
    queue: Annotated[str | None, typer.Option(help="SQS queue URL of the live EventBridge feed")] = None,
    interval: Annotated[float, typer.Option(help="seconds between cycles")] = 2.0,
    cycles: Annotated[int, typer.Option(help="stop after this many cycles (0: never)")] = 0,
    posture: Annotated[
        bool, typer.Option(help="judge the posture checks again on every change event")
    ] = True,
) -> None:
    """The SOC loop: collect, detect, group into incidents, run playbooks, notify; one line per cycle."""
    from cloudsoc.aws.session import client
    from cloudsoc.watch import Cycle, Watch

    h = _home(home)
    w = (Watch.for_sandbox(h, posture=posture) if sandbox
         else Watch(h, queue_url=queue, sqs=client("sqs") if queue else None, posture=posture))  # fmt: skip

    def show(c: Cycle) -> None:
        if output is Output.json:
            emit_json_line(c.to_dict())
        elif c.events or c.executions_run or c.notifications_sent or c.posture_changes:
            console.print(f"{c.messages} messages, {c.events} events, {c.new_alerts} new alerts, incidents "
                          f"{c.incidents}, playbooks started {c.executions_started}, run {c.executions_run}, "
                          f"{c.notifications_sent} notifications, {c.posture_changes} posture changes ({c.seconds}s)")  # fmt: skip

    w.run(interval, cycles, show)


@app.command("hunt")
def hunt_cmd(
    home: HomeOpt = None,
    output: OutOpt = Output.table,
    rule: Annotated[list[str] | None, typer.Option("--rule", help="rule id or rule file")] = None,
    sql: Annotated[
        str | None, typer.Option("--sql", help="SQL over the views cloudtrail, guardduty, ...")
    ] = None,
    since: Annotated[str, typer.Option(help="ISO time or -7d")] = "-30d",
    until: Annotated[str | None, typer.Option(help="ISO time (default now)")] = None,
    store: Annotated[bool, typer.Option("--store", help="record the matches as alerts")] = False,
) -> None:
    """Run rules over stored history, or ad-hoc SQL over the lake."""
    from cloudsoc.cases.detection import hunt, store_matches
    from cloudsoc.core.timeutil import parse_time, utcnow
    from cloudsoc.lake.store import Lake

    h = _home(home)
    if sql:
        con = Lake(h.lake).connect()
        cur = con.execute(sql)
        cols = [d[0] for d in cur.description]
        rows = cur.fetchall()
        emit(output, [dict(zip(cols, r, strict=True)) for r in rows], "hunt", cols, rows)
        return
    if not rule:
        raise typer.BadParameter("give --rule or --sql")
    chosen = _pick_rules(h, rule)
    matches = hunt(h, chosen, parse_time(since), parse_time(until) if until else utcnow())
    data = [{"rule_id": m.rule.id, "title": m.rule.title, "severity": m.rule.severity, "first_seen": m.first_seen,
             "last_seen": m.last_seen, "account_id": m.account_id, "principal": m.principal,
             "event_ids": m.event_ids} for m in matches]  # fmt: skip
    if store:
        store_matches(h, matches)
    emit(output, data, f"hunt: {len(data)} matches", ["rule", "severity", "first seen", "account", "principal", "events"],
                   [[d["rule_id"], d["severity"], d["first_seen"], d["account_id"], d["principal"],
                     len(d["event_ids"])] for d in data])  # type: ignore[arg-type]  # fmt: skip


def _pick_rules(h: Home, wanted: list[str]) -> list[Rule]:
    files = [Path(w) for w in wanted if Path(w).exists()]
    rs = _rules(h, files)
    chosen = [rs.by_id(w) for w in wanted if not Path(w).exists()]
    chosen += [r for r in rs.rules if any(Path(r.path).resolve() == f.resolve() for f in files)]
    # a correlation needs its base rules in the same run
    return chosen + [b for r in chosen if r.correlation for b in r.correlation.rules if b not in chosen]


@alerts_app.command("list")
def alerts_list(
    home: HomeOpt = None,
    output: OutOpt = Output.table,
    status: Annotated[str, typer.Option(help="open, suppressed or all")] = "open",
    severity: Annotated[str | None, typer.Option()] = None,
    rule: Annotated[str | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option()] = 100,
) -> None:
    """List alerts, newest first."""
    from cloudsoc.cases import alerts as alert_store
    from cloudsoc.core import db

    h = _home(home)
    with db.connect(h.database_url).connect() as conn:
        rows = alert_store.list_alerts(conn, status=None if status == "all" else status, severity=severity,
                                       rule=rule, limit=limit)  # fmt: skip
    emit(output, rows, f"{len(rows)} alerts", ["id", "severity", "rule", "title", "account", "principal", "count", "last seen"],
               [[r["id"], r["severity"], r["rule_id"], r["title"], r["account_id"], r["principal"], r["count"],
                 r["last_seen"]] for r in rows])  # fmt: skip


@alerts_app.command("show")
def alerts_show(alert_id: int, home: HomeOpt = None, output: OutOpt = Output.table) -> None:
    """One alert with the ids of every event that produced it."""
    from cloudsoc.cases import alerts as alert_store
    from cloudsoc.core import db

    h = _home(home)
    with db.connect(h.database_url).connect() as conn:
        row = alert_store.get_alert(conn, alert_id)
    if row is None:
        console.print(f"[red]no alert {alert_id}[/]")
        raise typer.Exit(1)
    emit(output, row, f"alert {alert_id}", ["field", "value"], [[k, v] for k, v in row.items()])


@rules_app.command("list")
def rules_list(home: HomeOpt = None, output: OutOpt = Output.table, rules: RulesOpt = None) -> None:
    """Every loaded rule, and every rule that could not be loaded with the reason."""
    h = _home(home)
    rs = _rules(h, rules)
    data = {
        "rules": [{"id": r.id, "title": r.title, "kind": r.kind, "severity": r.severity, "source": r.source,
                   "attack": r.attack, "alert": r.alert, "tests": len(r.tests), "path": r.path} for r in rs.rules],
        "errors": [{"path": e.path, "line": e.line, "reason": e.reason} for e in rs.errors],
    }  # fmt: skip
    emit(output, data, f"{len(rs.rules)} rules", ["id", "kind", "severity", "attack", "tests"],
               [[r.id, r.kind, r.severity, " ".join(r.attack), len(r.tests)] for r in rs.rules])  # fmt: skip


@rules_app.command("test")
def rules_test(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="rule files or folders (default: bundled)")
    ] = None,
    home: HomeOpt = None,
    output: OutOpt = Output.table,
) -> None:
    """Run the test events embedded in each rule; a rule without both kinds of test fails."""
    from cloudsoc.detect import rules as rule_loader
    from cloudsoc.detect.testing import run_tests

    h = _home(home)
    rs = rule_loader.load(paths or h.rule_paths(), h.settings.detect.placeholders)
    results = run_tests(rs)
    failed = [r for r in results if not r.passed]
    if output is Output.json:
        emit_json({"passed": len(results) - len(failed), "failed": len(failed),
                   "errors": [str(e) for e in rs.errors], "results": [r.__dict__ for r in results]})  # fmt: skip
    else:
        for e in rs.errors:
            console.print(f"[red]error[/] {e}")
        for r in failed:
            console.print(f"[red]FAIL[/] {r.rule_id} ({r.path}) {r.name}: {r.detail}")
        console.print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    raise typer.Exit(1 if failed or rs.errors else 0)


def main() -> None:
    """The ``cloudsoc`` command. Its process ends without the interpreter's teardown, which spends
    about 0.2 s freeing the state of Arrow, DuckDB and SQLAlchemy: a command has committed and
    closed its work when it returns, so only the output streams are left to flush."""
    try:
        app()
        code = 0
    except CloudSOCError as exc:
        console.print(f"[red]error:[/] {exc}")
        code = 1
    except SystemExit as exc:
        if exc.code is not None and not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)
        code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
