"""``cloudsoc sandbox``, ``cloudsoc simulate`` and ``cloudsoc validate``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cloudsoc.cli.output import HomeOpt, OutOpt, Output, console, emit, emit_json, emit_table
from cloudsoc.core.config import Home

sandbox_app = typer.Typer(help="The local sandbox AWS organization.", no_args_is_help=True)
simulate_app = typer.Typer(help="Attack techniques and background activity.", no_args_is_help=True)

AccountOpt = Annotated[str, typer.Option(help="target account (name or id)")]


@sandbox_app.command("up")
def sandbox_up(
    home: HomeOpt = None,
    output: OutOpt = Output.table,
    port: Annotated[int, typer.Option(help="loopback port (0: any free port)")] = 0,
) -> None:
    """Start the sandbox server and build the organization (if not already running)."""
    from cloudsoc.aws.sandbox import Sandbox

    sb = Sandbox(Home.open(home).root)
    sb.up(port)
    _status(sb.status(), output)


@sandbox_app.command("down")
def sandbox_down(home: HomeOpt = None) -> None:
    """Stop the sandbox server; everything in it is gone."""
    from cloudsoc.aws.sandbox import Sandbox

    stopped = Sandbox(Home.open(home).root).down()
    console.print("sandbox stopped" if stopped else "no sandbox was running")


@sandbox_app.command("reset")
def sandbox_reset(home: HomeOpt = None, output: OutOpt = Output.table) -> None:
    """Throw away every resource and build the organization again."""
    from cloudsoc.aws.sandbox import Sandbox

    sb = Sandbox(Home.open(home).root)
    sb.reset()
    (Home.open(home).root / "simulate" / "state.json").unlink(missing_ok=True)
    _status(sb.status(), output)


@sandbox_app.command("status")
def sandbox_status(home: HomeOpt = None, output: OutOpt = Output.table) -> None:
    """Whether the sandbox runs, its endpoint and its accounts."""
    from cloudsoc.aws.sandbox import Sandbox

    _status(Sandbox(Home.open(home).root).status(), output)


def _status(status: dict[str, object], output: Output) -> None:
    if output is Output.json:
        emit_json(status)
        return
    if not status.get("running"):
        console.print("sandbox: not running")
        return
    accounts = status.get("accounts") or {}
    assert isinstance(accounts, dict)
    console.print(
        f"sandbox: running at {status['endpoint']} (pid {status['pid']}), organization {status['org_id']}"
    )
    emit_table("accounts", ["name", "account id"], sorted(accounts.items(), key=lambda kv: kv[1]))


@simulate_app.command("list")
def simulate_list(output: OutOpt = Output.table) -> None:
    """Every attack technique, with its ATT&CK ids and the detections it expects."""
    from cloudsoc.simulate.technique import TECHNIQUES

    rows = [{"id": tid, "tactic": t.tactic, "title": t.title, "attack": list(t.attack), "expects": list(t.expects),
             "synthetic": list(t.synthetic)} for tid, t in TECHNIQUES.items()]  # fmt: skip
    emit(output, rows, f"{len(rows)} techniques", ["id", "ATT&CK", "expected detections"],
               [[r["id"], " ".join(r["attack"]), " ".join(r["expects"])] for r in rows])  # fmt: skip


@simulate_app.command("run")
def simulate_run(
    technique: Annotated[list[str], typer.Argument(help="technique ids")],
    home: HomeOpt = None,
    output: OutOpt = Output.table,
    account: AccountOpt = "prod",
) -> None:
    """Warm up and detonate techniques; their CloudTrail goes to the log archive and the live queue."""
    from cloudsoc.simulate.runner import Runner

    runner = Runner(Home.open(home))
    results = [runner.run(t, account).to_dict() for t in technique]
    emit(output, results, "detonated", ["technique", "run id", "events", "synthetic", "failed calls", "seconds"],
               [[r["technique"], r["run_id"], r["events"], r["synthetic"], r["failed_calls"], r["seconds"]]
                for r in results])  # fmt: skip


@simulate_app.command("revert")
def simulate_revert(
    technique: Annotated[list[str], typer.Argument(help="technique ids")], home: HomeOpt = None
) -> None:
    """Undo techniques (detonation and warm-up)."""
    from cloudsoc.simulate.runner import Runner

    runner = Runner(Home.open(home))
    for t in technique:
        console.print(f"{t}: {'reverted' if runner.revert(t) else 'nothing to revert'}")


@simulate_app.command("background")
def simulate_background(
    home: HomeOpt = None,
    output: OutOpt = Output.table,
    actions: Annotated[int, typer.Option(help="actions to make")] = 200,
    rate: Annotated[float, typer.Option(help="actions per second (0: as fast as possible)")] = 0.0,
    account: Annotated[
        list[str] | None, typer.Option(help="workload accounts (default: prod and dev)")
    ] = None,
) -> None:
    """Benign activity of the accounts' regulars (deploys, applications, administrators, jobs)."""
    from cloudsoc.simulate.background import background
    from cloudsoc.simulate.runner import Runner

    runner = Runner(Home.open(home))
    done = background([runner.context(a) for a in account or ["prod", "dev"]], actions, rate)
    emit(output, dict(done), "background activity", ["persona", "actions"], sorted(done.items()))


