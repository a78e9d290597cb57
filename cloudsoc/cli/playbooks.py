"""``cloudsoc playbooks``: Playbooks: durable response workflows in the Amazon States Language vocabulary."""

from __future__ import annotations

import getpass
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from cloudsoc.cli.output import HomeOpt, OutOpt, Output, console, emit, emit_json, emit_table
from cloudsoc.core.config import Home

if TYPE_CHECKING:
    from cloudsoc.respond.engine import Engine, ExecutionStatus
    from cloudsoc.respond.playbook import PlaybookSet
    from cloudsoc.watch import Watch

playbooks_app = typer.Typer(
    help="Playbooks: durable response workflows in the Amazon States Language vocabulary.",
    no_args_is_help=True,
)

ExecArg = Annotated[int, typer.Argument(help="execution id")]
NameArg = Annotated[str, typer.Argument(help="playbook name (its file name without .yml)")]
StateOpt = Annotated[str | None, typer.Option("--state", help="the approval state (when several wait)")]
ByOpt = Annotated[str | None, typer.Option("--by", help="who decides (default: the login name)")]
ReasonOpt = Annotated[str, typer.Option("--reason", help="why")]


def _paths(home: Home) -> list[Path]:
    from cloudsoc.respond.playbook import BUNDLED

    return [p for p in (BUNDLED, home.root / "playbooks") if p.exists()]


def _load(home: Home) -> PlaybookSet:
    from cloudsoc.respond.playbook import load_playbooks

    found = load_playbooks(_paths(home))
    for problem in found.problems:
        console.print(f"[yellow]skipped:[/] {problem}")
    return found


def _engine(home: Home) -> Engine:
    """An engine to read, decide and cancel executions with; commands that run steps use ``_watching``."""
    from cloudsoc.core import db
    from cloudsoc.respond.access import Responder
    from cloudsoc.respond.engine import Engine

    return Engine(db.connect(home.database_url), Responder.for_home(home), settings=home.settings.respond)


def _watching(home: Home) -> tuple[Engine, Watch]:
    """The engine of ``cloudsoc watch``, with its notify and evidence handlers, and the watch whose
    ``settle`` to call after a run (every action record kept as evidence, the incidents its playbooks
    contained marked so)."""
    from cloudsoc.watch import Watch

    watch = Watch(home)
    return watch.engine, watch


def _fail(message: str) -> NoReturn:
    console.print(f"[red]error:[/] {message}")
    raise typer.Exit(1)


@playbooks_app.command("list")
def playbooks_list(home: HomeOpt = None, output: OutOpt = Output.table) -> None:
    """Every playbook (bundled and in the home's playbooks/ folder) with what starts it."""
    found = _load(Home.open(home))
    rows = [{"name": p.name, "comment": p.comment, "file": p.file, "hash": p.content_hash,
             "trigger": p.trigger.model_dump(exclude_defaults=True) if p.trigger else None} for p in found]  # fmt: skip
    emit(output, rows, f"{len(rows)} playbooks", ["name", "trigger", "what it does"],
               [[r["name"], json.dumps(r["trigger"]), r["comment"]] for r in rows])  # fmt: skip


@playbooks_app.command("validate")
def playbooks_validate(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="files or folders (default: all playbooks)")
    ] = None,
    home: HomeOpt = None,
    output: OutOpt = Output.table,
) -> None:
    """Check playbooks; print every problem (file:line: state: message); exit 1 when there is one."""
    from cloudsoc.respond.playbook import load_playbooks

    found = load_playbooks(paths or _paths(Home.open(home)))
    if output is Output.json:
        emit_json(
            {"playbooks": sorted(found.playbooks), "problems": [p.model_dump() for p in found.problems]}
        )
    else:
        for problem in found.problems:
            typer.echo(str(problem))
        console.print(f"{len(found.playbooks)} playbooks valid, {len(found.problems)} problems")
    if found.problems:
        raise typer.Exit(1)


def _incident_doc(watch: Watch, incident: int) -> dict[str, Any]:
    """The incident document the watcher starts playbooks with."""
    from cloudsoc.cases import incidents

    try:
        with watch.sql.begin() as conn:
            return watch.document(conn, incident)
    except incidents.IncidentError as exc:
        _fail(str(exc))


@playbooks_app.command("run")
def playbooks_run(
    name: NameArg,
    incident: Annotated[int | None, typer.Option("--incident", help="incident id")] = None,
    input_json: Annotated[
        str | None, typer.Option("--input", help="input document (JSON), merged over")
    ] = None,
    home: HomeOpt = None,
    output: OutOpt = Output.table,
) -> None:
    """Start the playbook for an incident (once per incident) and run it until it ends or waits."""
    h = Home.open(home)
    pb = _load(h).get(name)
    engine, watch = _watching(h)
    doc = _incident_doc(watch, incident) if incident is not None else {}
    try:
        doc |= json.loads(input_json) if input_json else {}
    except json.JSONDecodeError as exc:
        _fail(f"--input is not JSON: {exc}")
    if not doc:
        _fail("give --incident or --input")
    status = engine.run(engine.start(pb, doc, incident))
    watch.settle()
    _report(status, output)


