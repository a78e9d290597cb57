"""Importing Prowler's OCSF output as a scan beside cloudsoc's own."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine, select

from cloudsoc.core import db
from cloudsoc.posture import prowler, report, store
from tests import posture_reports_fixtures as fx
from tests.posture_reports_fixtures import SCAN

own_content, engine, stored = fx.own_content, fx.engine, fx.stored  # the fixtures

FIXTURE = Path(__file__).parent / "data" / "prowler-ocsf.json"
ACCOUNT = "123456789012"


def _import(engine: Engine, path: Path = FIXTURE) -> prowler.ImportedScan:
    with engine.begin() as conn:
        return prowler.import_ocsf(conn, path)


def test_findings_become_results_and_the_malformed_record_is_reported(engine: Engine) -> None:
    scan = _import(engine)
    assert scan.trigger == "import" and scan.source == "prowler" and scan.id.startswith("prowler-")
    assert scan.problems == ["record 3: no metadata.event_code (the Prowler check id)"]
    assert scan.counts() == {"PASS": 1, "FAIL": 2, "ERROR": 0, "MANUAL": 1}
    assert scan.accounts == [ACCOUNT] and scan.regions == ["eu-west-1", "us-east-1"]
    assert scan.started_at.isoformat() == "2026-11-20T14:30:00+00:00"
    assert scan.finished_at.isoformat() == "2026-11-20T14:34:00+00:00"
    with engine.connect() as conn:
        results = {r.check: r for r in store.results(conn, scan.id)}
        sources = set(
            conn.execute(
                select(db.posture_results.c.source).where(db.posture_results.c.scan_id == scan.id)
            ).scalars()
        )
    assert sources == {"prowler"}
    ssh = results["prowler:ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_22"]
    assert (ssh.status, ssh.account, ssh.region, ssh.severity) == ("FAIL", ACCOUNT, "eu-west-1", "high")
    assert ssh.resource == f"arn:aws:ec2:eu-west-1:{ACCOUNT}:security-group/sg-0a1b2c3d4e5f60718"
    assert ssh.message.startswith("Security group bastion") and ssh.evidence["compliance"]["PCI-4.0"] == [
        "1.3.1"
    ]
    assert ssh.evidence["resource_type"] == "AwsEc2SecurityGroup" and ssh.evidence["title"].startswith(
        "Ensure no"
    )
    assert results["prowler:iam_root_mfa_enabled"].severity == "critical"
    assert results["prowler:account_maintain_current_contact_details"].status == "MANUAL"


def test_imported_scan_sits_beside_cloudsoc_scans_and_reports(engine: Engine, stored: store.Scan) -> None:
    scan = _import(engine)
    with engine.connect() as conn:
        assert {s["id"] for s in store.scans(conn)} == {SCAN, scan.id}
        assert store.resolve(conn, "latest") == SCAN  # an import is never "the latest scan"
        doc = report.build(conn, scan.id)
    assert doc["scan"]["source"] == "prowler" and doc["scan"]["trigger"] == "import"
    assert doc["scan"]["accounts"] == [{"id": ACCOUNT, "name": "workload-prod"}]
    assert doc["scan"]["inventory"]["verified"] is True  # the Prowler file is the scan's source data
    assert (
        doc["checks"]["prowler:iam_root_mfa_enabled"]["title"] == "Ensure MFA is enabled for the root account"
    )
    assert len(orjson.loads(report.render(doc, "ocsf"))) == 4


def test_importing_the_same_file_again_replaces_the_scan(engine: Engine) -> None:
    first, again = _import(engine), _import(engine)
    assert first.id == again.id
    with engine.connect() as conn:
        assert len(store.results(conn, first.id)) == 4 and len(store.scans(conn)) == 1


def test_every_bad_record_is_named_and_the_rest_imported(engine: Engine, tmp_path: Path) -> None:
    good = orjson.loads(FIXTURE.read_bytes())[0]
    bad = [
        "not a record",
        good | {"status_code": "MUTED"},
        good | {"cloud": {"provider": "aws"}},
        good | {"resources": [{"name": "no uid"}]},
        good | {"resources": [{"name": "no uid"}, {"uid": "arn:aws:s3:::kept"}, "junk"]},  # one of three
    ]
    path = tmp_path / "p.json"
    path.write_bytes(orjson.dumps([good, *bad]))
    scan = _import(engine, path)
    assert [r.resource for r in scan.results] == [good["resources"][0]["uid"], "arn:aws:s3:::kept"]
    assert scan.problems == [
        "record 1: not a JSON object but str",
        "record 2: status_code 'MUTED' is not PASS, FAIL or MANUAL",
        "record 3: no cloud.account.uid",
        "record 4: no resources[].uid",
        "record 5: resources[0] has no uid",
        "record 5: resources[2] has no uid",
    ]


def test_interrupted_output_and_json_lines_are_read(engine: Engine, tmp_path: Path) -> None:
    records = orjson.loads(FIXTURE.read_bytes())
    cut = tmp_path / "cut.json"  # Prowler writes "[", then each record followed by ","
    cut.write_bytes(b"[" + b"".join(orjson.dumps(r) + b"," for r in records[:2]))
    scan = _import(engine, cut)
    assert len(scan.results) == 2 and "ends without ']'" in scan.problems[0]
    lines = tmp_path / "lines.json"
    lines.write_bytes(b"\n".join(orjson.dumps(r) for r in records[:3]))
    assert len(_import(engine, lines).results) == 3


def test_a_file_without_findings_is_refused(engine: Engine, tmp_path: Path) -> None:
    junk = tmp_path / "junk.json"
    junk.write_text("[{")
    with pytest.raises(prowler.ProwlerImportError, match="not valid JSON"):
        _import(engine, junk)
    junk.write_text("[]")
    with pytest.raises(prowler.ProwlerImportError, match="no finding could be imported"):
        _import(engine, junk)
