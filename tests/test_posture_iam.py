"""IAM and Access Analyzer checks on hand-written inventories (the API answers as boto3 returns them)."""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from typing import Any

from cloudsoc.posture.check import CHECKS
from cloudsoc.posture.inventory import GLOBAL, Inventory
from tests.posture_fixtures import ACCOUNT, fix_of, inventory, run, statuses

ROOT = f"arn:aws:iam::{ACCOUNT}:root"
# The fixtures' collection time is 2026-11-21T00:00:00Z; ages are counted from it.
RECENT, OLD = "2026-11-11T08:00:00+00:00", "2026-06-01T08:00:00+00:00"


def iam(ops: dict[str, dict[str, Any]], errors: Sequence[tuple[str, str, str, str, str]] = ()) -> Inventory:
    return inventory({GLOBAL: {"iam": ops}}, errors=list(errors))


def summary(**values: int) -> dict[str, dict[str, Any]]:
    base = {"AccountMFAEnabled": 0, "AccountAccessKeysPresent": 0, "Users": 2, "MFADevices": 0}
    return {"GetAccountSummary": {"": {"SummaryMap": base | values}}}


def arn(user: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:user/{user}"


def report(*rows: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {"GetCredentialReport": {"": {"GeneratedTime": "2026-11-20T23:00:00+00:00", "Users": list(rows)}}}


def row(user: str, **over: str) -> dict[str, str]:
    """A credential report row as IAM writes it (no password, no keys)."""
    base = {"user": user, "arn": ROOT if user == "<root_account>" else arn(user),
            "user_creation_time": "2026-01-05T10:00:00+00:00", "password_enabled": "false",
            "password_last_used": "no_information", "password_last_changed": "N/A", "mfa_active": "false",
            "access_key_1_active": "false", "access_key_1_last_rotated": "N/A", "access_key_1_last_used_date": "N/A",
            "access_key_2_active": "false", "access_key_2_last_rotated": "N/A", "access_key_2_last_used_date": "N/A"}  # fmt: skip
    return base | over


def user(name: str) -> dict[str, Any]:
    return {"Path": "/", "UserName": name, "UserId": f"AIDA{name.upper()[:8]}", "Arn": arn(name),
            "CreateDate": "2026-01-05T10:00:00+00:00"}  # fmt: skip


def users(*names: str) -> dict[str, dict[str, Any]]:
    return {"ListUsers": {"": {"Users": [user(n) for n in names], "IsTruncated": False}}}


def keys(**by_user: list[tuple[str, str]]) -> dict[str, dict[str, Any]]:
    """user -> [(status, created)]."""
    return {"ListAccessKeys": {u.replace("_", "."): {"AccessKeyMetadata": [
        {"UserName": u.replace("_", "."), "AccessKeyId": f"AKIA{u.upper()[:6]}{i}", "Status": s, "CreateDate": c}
        for i, (s, c) in enumerate(ks)]} for u, ks in by_user.items()}}  # fmt: skip


# -- root ---------------------------------------------------------------------------------------
def test_root_access_key_from_summary_and_report() -> None:
    assert run("iam_root_access_key_absent", iam(summary()))[0].status == "PASS"
    assert run("iam_root_access_key_absent", iam(summary(AccountAccessKeysPresent=1)))[0].status == "FAIL"
    keyed = iam(summary() | report(row("<root_account>", access_key_1_active="true")))
    [result] = run("iam_root_access_key_absent", keyed)
    assert result.status == "FAIL" and result.evidence["report_active_keys"] == ["1"]


def test_root_access_key_decided_by_summary_when_report_failed() -> None:
    inv = iam(summary(), errors=[(GLOBAL, "iam", "GetCredentialReport", "", "ReportInProgress")])
    assert run("iam_root_access_key_absent", inv)[0].status == "PASS"
    denied = iam({}, errors=[(GLOBAL, "iam", "GetAccountSummary", "", "AccessDenied")])
    [result] = run("iam_root_access_key_absent", denied)
    assert result.status == "ERROR" and result.evidence["permission"] == "iam:GetAccountSummary"


def _virtual(serial: str, assigned_to: str | None) -> dict[str, Any]:
    device: dict[str, Any] = {"SerialNumber": serial}
    if assigned_to:
        device |= {"User": {"Arn": assigned_to, "UserName": assigned_to.rsplit("/", 1)[-1]},
                   "EnableDate": "2026-02-01T00:00:00+00:00"}  # fmt: skip
    return device


def test_root_hardware_mfa() -> None:
    def with_devices(*devices: dict[str, Any], mfa: int = 1) -> Inventory:
        return iam(summary(AccountMFAEnabled=mfa) | {"ListVirtualMFADevices": {"": {
            "VirtualMFADevices": list(devices), "IsTruncated": False}}})  # fmt: skip

    alice = _virtual(f"arn:aws:iam::{ACCOUNT}:mfa/alice", arn("alice"))
    spare_root = _virtual(
        f"arn:aws:iam::{ACCOUNT}:mfa/root-account-mfa-device", None
    )  # created, never enabled
    assert run("iam_root_hardware_mfa", with_devices(alice, spare_root))[0].status == "PASS"
    root_virtual = _virtual(f"arn:aws:iam::{ACCOUNT}:mfa/root-account-mfa-device", ROOT)
    [virtual] = run("iam_root_hardware_mfa", with_devices(alice, root_virtual))
    assert virtual.status == "FAIL" and virtual.evidence["root_virtual_devices"] == [
        root_virtual["SerialNumber"]
    ]
    [none] = run("iam_root_hardware_mfa", with_devices(mfa=0))
    assert none.status == "FAIL" and none.message == "the root user has no MFA"
    denied = iam(
        summary(AccountMFAEnabled=1), errors=[(GLOBAL, "iam", "ListVirtualMFADevices", "", "AccessDenied")]
    )
    assert run("iam_root_hardware_mfa", denied)[0].status == "ERROR"


def test_root_not_used_recently() -> None:
    [unknown] = run("iam_root_not_used_recently", iam(report(row("alice"))))
    assert unknown.status == "PASS" and unknown.evidence["root_row"] is False
    [used] = run("iam_root_not_used_recently", iam(report(row("<root_account>", password_last_used=RECENT))))
    assert used.status == "FAIL" and used.evidence["recent_days"] == {"password_last_used": 9}
    quiet = row("<root_account>", password_last_used=OLD, access_key_1_last_used_date="N/A")
    assert run("iam_root_not_used_recently", iam(report(quiet)))[0].status == "PASS"


def test_root_use_unknown_without_a_credential_report_is_error() -> None:
    failed = iam(summary(), errors=[(GLOBAL, "iam", "GetCredentialReport", "", "ReportInProgress")])
    [result] = run("iam_root_not_used_recently", failed)
    assert result.status == "ERROR" and result.evidence["permission"] == "iam:GetCredentialReport"


# -- password policy ----------------------------------------------------------------------------
def policy(**settings: Any) -> Inventory:
    return iam({"GetAccountPasswordPolicy": {"": {"PasswordPolicy": {
        "MinimumPasswordLength": 14, "AllowUsersToChangePassword": True, "ExpirePasswords": False} | settings}}})  # fmt: skip


NO_POLICY = iam({"GetAccountPasswordPolicy": {"": None}})
PASSWORD_POLICY_CHECKS = ("iam_password_policy_reuse", "iam_password_policy_complexity", "iam_password_policy_expiry",
                          "iam_password_policy_min_length")  # fmt: skip


def test_password_reuse() -> None:
    assert run("iam_password_policy_reuse", policy(PasswordReusePrevention=24))[0].status == "PASS"
    assert run("iam_password_policy_reuse", policy(PasswordReusePrevention=5))[0].status == "FAIL"
    assert run("iam_password_policy_reuse", policy())[0].status == "FAIL"
    assert run("iam_password_policy_reuse", NO_POLICY)[0].status == "FAIL"


def test_password_complexity() -> None:
    every = {"RequireUppercaseCharacters": True, "RequireLowercaseCharacters": True, "RequireNumbers": True,
             "RequireSymbols": True}  # fmt: skip
    assert run("iam_password_policy_complexity", policy(**every))[0].status == "PASS"
    [weak] = run("iam_password_policy_complexity", policy(**every | {"RequireSymbols": False}))
    assert weak.status == "FAIL" and "RequireSymbols" in weak.message
    assert run("iam_password_policy_complexity", NO_POLICY)[0].status == "FAIL"


def test_password_expiry() -> None:
    assert (
        run("iam_password_policy_expiry", policy(MaxPasswordAge=90, ExpirePasswords=True))[0].status == "PASS"
    )
    assert (
        run("iam_password_policy_expiry", policy(MaxPasswordAge=180, ExpirePasswords=True))[0].status
        == "FAIL"
    )
    assert run("iam_password_policy_expiry", policy())[0].status == "FAIL"
    assert run("iam_password_policy_expiry", NO_POLICY)[0].status == "FAIL"


def test_password_policy_fix_sets_the_whole_policy() -> None:
    for cid in PASSWORD_POLICY_CHECKS:
        [result] = run(cid, NO_POLICY)
        assert fix_of(result) == ("iam.set_password_policy", {"account_id": ACCOUNT, "region": "us-east-1"})


def test_no_password_policy_fails_every_policy_check_and_an_unread_one_is_error() -> None:
    for cid in PASSWORD_POLICY_CHECKS:
        [result] = run(cid, NO_POLICY)
        assert (result.status, result.resource, result.message) == (
            "FAIL",
            ROOT,
            "the account has no password policy",
        )
        assert result.evidence == {"policy": None}
        denied = iam({}, errors=[(GLOBAL, "iam", "GetAccountPasswordPolicy", "", "AccessDenied")])
        [error] = run(cid, denied)
        assert error.status == "ERROR" and error.evidence["permission"] == "iam:GetAccountPasswordPolicy"


# -- users --------------------------------------------------------------------------------------
def _console(**profiles: bool | None) -> dict[str, dict[str, Any]]:
    """user -> True: password and MFA, False: password without MFA, None: no password."""
    login = {u: None if p is None else {"LoginProfile": {"UserName": u, "CreateDate": RECENT,
                                                          "PasswordResetRequired": False}} for u, p in profiles.items()}  # fmt: skip
    mfa = {u: {"MFADevices": [{"UserName": u, "SerialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/{u}",
                               "EnableDate": RECENT}] if p else [], "IsTruncated": False} for u, p in profiles.items()}  # fmt: skip
    return users(*profiles) | {"GetLoginProfile": login, "ListMFADevices": mfa}


def test_console_users_mfa() -> None:
    results = run("iam_console_users_mfa", iam(_console(alice=True, bob=False, deployer=None)))
    assert statuses(results) == {arn("alice"): "PASS", arn("bob"): "FAIL"}


def test_console_users_mfa_one_user_unreadable() -> None:
    inv = iam(
        _console(alice=True, bob=False), errors=[(GLOBAL, "iam", "ListMFADevices", "bob", "AccessDenied")]
    )
    results = {r.resource: r for r in run("iam_console_users_mfa", inv)}
    assert results[arn("alice")].status == "PASS"
    assert (
        results[arn("bob")].status == "ERROR"
        and results[arn("bob")].evidence["permission"] == "iam:ListMFADevices"
    )


def test_credentials_unused_45_days() -> None:
    rows = report(
        row("<root_account>", password_enabled="not_supported"),
        row("active", password_enabled="true", password_last_used=RECENT, password_last_changed=OLD,
            access_key_1_active="true", access_key_1_last_rotated=OLD, access_key_1_last_used_date=RECENT),
        row("idle-console", password_enabled="true", password_last_used=OLD, password_last_changed=OLD),
        row("never-used-key", access_key_1_active="true", access_key_1_last_rotated=OLD),
        row("fresh-key", access_key_2_active="true", access_key_2_last_rotated=RECENT),
        row("old-inactive-key", access_key_1_active="false", access_key_1_last_rotated=OLD),
    )  # fmt: skip
    results = {r.resource: r for r in run("iam_credentials_unused_45_days", iam(rows))}
    assert {k: r.status for k, r in results.items()} == {
        arn("active"): "PASS", arn("idle-console"): "FAIL", arn("never-used-key"): "FAIL",
        arn("fresh-key"): "PASS", arn("old-inactive-key"): "PASS"}  # fmt: skip
    assert results[arn("never-used-key")].evidence["unused_days"] == {"access_key_1": 172}


def test_access_keys_rotated_90_days() -> None:
    inv = iam(users("old", "young", "retired", "keyless")
              | keys(old=[("Active", OLD)], young=[("Active", RECENT), ("Inactive", OLD)], retired=[("Inactive", OLD)],
                     keyless=[]))  # fmt: skip
    results = run("iam_access_keys_rotated_90_days", inv)
    assert statuses(results) == {arn("old"): "FAIL", arn("young"): "PASS"}


def test_single_active_key() -> None:
    inv = iam(users("two", "one", "none")
              | keys(two=[("Active", OLD), ("Active", RECENT)], one=[("Active", RECENT), ("Inactive", OLD)], none=[]))  # fmt: skip
    assert statuses(run("iam_user_single_active_key", inv)) == {arn("two"): "FAIL", arn("one"): "PASS",
                                                                  arn("none"): "PASS"}  # fmt: skip


def test_no_direct_policies() -> None:
    attached = {"attached": [{"PolicyName": "ReadOnlyAccess", "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}],
                "inline": [], "grouped": []}  # fmt: skip
    inline = {"attached": [], "inline": ["s3-extra"], "grouped": []}
    inv = iam(users("attached", "inline", "grouped") | {
        "ListAttachedUserPolicies": {u: {"AttachedPolicies": attached[u], "IsTruncated": False} for u in attached},
        "ListUserPolicies": {u: {"PolicyNames": inline[u], "IsTruncated": False} for u in inline}})  # fmt: skip
    assert statuses(run("iam_user_no_direct_policies", inv)) == {
        arn("attached"): "FAIL", arn("inline"): "FAIL", arn("grouped"): "PASS"}  # fmt: skip


# -- policies, roles, certificates ------------------------------------------------------------
def _policy(name: str) -> dict[str, Any]:
    return {"PolicyName": name, "PolicyId": f"ANPA{name.upper()}", "Arn": f"arn:aws:iam::{ACCOUNT}:policy/{name}",
            "Path": "/", "DefaultVersionId": "v2", "AttachmentCount": 1, "IsAttachable": True}  # fmt: skip


def test_admin_star_policies_read_encoded_and_parsed_documents() -> None:
    admin = urllib.parse.quote(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
    )
    scoped = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"},
        {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}  # fmt: skip
    listed = {"Effect": "Allow", "Action": ["ec2:*", "*:*"], "Resource": ["*"]}
    policies = [_policy("Admin"), _policy("Scoped"), _policy("Listed"), _policy("Unread")]
    docs = {"Admin": admin, "Scoped": scoped, "Listed": {"Version": "2012-10-17", "Statement": listed}}
    inv = iam({"ListPolicies": {"": {"Policies": policies, "IsTruncated": False}},
               "GetPolicyVersion": {p["Arn"]: {"PolicyVersion": {"Document": docs[p["PolicyName"]], "VersionId": "v2",
                                                                  "IsDefaultVersion": True}}
                                    for p in policies if p["PolicyName"] in docs}},
              errors=[(GLOBAL, "iam", "GetPolicyVersion", policies[3]["Arn"], "AccessDenied")])  # fmt: skip
    results = statuses(run("iam_no_admin_star_policies", inv))
    assert list(results.values()) == ["FAIL", "PASS", "FAIL", "ERROR"]


def test_support_role() -> None:
    def entities(roles: list[str] | None) -> Inventory:
        answer = None if roles is None else {"PolicyGroups": [], "PolicyUsers": [{"UserName": "ops"}],
                                             "PolicyRoles": [{"RoleName": r, "RoleId": "AROA1"} for r in roles]}  # fmt: skip
        return iam({"ListEntitiesForPolicy": {"arn:aws:iam::aws:policy/AWSSupportAccess": answer}})

    assert run("iam_support_role_exists", entities(["aws-support"]))[0].status == "PASS"
    assert (
        run("iam_support_role_exists", entities([]))[0].status == "FAIL"
    )  # a user holding it does not count
    assert run("iam_support_role_exists", entities(None))[0].status == "FAIL"


def test_expired_server_certificates() -> None:
    def cert(name: str, expires: str) -> dict[str, Any]:
        return {"Path": "/", "ServerCertificateName": name, "ServerCertificateId": f"ASCA{name.upper()}",
                "Arn": f"arn:aws:iam::{ACCOUNT}:server-certificate/{name}", "UploadDate": "2025-01-01T00:00:00+00:00",
                "Expiration": expires}  # fmt: skip

    certs = [cert("old-site", "2026-03-01T00:00:00+00:00"), cert("site", "2027-03-01T00:00:00+00:00")]
    inv = iam(
        {"ListServerCertificates": {"": {"ServerCertificateMetadataList": certs, "IsTruncated": False}}}
    )
    assert list(statuses(run("iam_no_expired_server_certificates", inv)).values()) == ["FAIL", "PASS"]


def test_cloudshell_full_access() -> None:
    shell = "arn:aws:iam::aws:policy/AWSCloudShellFullAccess"
    held = iam({"ListEntitiesForPolicy": {shell: {"PolicyGroups": [], "PolicyUsers": [{"UserName": "bob", "UserId": "A"}],
                                                  "PolicyRoles": [{"RoleName": "ops", "RoleId": "B"}]}}})  # fmt: skip
    assert statuses(run("iam_cloudshell_full_access_restricted", held)) == {
        arn("bob"): "FAIL", f"arn:aws:iam::{ACCOUNT}:role/ops": "FAIL"}  # fmt: skip
    free = iam({"ListEntitiesForPolicy": {shell: {"PolicyGroups": [], "PolicyUsers": [], "PolicyRoles": []}}})
    assert statuses(run("iam_cloudshell_full_access_restricted", free)) == {ROOT: "PASS"}


# -- Access Analyzer ----------------------------------------------------------------------------
def test_access_analyzer_per_region() -> None:
    def analyzer(status: str) -> dict[str, Any]:
        return {"arn": f"arn:aws:access-analyzer:us-east-1:{ACCOUNT}:analyzer/org", "name": "org",
                "type": "ORGANIZATION", "createdAt": "2026-01-01T00:00:00+00:00", "status": status}  # fmt: skip

    inv = inventory({"us-east-1": {"accessanalyzer": {"ListAnalyzers": {"": {"analyzers": [analyzer("ACTIVE")]}}}},
                     "eu-west-1": {"accessanalyzer": {"ListAnalyzers": {"": {"analyzers": [analyzer("FAILED")]}}}}})  # fmt: skip
    results = {r.region: r for r in run("accessanalyzer_enabled", inv)}
    assert results["us-east-1"].status == "PASS" and results["eu-west-1"].status == "FAIL"
    spec = CHECKS.get("accessanalyzer_enabled")
    assert spec.fix == "accessanalyzer.create_analyzer" and spec.fix_params is not None
    assert spec.fix_params(results["eu-west-1"]) == {"account_id": ACCOUNT, "region": "eu-west-1"}
    denied = inventory(
        {}, errors=[("us-east-1", "accessanalyzer", "ListAnalyzers", "", "AccessDeniedException")]
    )
    [error] = run("accessanalyzer_enabled", denied, region="us-east-1")
    assert error.status == "ERROR" and error.evidence["permission"] == "access-analyzer:ListAnalyzers"