def validate(
    technique: Annotated[
        list[str] | None, typer.Option("--technique", "-t", help="technique id (repeatable)")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="every technique")] = False,
    home: HomeOpt = None,
    output: OutOpt = Output.table,
    account: AccountOpt = "prod",
    noise: Annotated[int, typer.Option(help="background actions before each technique")] = 0,
    navigator: Annotated[Path | None, typer.Option(help="write an ATT&CK Navigator layer here")] = None,
    heatmap: Annotated[Path | None, typer.Option(help="write a coverage heatmap (SVG) here")] = None,
) -> None:
    """Detonate techniques, ingest, detect, and check that the expected detections fired."""
    from cloudsoc.aws.sandbox import Sandbox
    from cloudsoc.simulate.background import background
    from cloudsoc.simulate.coverage import heatmap_svg, navigator_layer
    from cloudsoc.simulate.runner import Runner
    from cloudsoc.simulate.technique import TECHNIQUES
    from cloudsoc.simulate.validate import validate as run_validate

    if not technique and not all_:
        raise typer.BadParameter("give --technique or --all")
    h = Home.open(home)
    Sandbox(h.root).up()
    runner = Runner(h)
    noisy = (lambda: background([runner.context(a) for a in ("prod", "dev")], noise)) if noise else None
    show = None if output is Output.json else (lambda r: console.print(
        f"{'[green]detected[/]' if r.detected else '[red]MISSED[/]'} {r.technique} "
        f"{', '.join(r.fired) or r.error or ''}"))  # fmt: skip
    result = run_validate(
        h, technique or TECHNIQUES.names(), account=account, background=noisy, progress=show
    )
    if navigator:
        navigator.write_text(json.dumps(navigator_layer(result.results), indent=1))
    if heatmap:
        heatmap.write_text(heatmap_svg(result.results))
    emit(output, result.to_dict(), f"{result.detected}/{len(result.results)} techniques detected",
                   ["technique", "detected", "rules", "seconds to detect", "noise alerts"],
                   [[r.technique, "yes" if r.detected else "NO", ", ".join(r.fired) or r.error or "",
                     r.seconds_to_detect, sum(r.noise.values())] for r in result.results])  # fmt: skip
    raise typer.Exit(0 if result.detected == len(result.results) else 1)


@simulate_app.command("noise")
def simulate_noise(
    home: HomeOpt = None,
    output: OutOpt = Output.table,
    events: Annotated[int, typer.Option(help="events in the simulated day")] = 100_000,
) -> None:
    """The noise budget: alerts a simulated benign day raises (high or critical ones fail it)."""
    from cloudsoc.simulate.noise import noise_day

    report = noise_day(Home.open(home), events)
    emit(output, {"events": report.events, "by_severity": report.by_severity, "by_rule": report.by_rule}, f"noise over {report.events:,} benign events", ["severity rule", "alerts"],
                   sorted(report.by_rule.items()))  # fmt: skip
    raise typer.Exit(1 if report.loud else 0)
