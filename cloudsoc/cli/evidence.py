"""``cloudsoc evidence``: The evidence locker: content-addressed, hash-chained, signed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cloudsoc.cli.output import HomeOpt, OutOpt, Output, console, emit, emit_json
from cloudsoc.core.config import Home

if TYPE_CHECKING:
    from cloudsoc.respond.evidence import Locker
    from cloudsoc.respond.evidence_verify import Verification

evidence_app = typer.Typer(
    help="The evidence locker: content-addressed, hash-chained, signed.", no_args_is_help=True
)

IncidentArg = Annotated[int, typer.Argument(help="incident id")]
ActorOpt = Annotated[str | None, typer.Option("--actor", help="who acts (default: the OS user)")]


def _locker(home: Path | None) -> Locker:
    from cloudsoc.respond.evidence import Locker

    return Locker.open(Home.open(home))


def _actor(actor: str | None) -> str:
    from cloudsoc.respond.evidence import default_actor

    return actor or default_actor()


@evidence_app.command("list")
def evidence_list(incident: IncidentArg, home: HomeOpt = None, output: OutOpt = Output.table) -> None:
    """The artifacts of an incident."""
    arts = _locker(home).artifacts(incident)
    emit(output, [a.model_dump(mode="json") for a in arts], f"incident {incident}: {len(arts)} artifacts", ["seq", "kind", "name", "sha256", "bytes", "added", "by"],
               [[a.seq, a.kind, a.name, a.sha256[:16], a.size, a.at.isoformat(timespec="seconds"), a.actor]
                for a in arts])  # fmt: skip


@evidence_app.command("custody")
def evidence_custody(incident: IncidentArg, home: HomeOpt = None, output: OutOpt = Output.table) -> None:
    """The chain of custody of an incident: who added, read or exported what, when and why."""
    entries = _locker(home).custody(incident)
    emit(output, [e.model_dump(mode="json") for e in entries], f"incident {incident}: custody", ["seq", "op", "kind", "name", "at", "actor", "reason"],
               [[e.seq, e.op, e.kind, e.name, e.at.isoformat(timespec="seconds"), e.actor, e.reason]
                for e in entries])  # fmt: skip


@evidence_app.command("export")
def evidence_export(
    incident: IncidentArg,
    to: Annotated[Path, typer.Option("--to", help="a new folder, or a file ending .tar.gz")],
    reason: Annotated[str, typer.Option("--reason", help="why the evidence leaves the locker")],
    actor: ActorOpt = None,
    home: HomeOpt = None,
    output: OutOpt = Output.table,
) -> None:
    """Export an incident's evidence with its manifest, signature, public key and a README."""
    locker = _locker(home)
    path = locker.export(incident, to, actor=_actor(actor), reason=reason)
    if output is Output.json:
        emit_json({"incident": incident, "export": str(path), "key_fingerprint": locker.key_fingerprint})
    else:
        console.print(f"exported incident {incident} to {path} (key {locker.key_fingerprint})")


@evidence_app.command("verify")
def evidence_verify(
    incident: Annotated[int | None, typer.Argument(help="incident id (or give --export)")] = None,
    export: Annotated[Path | None, typer.Option("--export", help="verify an export instead")] = None,
    expect_key: Annotated[
        str | None, typer.Option("--expect-key", help="the fingerprint an export's key must have")
    ] = None,
    home: HomeOpt = None,
    output: OutOpt = Output.table,
) -> None:
    """Check an incident's evidence (or an export): exit code 1 when anything was tampered with."""
    from cloudsoc.respond.evidence_export import verify_export

    if (incident is None) == (export is None):
        raise typer.BadParameter("give an incident id or --export PATH")
    if export is not None:
        result = verify_export(export, expected_key=expect_key)
    else:
        assert incident is not None
        result = _locker(home).verify(incident)
    _show(result, output)
    raise typer.Exit(0 if result.ok else 1)


def _show(result: Verification, output: Output) -> None:
    if output is Output.json:
        emit_json(result.to_dict())
        return
    state = "[green]verified[/]" if result.ok else f"[red]FAILED[/] ({len(result.problems)} problems)"
    console.print(f"incident {result.incident_id} at {result.location}: {state}; {result.entries} entries, "
                  f"{result.artifacts} artifacts, key {result.key_fingerprint}")  # fmt: skip
    for problem in result.problems:
        console.print(f"  [red]-[/] {problem}")