def _decide(execution: int, approved: bool, state: str | None, by: str | None, reason: str,
            home: Path | None, output: Output) -> None:  # fmt: skip
    from cloudsoc.respond.engine import ApprovalError

    h = Home.open(home)
    try:
        _engine(h).approve(execution, by or getpass.getuser(), reason, approved, state)
    except ApprovalError as exc:
        _fail(str(exc))
    engine, watch = _watching(h)
    status = engine.run(execution)
    watch.settle()
    _report(status, output)


@playbooks_app.command("approve")
def playbooks_approve(execution: ExecArg, state: StateOpt = None, by: ByOpt = None, reason: ReasonOpt = "",
                      home: HomeOpt = None, output: OutOpt = Output.table) -> None:  # fmt: skip
    """Approve a waiting approval; the execution goes on."""
    _decide(execution, True, state, by, reason, home, output)


@playbooks_app.command("deny")
def playbooks_deny(execution: ExecArg, state: StateOpt = None, by: ByOpt = None, reason: ReasonOpt = "",
                   home: HomeOpt = None, output: OutOpt = Output.table) -> None:  # fmt: skip
    """Deny a waiting approval; the execution goes on down its denied branch."""
    _decide(execution, False, state, by, reason, home, output)


@playbooks_app.command("executions")
def playbooks_executions(
    status: Annotated[
        str | None, typer.Option("--status", help="running|waiting|succeeded|failed|cancelled")
    ] = None,
    home: HomeOpt = None,
    output: OutOpt = Output.table,
) -> None:
    """Executions, the newest first."""
    rows = [e.model_dump(mode="json") for e in _engine(Home.open(home)).executions(status)]
    emit(output, rows, f"{len(rows)} executions", ["id", "playbook", "incident", "status", "at", "until"],
               [[r["id"], r["playbook"], r["incident_id"], r["status"], ", ".join(r["current"]), r["wake_at"]]
                for r in rows])  # fmt: skip


@playbooks_app.command("show")
def playbooks_show(execution: ExecArg, home: HomeOpt = None, output: OutOpt = Output.table) -> None:
    """One execution and every step it took."""
    engine = _engine(Home.open(home))
    status = engine.status(execution)
    data = status.model_dump(mode="json")
    data["steps"] = [{k: v for k, v in s.items() if k != "execution_id"} for s in engine.steps(execution)]
    if output is Output.json:
        emit_json(data)
        return
    _report(status, output)
    emit_table("steps", ["path", "attempt", "kind", "status", "mode", "result"],
               [[s["path"], s["attempt"], s["kind"], s["status"], s["mode"], _brief(s)] for s in data["steps"]])  # fmt: skip


def _brief(step: dict[str, Any]) -> str:
    if step["error"]:
        return f"{step['error'].get('Error')}: {step['error'].get('Cause', '')}"[:160]
    out = step["output"]
    if isinstance(out, dict) and "action" in out and "status" in out:
        return f"{out['status']}: {'; '.join(out.get('changes') or [])}"[:160]
    return json.dumps(out, default=str)[:160]


@playbooks_app.command("work")
def playbooks_work(
    follow: Annotated[bool, typer.Option("--follow", help="keep polling for due executions")] = False,
    max_executions: Annotated[int, typer.Option("--max", help="stop after this many runs (0: no limit)")] = 0,
    home: HomeOpt = None,
) -> None:
    """Run every due execution: new ones, ones whose worker died, waits and approvals that are over."""
    engine, watch = _watching(Home.open(home))
    ran = 0
    while not max_executions or ran < max_executions:
        now = engine.work(max_executions=max_executions - ran if max_executions else 0)
        ran += now
        if now:
            watch.settle()
        elif not follow:
            break
        else:
            time.sleep(1.0)
    console.print(f"{ran} executions run")


@playbooks_app.command("cancel")
def playbooks_cancel(execution: ExecArg, home: HomeOpt = None) -> None:
    """Stop an execution (running steps finish; nothing more starts)."""
    if not _engine(Home.open(home)).cancel(execution):
        _fail(f"execution {execution} is not running or waiting")
    console.print(f"execution {execution} cancelled")


@playbooks_app.command("export")
def playbooks_export(
    name: NameArg,
    fmt: Annotated[str, typer.Option("--format", help="stepfunctions")] = "stepfunctions",
    region: Annotated[str, typer.Option(help="region of the cloudsoc-respond Lambda function")] = "us-east-1",
    account: Annotated[
        str, typer.Option(help="account of the cloudsoc-respond Lambda function")
    ] = "123456789012",
    home: HomeOpt = None,
    output: OutOpt = Output.json,
) -> None:
    """The playbook as an AWS Step Functions state machine definition."""
    from cloudsoc.respond.stepfunctions import export

    if fmt != "stepfunctions":
        _fail(f"unknown format {fmt!r} (stepfunctions)")
    h = Home.open(home)
    emit_json(export(_load(h).get(name), region=region, account=account,
                     approval_timeout_minutes=h.settings.respond.approval_timeout_minutes))  # fmt: skip


def _report(status: ExecutionStatus, output: Output) -> None:
    if output is Output.json:
        emit_json(status.model_dump(mode="json"))
        return
    line = f"execution {status.id} ({status.playbook}): {status.status}"
    if status.current:
        line += f" at {', '.join(status.current)}"
    if status.status == "waiting" and status.wake_at:
        line += f" until {status.wake_at.isoformat()}"
    if status.error:
        line += f" - {status.error.get('Error')}: {status.error.get('Cause', '')}"
    console.print(line)
