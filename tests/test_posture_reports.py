"""Posture reports: the JSON document and its renderings (CSV, HTML, OCSF, ASFF), Security Hub import."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import botocore.session
import orjson
import pytest
from botocore.exceptions import ClientError
from botocore.validate import validate_parameters
from sqlalchemy import Engine

from cloudsoc.core.errors import ConfigError
from cloudsoc.posture import asff, frameworks, ocsf, report, store
from tests import posture_reports_fixtures as fx
from tests.posture_reports_fixtures import DEV, EVIL, PROD, SCAN

own_content, engine, stored = fx.own_content, fx.engine, fx.stored  # the fixtures


def _doc(engine: Engine, frameworks: list[str] | None = None) -> dict[str, Any]:
    with engine.connect() as conn:
        return report.build(conn, SCAN, frameworks)


def _by(items: list[dict[str, Any]], **match: Any) -> dict[str, Any]:
    [one] = [i for i in items if all(i[k] == v for k, v in match.items())]
    return one


def test_document_states_the_scan_its_inventory_and_every_framework(
    engine: Engine, stored: store.Scan
) -> None:
    doc = _doc(engine)
    scan = doc["scan"]
    assert scan["id"] == SCAN and scan["trigger"] == "full" and scan["source"] == "cloudsoc"
    assert (
        scan["started_at"] == "2026-11-21T09:00:00+00:00"
        and scan["finished_at"] == "2026-11-21T09:05:00+00:00"
    )
    assert scan["accounts"] == [{"id": PROD, "name": "prod"}, {"id": DEV, "name": "dev"}]
    assert scan["inventory"]["sha256"] == stored.inventory_sha256 and scan["inventory"]["verified"] is True
    assert doc["counts"] == {"PASS": 2, "FAIL": 2, "ERROR": 1, "MANUAL": 1}
    alpha = _by(doc["frameworks"], framework="alpha")
    statuses = {r["id"]: r["status"] for r in alpha["requirements"]}
    assert {k: statuses[k] for k in ("1.1", "1.2", "1.3", "1.4")} == {
        "1.1": "FAIL", "1.2": "FAIL", "1.3": "MANUAL", "1.4": "ERROR"}  # fmt: skip
    with engine.connect() as conn:  # the document carries the framework evaluation as it is
        assert alpha == frameworks.evaluate(fx.ALPHA, store.results(conn, SCAN))
    assert alpha["accounts"][PROD]["score"] == 33.3 and alpha["accounts"][DEV]["score"] == 50.0
    assert alpha["sections"]["Identity"]["counts"] == {"FAIL": 1, "ERROR": 1}
    root_fail = _by(doc["results"], check="root_mfa", status="FAIL")
    assert root_fail["requirements"] == {"alpha": ["1.1"], "beta": ["AC-2"]}
    assert root_fail["title"] == "MFA is enabled for the root user" and root_fail["account_name"] == "dev"
    assert doc["checks"]["bucket_not_public"]["resource_type"] == "AWS::S3::Bucket"
    assert orjson.loads(report.render(doc, "json")) == doc


def test_framework_choice_limits_scores_and_mappings(engine: Engine, stored: store.Scan) -> None:
    doc = _doc(engine, ["beta"])
    assert [f["framework"] for f in doc["frameworks"]] == ["beta"]
    assert _by(doc["results"], check="root_mfa", status="PASS")["requirements"] == {"beta": ["AC-2"]}
    assert _by(doc["results"], check="bucket_not_public", status="FAIL")["requirements"] == {}
    with engine.connect() as conn, pytest.raises(ConfigError, match="unknown framework"):
        report.build(conn, SCAN, ["nope"])


def test_inventory_changed_after_the_scan_is_not_verified(engine: Engine, stored: store.Scan) -> None:
    Path(str(stored.inventory_path)).write_bytes(b"tampered")
    assert _doc(engine)["scan"]["inventory"] == {"path": stored.inventory_path, "sha256": stored.inventory_sha256,
                                                  "present": True, "verified": False}  # fmt: skip


def test_ocsf_compliance_findings(engine: Engine, stored: store.Scan) -> None:
    doc = _doc(engine)
    records = orjson.loads(report.render(doc, "ocsf"))
    assert len(records) == len(doc["results"])
    for rec in records:
        assert (rec["class_uid"], rec["category_uid"], rec["activity_id"], rec["type_uid"]) == (
            2003,
            2,
            1,
            200301,
        )
        assert rec["metadata"]["version"] == "1.1.0" and rec["metadata"]["product"]["name"] == "cloudsoc"
        assert rec["time"] == 1795251900000 and rec["cloud"]["provider"] == "AWS"
    by_status = {
        r["compliance"]["status_code"]: r
        for r in records
        if r["compliance"]["control"] != "bucket_not_public"
    }
    passed, failed, manual = by_status["PASS"], by_status["FAIL"], by_status["MANUAL"]
    assert (passed["compliance"]["status_id"], passed["compliance"]["status"]) == (1, "Pass")
    assert (failed["compliance"]["status_id"], failed["compliance"]["status"]) == (3, "Fail")
    assert (manual["compliance"]["status_id"], manual["compliance"]["status"]) == (2, "Warning")
    assert by_status["ERROR"]["compliance"]["status_id"] == 0
    assert failed["compliance"]["requirements"] == ["alpha:1.1", "beta:AC-2"]
    assert failed["compliance"]["standards"] == ["Alpha Benchmark", "Beta Controls"]
    assert failed["compliance"]["control"] == "root_mfa" and failed["severity_id"] == 5
    assert failed["cloud"]["account"]["uid"] == DEV and failed["cloud"]["account"]["name"] == "dev"
    assert failed["resources"] == [{"uid": f"arn:aws:iam::{DEV}:root", "type": "AWS::IAM::User"}]
    assert failed["finding_info"]["title"] == "MFA is enabled for the root user"
    assert manual["cloud"]["region"] == "eu-west-1" and manual["resources"][0]["region"] == "eu-west-1"
    uids = [r["finding_info"]["uid"] for r in records]
    assert len(set(uids)) == len(uids)
    assert uids == [r["finding_info"]["uid"] for r in ocsf.records(_doc(engine))]  # stable across renderings


def test_asff_findings_are_valid_for_batch_import(engine: Engine, stored: store.Scan) -> None:
    findings = orjson.loads(report.render(_doc(engine), "asff"))
    shape = (
        botocore.session.get_session().get_service_model("securityhub").operation_model("BatchImportFindings")
    )
    validate_parameters({"Findings": findings}, shape.input_shape)  # raises on a missing or mistyped field
    status = {(f["GeneratorId"], f["AwsAccountId"]): f["Compliance"]["Status"] for f in findings}
    assert status[("cloudsoc/root_mfa", PROD)] == "PASSED" and status[("cloudsoc/root_mfa", DEV)] == "FAILED"
    assert status[("cloudsoc/hardware_review", DEV)] == "WARNING"
    assert status[("cloudsoc/password_policy", PROD)] == "NOT_AVAILABLE"
    root = _by(findings, GeneratorId="cloudsoc/root_mfa", AwsAccountId=DEV)
    assert root["ProductArn"] == f"arn:aws:securityhub:us-east-1:{DEV}:product/{DEV}/default"
    assert root["Compliance"]["RelatedRequirements"] == ["Alpha Benchmark 1.1", "Beta Controls AC-2"]
    assert root["Types"] == [f"{asff.STANDARDS_TYPE}/Alpha Benchmark", f"{asff.STANDARDS_TYPE}/Beta Controls"]
    assert root["Severity"] == {"Label": "CRITICAL"} and root["CreatedAt"] == "2026-11-21T09:05:00Z"
    assert root["Resources"][0]["Type"] == "AwsIamUser" and root["Workflow"] == {"Status": "NEW"}
    manual = _by(findings, GeneratorId="cloudsoc/hardware_review")
    assert (
        manual["ProductArn"].startswith("arn:aws:securityhub:eu-west-1:")
        and manual["Resources"][0]["Type"] == "Other"
    )
    assert len({f["Id"] for f in findings}) == len(findings)
    assert [f["Id"] for f in findings] == [f["Id"] for f in asff.findings(_doc(engine))]


def test_asff_gives_one_finding_per_resource_the_worse_of_two_judgements() -> None:
    twice = [{"check": "c", "status": s, "account": PROD, "region": "eu-west-1", "resource": "arn:aws:s3:::b",
              "message": s} for s in ("PASS", "FAIL", "MANUAL")]  # fmt: skip
    doc = {"frameworks": [], "scan": {"finished_at": "2026-11-21T09:05:00+00:00"}, "results": twice}
    [one] = asff.findings(doc)
    assert one["Compliance"]["Status"] == "FAILED" and one["Description"] == "FAIL"


def test_asff_resource_types() -> None:
    assert asff.resource_type("AWS::RDS::DBInstance") == "AwsRdsDbInstance"
    assert asff.resource_type("AWS::EC2::SecurityGroup") == "AwsEc2SecurityGroup"
    assert asff.resource_type("AWS::EC2::VPC") == "AwsEc2Vpc"
    assert asff.resource_type("AWS::CloudTrail::Trail") == "AwsCloudTrailTrail"
    assert asff.resource_type("AWS::KMS::Key") == "AwsKmsKey"
    assert asff.resource_type("") == "Other"


def test_csv_has_one_row_per_result_with_its_requirements(engine: Engine, stored: store.Scan) -> None:
    rows = list(csv.DictReader(io.StringIO(report.render(_doc(engine), "csv").decode())))
    assert len(rows) == 6 and list(rows[0]) == report.CSV_COLUMNS
    root = next(r for r in rows if r["check"] == "root_mfa" and r["status"] == "FAIL")
    assert (
        root["requirements"] == "alpha:1.1 beta:AC-2"
        and root["account"] == DEV
        and root["severity"] == "critical"
    )
    assert root["title"] == "MFA is enabled for the root user" and root["region"] == "global"
    bucket = next(r for r in rows if r["resource"] == EVIL)
    assert bucket["message"].startswith("'=HYPERLINK")  # not a formula when opened in a spreadsheet


@pytest.mark.parametrize("lead", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_cells_a_spreadsheet_would_run_are_quoted(lead: str) -> None:
    result = {"check": "c", "title": f"{lead}title", "severity": "low", "status": "FAIL", "account": PROD,
              "account_name": f"{lead}name", "region": "global", "resource": f"{lead}cmd|' /C calc'!A0",
              "message": "plain text", "requirements": {"alpha": ["1.1"]}}  # fmt: skip
    [row] = csv.DictReader(io.StringIO(report.to_csv({"results": [result]})))
    assert (row["title"], row["account_name"], row["resource"]) == (
        f"'{lead}title", f"'{lead}name", f"'{lead}cmd|' /C calc'!A0")  # fmt: skip
    assert (row["message"], row["requirements"], row["account"]) == ("plain text", "alpha:1.1", PROD)


def test_csv_line_breaks_inside_a_value_stay_in_its_cell() -> None:
    result = {"check": "c", "title": "t", "severity": "low", "status": "FAIL", "account": PROD, "account_name": "p",
              "region": "global", "resource": "r\nr", "message": "a\r=HYPERLINK(1)", "requirements": {}}  # fmt: skip
    [row] = csv.DictReader(io.StringIO(report.to_csv({"results": [result]}), newline=""))
    assert (row["message"], row["resource"], row["severity"]) == ("a\r=HYPERLINK(1)", "r\nr", "low")


# What the audited accounts and the content name: every one of these may carry markup.
_FREE_TEXT = {"id", "name", "title", "section", "version", "path", "source", "message", "resource",
              "account_name", "region", "regions", "permission", "started_at", "finished_at", "generated_at"}  # fmt: skip


def _tainted(value: Any, key: str = "") -> Any:
    """The document with ``<i>`` after every free-text value (and every section name)."""
    if isinstance(value, dict):
        return {(f"{k}<i>" if key == "sections" else k): _tainted(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_tainted(v, key) for v in value]
    return f"{value}<i>" if isinstance(value, str) and key in _FREE_TEXT else value


def test_html_escapes_every_free_text_value(engine: Engine, stored: store.Scan) -> None:
    page = report.render(_tainted(_doc(engine)), "html").decode()
    assert "<i>" not in page
    for shown in ("prod", "dev", "Alpha Benchmark", "1.0", "Identity", "Buckets are not public", SCAN,
                  "iam:GetAccountPasswordPolicy", "eu-west-1", "the root user has no MFA"):  # fmt: skip
        assert f"{shown}&lt;i&gt;" in page, shown


def test_html_is_self_contained_and_escapes_what_the_accounts_named(
    engine: Engine, stored: store.Scan
) -> None:
    page = report.render(_doc(engine), "html").decode()
    assert "Alpha Benchmark 1.0" in page and "Beta Controls" in page
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;is public&lt;/b&gt;" in page
    assert "iam:GetAccountPasswordPolicy" in page  # the ERROR names the permission to grant
    assert "An incident response plan exists" in page  # assessed by hand
    assert "Buckets are not public" in page  # a failing requirement, with its failing resource
    assert "<svg" in page and "http" not in page and "<link" not in page and " src=" not in page
    assert len(page) < 60_000


def test_unknown_format_is_refused(engine: Engine, stored: store.Scan) -> None:
    with pytest.raises(ConfigError, match="unknown report format"):
        report.render(_doc(engine), "pdf")


# --- Security Hub import ------------------------------------------------------------------------
class _Client:
    def __init__(self, refuse: set[str], broken: bool) -> None:
        self.refuse, self.broken = refuse, broken
        self.calls: list[int] = []

    def batch_import_findings(self, Findings: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append(len(Findings))
        if self.broken:
            raise ClientError(
                {"Error": {"Code": "InvalidAccessException", "Message": "not subscribed"}}, "Batch"
            )
        bad = [f for f in Findings if f["Id"] in self.refuse]
        return {"SuccessCount": len(Findings) - len(bad), "FailedCount": len(bad),
                "FailedFindings": [{"Id": f["Id"], "ErrorCode": "InvalidInput", "ErrorMessage": "bad"} for f in bad]}  # fmt: skip


class _Session:
    def __init__(self, client: _Client) -> None:
        self._client = client

    def client(self, service: str, region_name: str | None = None) -> _Client:
        assert service == "securityhub"
        return self._client


def _finding(i: int, account: str, region: str = "us-east-1") -> dict[str, Any]:
    result = {
        "check": "c",
        "status": "FAIL",
        "account": account,
        "region": region,
        "resource": f"r{i}",
        "message": "m",
    }
    return asff.finding(result, at="2026-11-21T09:05:00Z", standards={})


def test_import_batches_by_account_and_region_and_reports_every_refusal() -> None:
    clients = {(PROD, "us-east-1"): _Client({_finding(7, PROD)["Id"]}, False),
               (PROD, "eu-west-1"): _Client(set(), False), (DEV, "us-east-1"): _Client(set(), True)}  # fmt: skip
    findings = ([_finding(i, PROD) for i in range(250)] + [_finding(i, PROD, "eu-west-1") for i in range(3)]
                + [_finding(i, DEV) for i in range(2)])  # fmt: skip
    out = asff.import_findings(findings, lambda a, r: _Session(clients[(a, r)]))  # type: ignore[arg-type,return-value]
    assert clients[(PROD, "us-east-1")].calls == [100, 100, 50] and clients[(PROD, "eu-west-1")].calls == [3]
    assert out["imported"] == 249 + 3
    refused = {(f["account"], f["ErrorCode"]) for f in out["failed"]}
    assert refused == {(PROD, "InvalidInput"), (DEV, "InvalidAccessException")} and len(out["failed"]) == 3


def test_import_into_the_sandbox_security_hub_and_read_back(sandbox_home: Any, tmp_path: Path) -> None:
    from cloudsoc.aws.sandbox import Sandbox
    from cloudsoc.respond.access import Responder

    account = Sandbox(sandbox_home.root).state().accounts["sandbox"]  # the scratch account
    results = [{"check": "root_mfa", "status": s, "account": account, "region": region, "resource": res,
                "message": f"{s} test", "severity": "high", "title": "t", "requirements": {"alpha": ["1.1"]}}
               for s, region, res in (("FAIL", "global", f"arn:aws:iam::{account}:root"),
                                      ("PASS", "eu-west-1", f"arn:aws:s3:::{tmp_path.name}"))]  # fmt: skip
    findings = [asff.finding(r, at="2026-11-21T09:05:00Z", standards={"alpha": "Alpha"}) for r in results]
    responder = Responder.for_home(sandbox_home)
    out = asff.import_findings(findings, responder.session)
    assert out == {"imported": 2, "failed": []}
    for f in findings:
        region = f["Region"]
        hub = responder.session(account, region).client("securityhub", region_name=region)
        seen = {g["Id"]: g for g in hub.get_findings(MaxResults=100)["Findings"]}
        assert seen[f["Id"]]["Compliance"]["Status"] == f["Compliance"]["Status"]
        assert seen[f["Id"]]["AwsAccountId"] == account
    # Security Hub keeps findings; a provider retires its own by archiving them.
    archived = asff.import_findings([f | {"RecordState": "ARCHIVED"} for f in findings], responder.session)
    assert archived["imported"] == 2
