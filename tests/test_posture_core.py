"""The posture core: inventory outcomes, the collector context, the check runner."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest
from botocore.exceptions import ClientError
from sqlalchemy import select

from cloudsoc.core import db
from cloudsoc.core.config import Home
from cloudsoc.core.errors import ConfigError
from cloudsoc.posture import fix as fixes
from cloudsoc.posture import store
from cloudsoc.posture.check import Result
from cloudsoc.posture.collector import CollectContext
from cloudsoc.posture.inventory import GLOBAL, Inventory, MissingData
from cloudsoc.posture.run import scan
from cloudsoc.posture.triggers import collector_of
from cloudsoc.respond.access import Responder
from tests.posture_fixtures import ACCOUNT, inventory, run


def _error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"{code}!"}}, "Op")


class _Flaky:
    """A client whose call is throttled ``times`` times before it answers."""

    def __init__(self, times: int, then: Any) -> None:
        self.times, self.then, self.seen = times, then, 0

    def get_account_password_policy(self) -> Any:
        self.seen += 1
        if self.seen <= self.times:
            raise _error("Throttling")
        if isinstance(self.then, Exception):
            raise self.then
        return self.then


def _ctx(client: Any, attempts: int = 4) -> tuple[CollectContext, Inventory]:
    inv = Inventory(id="i", started="", regions=["us-east-1"])
    inv.add_account(ACCOUNT)
    return CollectContext(inv, ACCOUNT, "us-east-1", "iam", client, attempts=attempts, backoff=0.001), inv


def test_throttled_calls_are_retried_then_filed() -> None:
    ctx, inv = _ctx(_Flaky(2, {"PasswordPolicy": {"MinimumPasswordLength": 16}}))
    assert ctx.call("GetAccountPasswordPolicy") == {"PasswordPolicy": {"MinimumPasswordLength": 16}}
    assert ctx.calls == 3
    assert inv.get(ACCOUNT, GLOBAL, "iam", "GetAccountPasswordPolicy") is not None


def test_throttled_out_is_recorded_as_data() -> None:
    ctx, inv = _ctx(_Flaky(10, {}), attempts=3)
    assert ctx.call("GetAccountPasswordPolicy") is None
    [err] = inv.errors
    assert err["code"] == "ThrottledOut" and err["operation"] == "GetAccountPasswordPolicy"
    with pytest.raises(MissingData, match="iam:GetAccountPasswordPolicy"):
        inv.get(ACCOUNT, "us-east-1", "iam", "GetAccountPasswordPolicy")


def test_absent_setting_is_none_and_denied_call_is_an_error() -> None:
    ctx, inv = _ctx(_Flaky(0, _error("NoSuchEntity")))
    assert ctx.call("GetAccountPasswordPolicy") is None and not inv.errors
    assert inv.get(ACCOUNT, GLOBAL, "iam", "GetAccountPasswordPolicy") is None
    ctx, inv = _ctx(_Flaky(0, _error("AccessDenied")))
    ctx.call("GetAccountPasswordPolicy")
    assert inv.errors[0]["code"] == "AccessDenied"


def test_missing_data_is_error_never_pass() -> None:
    denied = inventory({}, errors=[(GLOBAL, "iam", "GetAccountPasswordPolicy", "", "AccessDenied")])
    [result] = run("iam_password_policy_min_length", denied)
    assert result.status == "ERROR"
    assert result.evidence["permission"] == "iam:GetAccountPasswordPolicy"
    [never] = run("iam_password_policy_min_length", inventory({}))
    assert never.status == "ERROR" and "not collected" in never.message


def test_password_policy_length() -> None:
    def policy(n: int) -> Inventory:
        return inventory({GLOBAL: {"iam": {"GetAccountPasswordPolicy": {"": {"PasswordPolicy": {
            "MinimumPasswordLength": n}}}}}})  # fmt: skip

    assert run("iam_password_policy_min_length", policy(14))[0].status == "PASS"
    assert run("iam_password_policy_min_length", policy(8))[0].status == "FAIL"
    none = inventory({GLOBAL: {"iam": {"GetAccountPasswordPolicy": {"": None}}}})
    assert run("iam_password_policy_min_length", none)[0].status == "FAIL"


def test_inventory_round_trips_through_its_file(tmp_path: Any) -> None:
    inv = inventory({GLOBAL: {"iam": {"GetAccountSummary": {"": {"SummaryMap": {"AccountMFAEnabled": 1}}}}}},
                    errors=[("us-east-1", "ec2", "DescribeVolumes", "", "AccessDenied")])  # fmt: skip
    digest = inv.save(tmp_path / "inv.json.gz")
    back = Inventory.load(tmp_path / "inv.json.gz")
    assert back.to_dict() == inv.to_dict() and len(digest) == 64
    assert run("iam_root_mfa_enabled", back)[0].status == "PASS"


def test_an_answer_replaces_a_failure_and_a_failure_replaces_an_answer() -> None:
    inv = inventory({})
    inv.fail(ACCOUNT, "us-east-1", "iam", "GetAccountSummary", "", "Throttling", "first")
    inv.fail(ACCOUNT, "eu-west-1", "iam", "GetAccountSummary", "", "AccessDenied", "again")  # IAM is global
    [err] = inv.errors
    assert (err["region"], err["code"]) == (GLOBAL, "AccessDenied")
    assert inv.error(ACCOUNT, "us-east-1", "iam", "GetAccountSummary") == err
    inv.put(ACCOUNT, GLOBAL, "iam", "GetAccountSummary", "", {"SummaryMap": {}})
    assert inv.errors == [] and inv.error(ACCOUNT, GLOBAL, "iam", "GetAccountSummary") is None
    assert inv.get(ACCOUNT, GLOBAL, "iam", "GetAccountSummary") == {"SummaryMap": {}}
    inv.fail(ACCOUNT, GLOBAL, "iam", "GetAccountSummary", "", "AccessDenied", "denied now")
    with pytest.raises(MissingData, match="AccessDenied: denied now"):
        inv.get(ACCOUNT, GLOBAL, "iam", "GetAccountSummary")


def test_clearing_a_service_forgets_its_answers_and_failures_there_only() -> None:
    inv = inventory({"us-east-1": {"ec2": {"DescribeVolumes": {"": {"Volumes": []}}}}},
                    errors=[("us-east-1", "ec2", "DescribeSnapshots", "", "AccessDenied"),
                            ("eu-west-1", "ec2", "DescribeSnapshots", "", "AccessDenied"),
                            ("us-east-1", "kms", "ListKeys", "", "AccessDenied")])  # fmt: skip
    inv.clear(ACCOUNT, "us-east-1", "ec2")
    assert [(e["region"], e["service"]) for e in inv.errors] == [("eu-west-1", "ec2"), ("us-east-1", "kms")]
    with pytest.raises(MissingData, match="not collected"):
        inv.get(ACCOUNT, "us-east-1", "ec2", "DescribeVolumes")


def test_a_fix_is_judged_again_where_it_acted() -> None:
    """An organization trail's fix acts in the management account and the trail's home region: that is
    what is collected again, not the member account whose result failed."""
    member = Result("cloudtrail_multi_region_logging", "FAIL", ACCOUNT, GLOBAL, f"arn:aws:iam::{ACCOUNT}:root",
                    "trail stopped", {"trail": "org", "trail_account": "111122220001", "trail_region": "eu-west-1"})  # fmt: skip
    found = fixes.fixable(member)
    assert found is not None
    assert fixes.acted_in(member, found[1]) == ("111122220001", "eu-west-1", "cloudtrail")
    assert (collector_of("s3control"), collector_of("logs"), collector_of("ec2")) == (
        "s3",
        "cloudwatch",
        "ec2",
    )


def test_a_fix_that_cannot_be_planned_says_so() -> None:
    class _Unreachable:
        def session(self, account: str, region: str) -> Any:
            raise RuntimeError(f"cannot reach {account}")

    failed = Result("iam_password_policy_min_length", "FAIL", ACCOUNT, GLOBAL, f"arn:aws:iam::{ACCOUNT}:root",
                    "too short")  # fmt: skip
    found = fixes.fixable(failed)
    assert found is not None
    it = fixes.plan(
        cast(Responder, _Unreachable()), fixes.FixItem(failed, *found, tier="dev", policy="allow")
    )
    row = it.to_dict()
    assert row["status"] == "failed" and row["error"] == f"RuntimeError: cannot reach {ACCOUNT}"


OTHER = "210987654321"


def test_a_stored_inventory_is_scanned_in_the_accounts_and_regions_asked(tmp_path: Path) -> None:
    policy = {
        GLOBAL: {"iam": {"GetAccountPasswordPolicy": {"": {"PasswordPolicy": {"MinimumPasswordLength": 8}}}}}
    }
    inv = inventory(policy, others={OTHER: policy})
    inv.accounts[OTHER]["name"] = "dev"
    path = tmp_path / "inv.json.gz"
    inv.save(path)
    home = Home.open(tmp_path / "home")
    engine = db.connect(home.database_url)

    def state() -> set[str]:
        with engine.connect() as conn:
            return {r[0] for r in conn.execute(select(db.posture_state.c.account_id))}

    part = scan(home, inventory=path, accounts=["dev"], regions=["eu-west-1"], sql=engine)
    assert (part.summary()["accounts"], part.summary()["regions"]) == ([OTHER], ["eu-west-1"])
    assert {(r.account, r.region) for r in part.scan.results} == {(OTHER, GLOBAL), (OTHER, "eu-west-1")}
    assert state() == set()  # a part of the organization is not its current state
    with pytest.raises(ConfigError, match="no account nobody"):
        scan(home, inventory=path, accounts=["nobody"], sql=engine)
    whole = scan(home, inventory=path, sql=engine)
    assert whole.summary()["accounts"] == sorted([ACCOUNT, OTHER]) and state() == {ACCOUNT, OTHER}
    again = scan(home, inventory=path, accounts=["dev"], sql=engine)  # a later part, of the same inventory
    assert again.scan.id not in (whole.scan.id, part.scan.id) and again.scan.trigger == "partial"
    with engine.connect() as conn:
        assert store.resolve(conn) == again.scan.id  # the latest scan, for reports and diffs
        assert store.resolve(conn, whole=True) == whole.scan.id  # the continuous evaluation's baseline
        assert len(store.results(conn, whole.scan.id)) == len(whole.scan.results)  # the part replaced nothing
