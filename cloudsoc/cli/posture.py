"""``cloudsoc posture``: inventory, checks, framework scores, diff and trend, fixes, continuous changes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cloudsoc.cli.output import HomeOpt, OutOpt, Output, console, emit, emit_json, emit_table
from cloudsoc.cli.posture_reports import ScanOpt, sql_of
from cloudsoc.cli.posture_reports import register as register_reports
from cloudsoc.core.config import Home

posture_app = typer.Typer(help="Compliance posture: inventory, checks, frameworks, fixes, reports.",
                          no_args_is_help=True)  # fmt: skip
AccountOpt = Annotated[list[str] | None, typer.Option("--account", help="account id or name (repeatable)")]
RegionOpt = Annotated[list[str] | None, typer.Option("--region", help="region (repeatable)")]
FrameworkOpt = Annotated[list[str] | None, typer.Option("--framework", help="framework id (repeatable)")]


@posture_app.command("collect")
def collect_cmd(home: HomeOpt = None, output: OutOpt = Output.table, account: AccountOpt = None,
                region: RegionOpt = None) -> None:  # fmt: skip
    """Collect the inventory through the read-only role in every account and region; keep it as a file."""
    from cloudsoc.posture import scope
    from cloudsoc.posture.run import collect_inventory

    h = Home.open(home)
    inv, stats, path, digest = collect_inventory(h, scope.for_home(h, account, region))
    out = {"inventory": str(path), "sha256": digest, "accounts": sorted(inv.accounts), "regions": inv.regions,
           "api_calls": stats.calls, "seconds": stats.seconds, "errors": inv.errors}  # fmt: skip
    if output is Output.json:
        emit_json(out)
        return
    console.print(f"inventory {path} ({stats.calls} calls, {stats.seconds}s, {len(inv.accounts)} accounts)")
    if inv.errors:
        emit_table(f"{len(inv.errors)} calls failed (kept in the inventory)", ["account", "region", "operation", "key", "error"],
                   [[e["account"], e["region"], e["permission"], e["key"], e["code"]] for e in inv.errors])  # fmt: skip


@posture_app.command("scan")
def scan_cmd(home: HomeOpt = None, output: OutOpt = Output.table, framework: FrameworkOpt = None,
             account: AccountOpt = None, region: RegionOpt = None,
             inventory: Annotated[Path | None, typer.Option(help="evaluate this inventory file instead of collecting")] = None,
             ) -> None:  # fmt: skip
    """Collect (or load an inventory), evaluate every check, store the scan; print framework scores."""
    from cloudsoc.posture import frameworks
    from cloudsoc.posture.run import scan

    h = Home.open(home)
    for f in framework or []:
        frameworks.get(f)  # an unknown framework fails before the scan
    run = scan(h, accounts=account, regions=region, inventory=inventory)
    summary = run.summary()
    if framework:
        summary["frameworks"] = {f: v for f, v in summary["frameworks"].items() if f in framework}
    if output is Output.json:
        emit_json(summary)
        return
    console.print(f"scan {run.scan.id}: {summary['results']} in {summary['seconds']}s "
                  f"({summary['api_calls']} calls, {summary['collection_errors']} failed)")  # fmt: skip
    _scores_table(summary["frameworks"])


def _scores_table(fws: dict[str, Any]) -> None:
    emit_table("framework scores", ["framework", "score %", "pass", "fail", "error", "manual", "n/a"],
               [[f, v["score"], *(v["counts"].get(s, 0) for s in ("PASS", "FAIL", "ERROR", "MANUAL", "NOT_APPLICABLE"))]
                for f, v in fws.items()])  # fmt: skip


@posture_app.command("results")
def results_cmd(home: HomeOpt = None, output: OutOpt = Output.table, scan: ScanOpt = "latest",
                status: Annotated[str | None, typer.Option(help="PASS, FAIL, ERROR or MANUAL")] = None,
                check: Annotated[str | None, typer.Option()] = None,
                account: Annotated[str | None, typer.Option()] = None) -> None:  # fmt: skip
    """The results of a scan, filtered."""
    from cloudsoc.posture import store

    with sql_of(Home.open(home)).connect() as conn:
        rows = store.results(conn, store.resolve(conn, scan), status=status and status.upper(), check=check,
                             account=account)  # fmt: skip
    emit(output, [r.to_dict() for r in rows], f"{len(rows)} results", ["status", "severity", "check", "account", "region", "resource", "message"],
               [[r.status, r.severity, r.check, r.account, r.region, r.resource, r.message] for r in rows])  # fmt: skip


@posture_app.command("diff")
def diff_cmd(home: HomeOpt = None, output: OutOpt = Output.table,
             old: Annotated[str | None, typer.Argument(help="older scan (default: the one before the latest)")] = None,
             new: Annotated[str | None, typer.Argument(help="newer scan (default: the latest)")] = None) -> None:  # fmt: skip
    """New and resolved failures between two scans."""
    from cloudsoc.posture import store

    with sql_of(Home.open(home)).connect() as conn:
        new_id = store.resolve(conn, new)
        old_id = store.resolve(conn, old) if old else store.resolve(conn, back=1)
        d = store.diff(conn, old_id, new_id)
    if output is Output.json:
        emit_json(d)
        return
    console.print(f"{old_id} -> {new_id}: {len(d['new_failures'])} new failures, {len(d['resolved'])} resolved, "
                  f"{d['still_failing']} still failing")  # fmt: skip
    rows = [
        ["new", r["check"], r["account"], r["region"], r["resource"], r["message"]] for r in d["new_failures"]
    ]
    rows += [[f"resolved ({r['now']})", r["check"], r["account"], r["region"], r["resource"], r["message"]]
             for r in d["resolved"]]  # fmt: skip
    emit_table("changes", ["", "check", "account", "region", "resource", "message"], rows)


@posture_app.command("trend")
def trend_cmd(home: HomeOpt = None, output: OutOpt = Output.table, framework: FrameworkOpt = None,
              account: Annotated[str | None, typer.Option(help="an account's trend instead of the organization's")] = None,
              ) -> None:  # fmt: skip
    """Framework scores over the stored scans."""
    from cloudsoc.posture import store

    with sql_of(Home.open(home)).connect() as conn:
        rows = store.trend(conn, scope=f"account:{account}" if account else "org")
    rows = [r for r in rows if not framework or r["framework"] in framework]
    emit(output, rows, "trend", ["at", "scan", "framework", "score %", "pass", "fail", "error"],
               [[r["at"], r["scan_id"], r["framework"], r["score"], r["counts"].get("PASS", 0),
                 r["counts"].get("FAIL", 0), r["counts"].get("ERROR", 0)] for r in rows])  # fmt: skip


@posture_app.command("checks")
def checks_cmd(home: HomeOpt = None, output: OutOpt = Output.table) -> None:
    """The checks cloudsoc runs, with the frameworks that use them and the action that fixes them."""
    from cloudsoc.posture import frameworks
    from cloudsoc.posture.check import CHECKS

    used: dict[str, list[str]] = {}
    for fid, fw in frameworks.bundled().items():
        for req in fw.requirements:
            for c in req.checks:
                used.setdefault(c, []).append(f"{fid}:{req.id}")
    rows: list[dict[str, Any]] = [{"id": s.id, "title": s.title, "severity": s.severity, "services": list(s.services), "scope": s.scope,
             "fix": s.fix, "requirements": used.get(s.id, [])} for _, s in CHECKS.items()]  # fmt: skip
    emit(output, rows, f"{len(rows)} checks", ["id", "severity", "title", "fix", "requirements"],
               [[r["id"], r["severity"], r["title"], r["fix"] or "", len(r["requirements"])] for r in rows])  # fmt: skip


@posture_app.command("frameworks")
def frameworks_cmd(home: HomeOpt = None, output: OutOpt = Output.table) -> None:
    """The bundled frameworks and how many of their requirements cloudsoc assesses automatically."""
    from cloudsoc.posture import frameworks

    rows = [{"id": f.id, "name": f.name, "requirements": len(f.requirements),
             "automated": sum(1 for r in f.requirements if not r.manual),
             "manual": sum(1 for r in f.requirements if r.manual)} for f in frameworks.bundled().values()]  # fmt: skip
    emit(output, rows, "frameworks", ["id", "name", "requirements", "automated", "manual"],
               [[r["id"], r["name"], r["requirements"], r["automated"], r["manual"]] for r in rows])  # fmt: skip


@posture_app.command("fix")
def fix_cmd(home: HomeOpt = None, output: OutOpt = Output.table, scan: ScanOpt = "latest",
            check: Annotated[str | None, typer.Option(help="only this check's failures")] = None,
            account: Annotated[str | None, typer.Option()] = None,
            resource: Annotated[str | None, typer.Option(help="ARN or name")] = None,
            apply: Annotated[bool, typer.Option("--apply", help="make the changes (default: plan only)")] = False,
            approved_by: Annotated[str | None, typer.Option(help="approver, where the tier asks for one")] = None,
            ) -> None:  # fmt: skip
    """Plan the fixes of a scan's failures; with --apply make them and judge the resources again."""
    from cloudsoc.posture import remediate

    h = Home.open(home)
    items = [it.to_dict() for it in remediate.run(h, scan=scan, check=check, account=account, resource=resource,
                                                  apply=apply, approved_by=approved_by)]  # fmt: skip
    emit(output, items, f"{len(items)} fixes ({'applied' if apply else 'plan only'})",
               ["check", "account", "resource", "action", "policy", "status", "now", "changes / error"],
               [[i["check"], i["account"], i["resource"], i["action"], i["policy"], i["status"], i["after"] or "",
                 i["error"] or "; ".join(i["changes"]) or "nothing to change"] for i in items])  # fmt: skip


@posture_app.command("changes")
def changes_cmd(home: HomeOpt = None, output: OutOpt = Output.table,
                limit: Annotated[int, typer.Option()] = 50) -> None:  # fmt: skip
    """What the continuous evaluation saw change, what caused it, and what was done."""
    from cloudsoc.posture.continuous import changes

    with sql_of(Home.open(home)).connect() as conn:
        rows = changes(conn, limit)
    emit(output, rows, "posture changes", ["at", "check", "account", "resource", "was", "now", "event", "alert", "fix"],
               [[r["at"], r["check_id"], r["account_id"], r["resource"], r["old_status"] or "", r["new_status"],
                 r["event_name"] or "", r["alert_id"] or "",
                 f"{r['fix']['mode']}: {r['fix']['status']}" if r["fix"] else ""] for r in rows])  # fmt: skip


register_reports(posture_app)  # report, bundle, bundle-verify, import
