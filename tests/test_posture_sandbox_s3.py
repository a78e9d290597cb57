"""The S3 and data-store collectors and checks against the sandbox organization: the landing zone's
public bucket is found, its private buckets and encrypted databases pass, and a fix turns a FAIL
into a PASS (then is put back)."""

from __future__ import annotations

from typing import Any

import pytest

from cloudsoc.aws.sandbox import RESPONDER_ROLE, Sandbox
from cloudsoc.core.config import Home
from cloudsoc.posture import collect, scan, scope
from cloudsoc.posture.check import CHECKS, Result
from cloudsoc.posture.inventory import Inventory
from cloudsoc.respond.action import ACTIONS

SERVICES = {"s3", "rds", "efs", "kms", "secretsmanager", "lambda"}
CHECK_IDS = sorted(
    n for n in CHECKS.names() if n.split("_")[0] in {"s3", "rds", "efs", "kms", "secretsmanager", "lambda"}
)


@pytest.fixture(scope="module")
def collected(sandbox_home: Home) -> tuple[Inventory, list[Result]]:
    inv, _ = collect.collect(scope.for_home(sandbox_home), services=SERVICES)
    return inv, scan.evaluate(inv, scan.select(CHECK_IDS))


def status(results: list[Result], check: str, resource: str) -> str:
    [found] = [r.status for r in results if r.check == check and r.resource == resource]
    return found


def accounts(home: Home) -> dict[str, str]:
    return Sandbox(home.root).state().accounts


def test_collection_has_no_errors(collected: tuple[Inventory, list[Result]]) -> None:
    """moto answers every call these collectors make (S3 Control through the account-prefix workaround)."""
    inv, _ = collected
    assert [e for e in inv.errors if e["service"] in SERVICES | {"s3control"}] == []


@pytest.mark.parametrize("workload", ["prod", "dev"])
def test_public_bucket_found_and_private_buckets_pass(sandbox_home: Home, workload: str,
                                                      collected: tuple[Inventory, list[Result]]) -> None:  # fmt: skip
    _, results = collected
    acct = accounts(sandbox_home)[workload]
    public, private = (
        f"arn:aws:s3:::{workload}-public-assets-{acct}",
        f"arn:aws:s3:::{workload}-customer-data-{acct}",
    )
    for check in ("s3_bucket_not_public", "s3_bucket_block_public_access"):
        assert status(results, check, public) == "FAIL", check
        assert status(results, check, private) == "PASS", check
    [finding] = [r for r in results if r.check == "s3_bucket_not_public" and r.resource == public]
    assert finding.evidence["public_statements"] == [
        "PublicRead: everyone (public principal without a restricting condition)"
    ]
    assert status(results, "s3_bucket_default_encryption", private) == "PASS"
    assert status(results, "s3_bucket_default_encryption", public) == "FAIL"
    # No account in the landing zone has the account-wide block.
    assert status(results, "s3_account_block_public_access", f"arn:aws:iam::{acct}:root") == "FAIL"


@pytest.mark.parametrize("workload", ["prod", "dev"])
def test_orders_database_and_snapshot(sandbox_home: Home, workload: str,
                                      collected: tuple[Inventory, list[Result]]) -> None:  # fmt: skip
    _, results = collected
    acct = accounts(sandbox_home)[workload]
    db = f"arn:aws:rds:us-east-1:{acct}:db:{workload}-orders"
    assert status(results, "rds_instance_storage_encrypted", db) == "PASS"
    assert status(results, "rds_instance_not_public", db) == "PASS"
    assert status(results, "rds_instance_backup_enabled", db) == "PASS"
    assert (
        status(
            results,
            "rds_snapshot_not_public",
            f"arn:aws:rds:us-east-1:{acct}:snapshot:{workload}-orders-nightly",
        )
        == "PASS"
    )
    fn = f"arn:aws:lambda:us-east-1:{acct}:function:{workload}-order-processor"
    assert status(results, "lambda_function_not_public", fn) == "PASS"
    secrets = [
        r.status for r in results if r.check == "secretsmanager_rotation_enabled" and r.account == acct
    ]
    assert secrets == ["FAIL"] * 4  # the landing zone rotates none of its secrets


def test_trail_bucket_and_key(sandbox_home: Home, collected: tuple[Inventory, list[Result]]) -> None:
    _, results = collected
    acct = accounts(sandbox_home)["log-archive"]
    bucket = f"arn:aws:s3:::aws-cloudtrail-logs-{acct}-org"
    for check in ("s3_bucket_versioning", "s3_bucket_default_encryption", "s3_bucket_block_public_access",
                  "s3_bucket_not_public"):  # fmt: skip
        assert status(results, check, bucket) == "PASS", check
    [rotation] = [r for r in results if r.check == "kms_cmk_rotation" and r.account == acct]
    assert rotation.status == "FAIL" and rotation.evidence["Description"] == "organization trail encryption"


def test_block_public_access_fix_turns_fail_into_pass(sandbox_home: Home,
                                                      collected: tuple[Inventory, list[Result]]) -> None:  # fmt: skip
    _, results = collected
    acct = accounts(sandbox_home)["dev"]
    bucket = f"dev-public-assets-{acct}"
    [finding] = [
        r for r in results if r.check == "s3_bucket_block_public_access" and r.resource.endswith(bucket)
    ]
    spec = CHECKS.get(finding.check)
    assert spec.fix and spec.fix_params
    sb = Sandbox(sandbox_home.root)
    action: Any = ACTIONS.get(spec.fix).build(
        sb.soc_session(sb.state(), acct, RESPONDER_ROLE), spec.fix_params(finding)
    )
    applied = action.apply()
    try:
        assert applied.status == "applied"
        fresh = _recollect(sandbox_home, acct, bucket)
        assert (
            status(
                scan.evaluate(fresh, scan.select([finding.check]), [acct]), finding.check, finding.resource
            )
            == "PASS"
        )
        # Block Public Access voids the public policy, which is still there: not public, and evidence says why.
        [voided] = [r for r in scan.evaluate(fresh, scan.select(["s3_bucket_not_public"]), [acct])
                    if r.resource == finding.resource]  # fmt: skip
        assert voided.status == "PASS" and voided.evidence["RestrictPublicBuckets"] == "bucket"
    finally:
        action.revert(applied)
    assert status(scan.evaluate(_recollect(sandbox_home, acct, bucket), scan.select([finding.check]), [acct]),
                  finding.check, finding.resource) == "FAIL"  # fmt: skip


def _recollect(home: Home, account: str, bucket: str) -> Inventory:
    inv, _ = collect.collect(scope.for_home(home, accounts=[account]), services={"s3"})
    assert inv.errors == [] and bucket in inv.keys(account, "global", "s3", "GetBucketPolicy")
    return inv
