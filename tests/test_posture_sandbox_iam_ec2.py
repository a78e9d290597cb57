"""The IAM, EC2 and Access Analyzer posture checks on the sandbox organization: the landing zone's known
misconfigurations are found on the right resources, and its good resources pass."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from cloudsoc.aws.sandbox import Sandbox, SandboxState
from cloudsoc.core.config import Home
from cloudsoc.posture import scan
from cloudsoc.posture.check import Result
from cloudsoc.posture.collect import collect
from cloudsoc.posture.inventory import Inventory
from cloudsoc.posture.scope import for_home

SERVICES = {"iam", "ec2", "accessanalyzer"}
CHECK_IDS = [
    "accessanalyzer_enabled",
    "ec2_ami_not_public",
    "ec2_default_sg_restricts_all",
    "ec2_ebs_default_encryption",
    "ec2_instance_imdsv2",
    "ec2_instance_no_public_ip",
    "ec2_instance_uses_instance_profile",
    "ec2_nacl_no_admin_ports_from_internet",
    "ec2_sg_no_admin_ports_from_internet_ipv4",
    "ec2_sg_no_admin_ports_from_internet_ipv6",
    "ec2_sg_no_cifs_from_internet",
    "ec2_snapshot_not_public",
    "ec2_volume_encrypted",
    "iam_access_keys_rotated_90_days",
    "iam_cloudshell_full_access_restricted",
    "iam_console_users_mfa",
    "iam_credentials_unused_45_days",
    "iam_no_admin_star_policies",
    "iam_no_expired_server_certificates",
    "iam_password_policy_complexity",
    "iam_password_policy_expiry",
    "iam_password_policy_min_length",
    "iam_password_policy_reuse",
    "iam_root_access_key_absent",
    "iam_root_hardware_mfa",
    "iam_root_mfa_enabled",
    "iam_root_not_used_recently",
    "iam_support_role_exists",
    "iam_user_no_direct_policies",
    "iam_user_single_active_key",
    "vpc_flow_logs_enabled",
]


@pytest.fixture(scope="module")
def landing(sandbox_home: Home) -> tuple[SandboxState, Inventory, list[Result]]:
    inv, _ = collect(for_home(sandbox_home), services=SERVICES)
    return Sandbox(sandbox_home.root).state(), inv, scan.evaluate(inv, scan.select(CHECK_IDS))


def verdicts(results: list[Result], check_id: str, account: str) -> dict[str, str]:
    return {r.resource: r.status for r in results if r.check == check_id and r.account == account}


def ec2_arn(account: str, kind: str, ident: str, region: str = "us-east-1") -> str:
    return f"arn:aws:ec2:{region}:{account}:{kind}/{ident}"


def test_only_operations_the_sandbox_lacks_failed(
    landing: tuple[SandboxState, Inventory, list[Result]],
) -> None:
    state, inv, results = landing
    assert {s.id for s in scan.select(CHECK_IDS)} == set(CHECK_IDS)
    # moto has no IAM Access Analyzer: its one listing fails in every account and region, nothing else.
    assert {(e["service"], e["operation"]) for e in inv.errors} == {("accessanalyzer", "ListAnalyzers")}
    assert len(inv.errors) == len(state.accounts) * 2
    analyzer = {r.status for r in results if r.check == "accessanalyzer_enabled"}
    assert analyzer == {"ERROR"}
    assert {r.status for r in results if r.check != "accessanalyzer_enabled"} <= {"PASS", "FAIL"}


def test_console_users_without_mfa(landing: tuple[SandboxState, Inventory, list[Result]]) -> None:
    state, _, results = landing
    for name in ("prod", "dev"):
        acct = state.accounts[name]
        found = verdicts(results, "iam_console_users_mfa", acct)
        # the service users have no console password and are not judged
        assert found == {f"arn:aws:iam::{acct}:user/bob.developer": "FAIL",
                         f"arn:aws:iam::{acct}:user/alice.admin": "PASS"}  # fmt: skip


def test_no_password_policy_anywhere(landing: tuple[SandboxState, Inventory, list[Result]]) -> None:
    state, _, results = landing
    for cid in ("iam_password_policy_reuse", "iam_password_policy_complexity", "iam_password_policy_expiry"):
        for acct in state.accounts.values():
            assert verdicts(results, cid, acct) == {f"arn:aws:iam::{acct}:root": "FAIL"}


def test_root_checks_read_the_summary(landing: tuple[SandboxState, Inventory, list[Result]]) -> None:
    state, _, results = landing
    prod = state.accounts["prod"]
    root = f"arn:aws:iam::{prod}:root"
    assert verdicts(results, "iam_root_access_key_absent", prod) == {root: "PASS"}
    assert verdicts(results, "iam_root_hardware_mfa", prod) == {root: "FAIL"}  # no root MFA in the sandbox
    [unused] = [r for r in results if r.check == "iam_root_not_used_recently" and r.account == prod]
    assert unused.status == "PASS" and unused.evidence["root_row"] is False  # moto's report has no root row


def test_bastion_open_to_the_internet(landing: tuple[SandboxState, Inventory, list[Result]]) -> None:
    state, _, results = landing
    for name in ("prod", "dev"):
        acct, groups = state.accounts[name], state.resources[name]["security_groups"]
        found = verdicts(results, "ec2_sg_no_admin_ports_from_internet_ipv4", acct)
        assert found[ec2_arn(acct, "security-group", groups["bastion"])] == "FAIL"
        assert found[ec2_arn(acct, "security-group", groups["web"])] == "PASS"
        assert found[ec2_arn(acct, "security-group", groups["database"])] == "PASS"
        assert set(verdicts(results, "ec2_sg_no_admin_ports_from_internet_ipv6", acct).values()) == {"PASS"}


def test_unencrypted_data_volume(landing: tuple[SandboxState, Inventory, list[Result]]) -> None:
    state, _, results = landing
    for name in ("prod", "dev"):
        acct, volume = state.accounts[name], state.resources[name]["data_volume"]
        assert verdicts(results, "ec2_volume_encrypted", acct)[ec2_arn(acct, "volume", volume)] == "FAIL"
        assert verdicts(results, "ec2_ebs_default_encryption", acct) == {f"arn:aws:iam::{acct}:root": "FAIL"}


def test_workload_instances_and_network(landing: tuple[SandboxState, Inventory, list[Result]]) -> None:
    state, _, results = landing
    for name in ("prod", "dev"):
        acct, res = state.accounts[name], state.resources[name]
        profiles = verdicts(results, "ec2_instance_uses_instance_profile", acct)
        assert profiles[ec2_arn(acct, "instance", res["instances"]["web"])] == "PASS"
        assert profiles[ec2_arn(acct, "instance", res["instances"]["bastion"])] == "FAIL"
        assert verdicts(results, "vpc_flow_logs_enabled", acct)[ec2_arn(acct, "vpc", res["vpc"])] == "PASS"
        shared = {
            **verdicts(results, "ec2_snapshot_not_public", acct),
            **verdicts(results, "ec2_ami_not_public", acct),
        }
        assert shared[f"arn:aws:ec2:us-east-1::snapshot/{res['snapshot']}"] == "PASS"
        assert shared[f"arn:aws:ec2:us-east-1::image/{res['image']}"] == "PASS"


def test_inventory_keeps_no_mfa_seed(
    landing: tuple[SandboxState, Inventory, list[Result]], tmp_path: Path
) -> None:
    _, inv, _ = landing
    inv.save(tmp_path / "inv.json.gz")
    text = orjson.dumps(Inventory.load(tmp_path / "inv.json.gz").to_dict())
    assert b"Base32StringSeed" not in text and b"QRCodePNG" not in text
