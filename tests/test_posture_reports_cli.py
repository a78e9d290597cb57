"""The report commands of ``cloudsoc posture``: report, bundle, bundle-verify, import."""

from __future__ import annotations

import csv
import io
import tarfile
from pathlib import Path
from typing import Any

import orjson
import pytest
import typer
from typer.testing import CliRunner

from cloudsoc.cli.posture_reports import register
from cloudsoc.core import db
from cloudsoc.core.config import Home
from tests import posture_reports_fixtures as fx
from tests.posture_reports_fixtures import SCAN, store_scan

own_content = fx.own_content  # the fixture

runner = CliRunner()
app = typer.Typer()
register(app)
PROWLER = Path(__file__).parent / "data" / "prowler-ocsf.json"


@pytest.fixture
def home(tmp_path: Path, own_content: None) -> str:
    h = Home.open(tmp_path / "home")
    store_scan(db.connect(h.database_url), tmp_path)
    return str(h.root)


def test_report_to_stdout_and_to_a_file(home: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", "--home", home, "--format", "json", "--framework", "beta"])
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    assert doc["scan"]["id"] == SCAN and [f["framework"] for f in doc["frameworks"]] == ["beta"]
    out = tmp_path / "r" / "results.csv"
    result = runner.invoke(app, ["report", "--home", home, "--scan", SCAN, "-f", "csv", "--out", str(out)])
    assert result.exit_code == 0 and len(list(csv.DictReader(io.StringIO(out.read_text())))) == 6
    result = runner.invoke(app, ["report", "--home", home, "-f", "html"])
    assert result.exit_code == 0 and result.stdout.startswith("<!DOCTYPE html>")


def test_report_errors_are_messages_with_exit_1(home: str) -> None:
    result = runner.invoke(app, ["report", "--home", home, "--scan", "scan-nope", "-f", "json"])
    assert result.exit_code == 1 and "no scan 'scan-nope'" in result.output
    result = runner.invoke(app, ["report", "--home", home, "-f", "json", "--framework", "nope"])
    assert result.exit_code == 1 and "unknown framework" in result.output
    result = runner.invoke(app, ["report", "--home", home, "-f", "csv", "--import-securityhub"])
    assert result.exit_code == 2 and "needs --format asff" in result.output


def test_bundle_and_verify(home: str, tmp_path: Path) -> None:
    out = tmp_path / "b.tar.gz"
    result = runner.invoke(app, ["bundle", "--home", home, "--out", str(out), "-o", "json"])
    assert result.exit_code == 0, result.output
    manifest = orjson.loads(result.stdout)
    assert manifest["scan"] == SCAN and "report.html" in manifest["files"]
    result = runner.invoke(app, ["bundle-verify", str(out), "-o", "json"])
    assert result.exit_code == 0 and orjson.loads(result.stdout)["ok"] is True
    with tarfile.open(out, "r:gz") as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]
    files["report.json"] += b" "
    with tarfile.open(out, "w:gz") as tar:
        for name, body in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    result = runner.invoke(app, ["bundle-verify", str(out)])
    assert result.exit_code == 1 and "report.json: content changed" in result.output


def test_import_prowler_output(home: str) -> None:
    result = runner.invoke(app, ["import", str(PROWLER), "--home", home, "-o", "json"])
    assert result.exit_code == 2  # one record skipped
    summary: dict[str, Any] = orjson.loads(result.stdout)
    assert summary["source"] == "prowler" and summary["results"]["FAIL"] == 2
    assert summary["problems"] == ["record 3: no metadata.event_code (the Prowler check id)"]
    result = runner.invoke(app, ["report", "--home", home, "--scan", summary["scan"], "-f", "ocsf"])
    assert result.exit_code == 0 and len(orjson.loads(result.stdout)) == 4


def test_report_imports_into_the_sandbox_security_hub(sandbox_home: Home, tmp_path: Path,
                                                       own_content: None) -> None:  # fmt: skip
    from datetime import UTC, datetime

    from sqlalchemy import delete

    from cloudsoc.aws.sandbox import Sandbox
    from cloudsoc.posture import asff, store
    from cloudsoc.posture.check import Result
    from cloudsoc.respond.access import Responder

    account = Sandbox(sandbox_home.root).state().accounts["sandbox"]  # the scratch account
    scan_id = f"scan-cli-{tmp_path.name}"
    at = datetime(2020, 1, 1, tzinfo=UTC)  # long before any real scan: never "the latest"
    scan = store.Scan(id=scan_id, started_at=at, finished_at=at, accounts=[account], results=[
        Result("root_mfa", "FAIL", account, "global", f"arn:aws:iam::{account}:root", "no MFA", {}, "critical")])  # fmt: skip
    engine = db.connect(sandbox_home.database_url)
    with engine.begin() as conn:
        store.save(conn, scan)
    try:
        args = [
            "report",
            "--home",
            str(sandbox_home.root),
            "--scan",
            scan_id,
            "-f",
            "asff",
            "--import-securityhub",
        ]
        result = runner.invoke(app, args)
    finally:  # the shared sandbox home gets its database back as it was
        with engine.begin() as conn:
            for table in (db.posture_results, db.posture_scores, db.posture_scans):
                key = table.c.id if table is db.posture_scans else table.c.scan_id
                conn.execute(delete(table).where(key == scan_id))
    assert result.exit_code == 0, result.output
    assert "1 imported, 0 failed" in result.output
    [finding] = orjson.loads(result.stdout)
    assert finding["AwsAccountId"] == account and finding["Compliance"]["Status"] == "FAILED"
    retired = asff.import_findings(
        [finding | {"RecordState": "ARCHIVED"}], Responder.for_home(sandbox_home).session
    )
    assert retired["imported"] == 1
