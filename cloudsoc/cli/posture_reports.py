"""``cloudsoc posture report | bundle | bundle-verify | import``: posture reports, the audit bundle, and
Prowler results brought in beside cloudsoc's."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cloudsoc.cli.output import HomeOpt, OutOpt, Output, console, emit_json, emit_table
from cloudsoc.core.config import Home

if TYPE_CHECKING:
    from sqlalchemy import Engine


class ReportFormat(StrEnum):
    html = "html"
    csv = "csv"
    json = "json"
    ocsf = "ocsf"
    asff = "asff"


ScanOpt = Annotated[str, typer.Option("--scan", help="a scan id, or latest")]


def register(app: typer.Typer) -> None:
    """Add the report commands to the posture command group."""
    app.command("report")(posture_report)
    app.command("bundle")(posture_bundle)
    app.command("bundle-verify")(posture_bundle_verify)
    app.command("import")(posture_import)


@contextmanager
def _errors() -> Iterator[None]:
    from cloudsoc.core.errors import CloudSOCError

    try:
        yield
    except CloudSOCError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from exc


def sql_of(home: Home) -> Engine:
    from cloudsoc.core import db

    return db.connect(home.database_url)


def posture_report(
    home: HomeOpt = None,
    scan: ScanOpt = "latest",
    fmt: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="html, csv, json, ocsf or asff")
    ] = ReportFormat.html,
    framework: Annotated[
        list[str] | None,
        typer.Option("--framework", help="judge against this framework (repeat; default: all)"),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="write here instead of stdout")] = None,
    import_securityhub: Annotated[
        bool,
        typer.Option(
            "--import-securityhub", help="with --format asff: import into each account's Security Hub"
        ),
    ] = False,
    output: OutOpt = Output.table,
) -> None:
    """A scan's compliance report: frameworks' scores, failing requirements, every result. The report
    goes to --out or stdout; with --out, ``--output json`` prints what was written and imported."""
    from cloudsoc.posture import asff, report, store

    if import_securityhub and fmt is not ReportFormat.asff:
        raise typer.BadParameter("--import-securityhub needs --format asff")
    h = Home.open(home)
    with _errors(), sql_of(h).connect() as conn:
        doc = report.build(conn, store.resolve(conn, scan), framework or None)
        body = report.render(doc, fmt.value)
    written = {
        "scan": doc["scan"]["id"],
        "format": fmt.value,
        "out": str(out) if out else None,
        "bytes": len(body),
    }
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(body)
        console.print(f"{fmt.value} report of {doc['scan']['id']} written to {out}")
    else:
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
    if import_securityhub:
        from cloudsoc.respond.access import Responder

        responder = Responder.for_home(h)
        summary = asff.import_findings(asff.findings(doc), responder.session)
        console.print(f"Security Hub: {summary['imported']} imported, {len(summary['failed'])} failed")
        written["securityhub"] = summary
        for f in summary["failed"]:
            console.print(
                f"[red]refused[/] {f['account']} {f['region']} {f['Id']}: {f['ErrorCode']} {f['ErrorMessage']}"
            )
    if output is Output.json and out:
        emit_json(written)
    if import_securityhub and written["securityhub"]["failed"]:
        raise typer.Exit(1)


def posture_bundle(
    out: Annotated[Path, typer.Option("--out", help="the .tar.gz to write")],
    home: HomeOpt = None,
    scan: ScanOpt = "latest",
    output: OutOpt = Output.table,
) -> None:
    """The audit bundle of a scan: reports, the raw inventory, SHA256SUMS and a manifest."""
    from cloudsoc.posture import bundle, store

    h = Home.open(home)
    with _errors(), sql_of(h).connect() as conn:
        manifest = bundle.write_bundle(conn, store.resolve(conn, scan), out)
    if output is Output.json:
        emit_json(manifest)
        return
    emit_table(f"bundle of {manifest['scan']}: {out}", ["file", "bytes", "sha256"],
               [[n, f["size"], f["sha256"]] for n, f in manifest["files"].items()])  # fmt: skip
    console.print(f"bundle SHA-256 {manifest['bundle_sha256']} (keep it apart from the bundle)")


def posture_bundle_verify(
    path: Annotated[Path, typer.Argument(help="the bundle (.tar.gz)")],
    output: OutOpt = Output.table,
) -> None:
    """Check a bundle against its SHA256SUMS and manifest; exit 1 on any problem."""
    from cloudsoc.posture import bundle

    problems = bundle.verify_bundle(path)
    if output is Output.json:
        emit_json({"bundle": str(path), "ok": not problems, "problems": problems})
    elif problems:
        for p in problems:
            console.print(f"[red]problem[/] {p}")
    else:
        console.print(f"{path}: intact")
    raise typer.Exit(1 if problems else 0)


def posture_import(
    file: Annotated[
        Path, typer.Argument(help="Prowler output (--output-formats json-ocsf)", exists=True, dir_okay=False)
    ],
    home: HomeOpt = None,
    output: OutOpt = Output.table,
) -> None:
    """Store Prowler's OCSF findings as a scan beside cloudsoc's; exit 2 when records were skipped."""
    from cloudsoc.posture import prowler

    h = Home.open(home)
    with _errors(), sql_of(h).begin() as conn:
        scan = prowler.import_ocsf(conn, file)
    summary: dict[str, Any] = {"scan": scan.id, "source": scan.source, "accounts": scan.accounts,
                               "regions": scan.regions, "results": scan.counts(), "problems": scan.problems}  # fmt: skip
    if output is Output.json:
        emit_json(summary)
    else:
        console.print(f"imported {len(scan.results)} results as scan {scan.id}: {scan.counts()}")
        for p in scan.problems:
            console.print(f"[yellow]skipped[/] {p}")
    raise typer.Exit(2 if scan.problems else 0)
