"""A stored scan written by hand for the report, bundle and export tests: two accounts, every status,
a resource name that is markup, frameworks and checks of the tests' own (never the bundled content)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from cloudsoc.core import db
from cloudsoc.core.registry import Registry
from cloudsoc.posture import frameworks, report, store
from cloudsoc.posture.check import CheckSpec, Result
from cloudsoc.posture.frameworks import Framework, Requirement
from cloudsoc.posture.inventory import Inventory

PROD, DEV = "111122220004", "111122220005"
EVIL = "arn:aws:s3:::<script>alert(1)</script>"
SCAN = "scan-test-1"
STARTED = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
FINISHED = datetime(2026, 11, 21, 9, 5, tzinfo=UTC)

ALPHA = Framework(id="alpha", name="Alpha Benchmark", version="1.0", requirements=[
    Requirement(id="1.1", title="Root user has MFA", section="Identity", checks=["root_mfa"]),
    Requirement(id="1.2", title="Buckets are not public", section="Storage", checks=["bucket_not_public"]),
    Requirement(id="1.3", title="An incident response plan exists", section="Governance", assessment="manual"),
    Requirement(id="1.4", title="Password policy is strong", section="Identity", checks=["password_policy"]),
    Requirement(id="1.5", title="Hardware is reviewed", section="Governance", checks=["hardware_review"]),
])  # fmt: skip
BETA = Framework(id="beta", name="Beta Controls", requirements=[
    Requirement(id="AC-2", title="Account management", section="Access", checks=["root_mfa"]),
])  # fmt: skip


def _spec(cid: str, title: str, severity: Any, rtype: str) -> CheckSpec:
    return CheckSpec(
        cid, title, severity, ("iam",), "account", lambda ctx: [], rtype, description=f"{title}."
    )


def check_registry() -> Registry[CheckSpec]:
    reg: Registry[CheckSpec] = Registry("check")
    for spec in (_spec("root_mfa", "MFA is enabled for the root user", "critical", "AWS::IAM::User"),
                 _spec("bucket_not_public", "S3 buckets are not public", "high", "AWS::S3::Bucket"),
                 _spec("password_policy", "The password policy is strong", "medium", "AWS::IAM::AccountPasswordPolicy"),
                 _spec("hardware_review", "Hardware is reviewed by a person", "low", "")):  # fmt: skip
        reg.register(spec.id)(spec)
    return reg


def results() -> list[Result]:
    root = "arn:aws:iam::{}:root"
    return [
        Result("root_mfa", "PASS", PROD, "global", root.format(PROD), "the root user has MFA",
               {"AccountMFAEnabled": 1}, "critical"),
        Result("root_mfa", "FAIL", DEV, "global", root.format(DEV), "the root user has no MFA",
               {"AccountMFAEnabled": 0}, "critical"),
        Result("bucket_not_public", "FAIL", PROD, "global", EVIL, "=HYPERLINK(\"x\") bucket <b>is public</b>",
               {"PolicyStatus": {"IsPublic": True}}, "high"),
        Result("bucket_not_public", "PASS", DEV, "global", "arn:aws:s3:::dev-logs", "the bucket is private", {}, "high"),
        Result("password_policy", "ERROR", PROD, "global", root.format(PROD),
               "cannot evaluate: iam:GetAccountPasswordPolicy failed (AccessDenied: no)",
               {"permission": "iam:GetAccountPasswordPolicy", "error": {"code": "AccessDenied"}}, "medium"),
        Result("hardware_review", "MANUAL", DEV, "eu-west-1", "arn:aws:ec2:eu-west-1:111122220005:instance/i-0abc",
               "a person must review the hardware", {}, "low"),
    ]  # fmt: skip


def inventory_file(tmp: Path) -> tuple[Path, str]:
    inv = Inventory(id="inv-test", started=STARTED.isoformat(), regions=["us-east-1", "eu-west-1"])
    inv.add_account(PROD, "prod", "prod")
    inv.add_account(DEV, "dev", "dev")
    inv.put(PROD, "global", "iam", "GetAccountSummary", "", {"SummaryMap": {"AccountMFAEnabled": 1}})
    path = tmp / "inventory" / "inv-test.json.gz"
    return path, inv.save(path)


def store_scan(engine: Engine, tmp: Path, scan_id: str = SCAN) -> store.Scan:
    path, digest = inventory_file(tmp)
    scan = store.Scan(id=scan_id, started_at=STARTED, finished_at=FINISHED, results=results(),
                      inventory_path=str(path), inventory_sha256=digest, accounts=[PROD, DEV],
                      regions=["us-east-1", "eu-west-1"])  # fmt: skip
    with engine.begin() as conn:
        store.save(conn, scan)
    return scan


@pytest.fixture
def own_content(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests' frameworks and checks stand in for the bundled ones."""
    monkeypatch.setattr(frameworks, "bundled", lambda: {"alpha": ALPHA, "beta": BETA})
    monkeypatch.setattr(report, "CHECKS", check_registry())


@pytest.fixture
def engine(tmp_path: Path, own_content: None) -> Engine:
    return db.connect(f"sqlite:///{tmp_path / 'state.db'}")


@pytest.fixture
def stored(engine: Engine, tmp_path: Path) -> store.Scan:
    return store_scan(engine, tmp_path)
