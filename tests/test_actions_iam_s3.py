"""The S3, IAM and RDS response actions against the sandbox organization: plan changes nothing,
apply changes exactly what it says, a second apply is already done, revert puts back the original,
a target that does not exist is done; and the ``cloudsoc actions`` CLI round trip.

Setup and verification go through the organization's administrator (``Sandbox.account_admin``), the
actions through cloudsoc's responder role, as in a real organization."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from pydantic import ValidationError
from typer.testing import CliRunner

from cloudsoc.aws.sandbox import Sandbox, SandboxState
from cloudsoc.aws.session import client
from cloudsoc.cli.main import app
from cloudsoc.core.config import Home
from cloudsoc.respond import record
from cloudsoc.respond.access import Responder
from cloudsoc.respond.action import ACTIONS, Action, ActionError
from cloudsoc.respond.actions._policy import exposure
from cloudsoc.respond.actions.s3_block_public_access import s3control_client
from tests.action_fixtures import lifecycle, unique

OTHER = "999988887777"  # an account outside the organization

BLOCK_ALL = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
             "RestrictPublicBuckets": True}  # fmt: skip


@pytest.fixture(scope="module")
def state(sandbox_home: Home) -> SandboxState:
    return Sandbox(sandbox_home.root).state()


@pytest.fixture(scope="module")
def prod(state: SandboxState) -> str:
    return state.accounts["prod"]


@pytest.fixture(scope="module")
def admin(state: SandboxState) -> boto3.Session:
    return Sandbox.account_admin(state, "prod")


@pytest.fixture(scope="module")
def responder(sandbox_home: Home) -> Responder:
    return Responder.for_home(sandbox_home)


@pytest.fixture
def act(responder: Responder, prod: str) -> Callable[..., Action[Any]]:
    def build(name: str, **params: Any) -> Action[Any]:
        return ACTIONS.get(name).build(responder.session(prod), {"account_id": prod, **params})

    return build


def assert_not_found_is_done(action: Action[Any]) -> None:
    assert action.plan().changes == []
    result = action.apply()
    assert result.status == "already_done" and result.changes == []


# --- S3 -----------------------------------------------------------------------------------------
@pytest.fixture
def bucket(admin: boto3.Session) -> Iterator[str]:
    name = unique("ir-test")
    s3 = client("s3", session=admin)
    s3.create_bucket(Bucket=name)
    yield name
    s3.delete_bucket(Bucket=name)


def _bucket_block(s3: Any, bucket: str) -> dict[str, bool] | None:
    try:
        return dict(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"])
    except ClientError:
        return None


def _account_block(admin: boto3.Session, prod: str) -> dict[str, bool] | None:
    try:
        answer = s3control_client(admin, prod).get_public_access_block(AccountId=prod)
    except ClientError:
        return None
    return dict(answer["PublicAccessBlockConfiguration"])


def test_block_public_access_on_bucket_and_account(
    act: Any, admin: boto3.Session, prod: str, bucket: str
) -> None:
    s3 = client("s3", session=admin)
    partial = {"BlockPublicAcls": True, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
               "RestrictPublicBuckets": False}  # fmt: skip
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=partial)
    assert _account_block(admin, prod) is None
    try:
        result = lifecycle(
            act("s3.block_public_access", bucket=bucket),
            lambda: (_bucket_block(s3, bucket), _account_block(admin, prod)),
            (BLOCK_ALL, BLOCK_ALL),
        )
        assert result.before["bucket_block"] == partial and result.before["account_block"] is None
    finally:
        s3control_client(admin, prod).delete_public_access_block(AccountId=prod)


def test_block_public_access_bucket_only_deletes_on_revert(
    act: Any, admin: boto3.Session, bucket: str
) -> None:
    s3 = client("s3", session=admin)
    lifecycle(act("s3.block_public_access", bucket=bucket, account_level=False),
              lambda: _bucket_block(s3, bucket), BLOCK_ALL)  # fmt: skip


def test_block_public_access_missing_bucket_is_done(act: Any) -> None:
    assert_not_found_is_done(act("s3.block_public_access", bucket=unique("ir-missing")))


def _encryption(s3: Any, bucket: str) -> list[dict[str, Any]] | None:
    try:
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    except ClientError:
        return None
    return [r["ApplyServerSideEncryptionByDefault"] for r in rules]


def test_enforce_encryption_sse_s3_then_removed_on_revert(
    act: Any, admin: boto3.Session, bucket: str
) -> None:
    s3 = client("s3", session=admin)
    lifecycle(
        act("s3.enforce_encryption", bucket=bucket),
        lambda: _encryption(s3, bucket),
        [{"SSEAlgorithm": "AES256"}],
    )


def test_enforce_encryption_kms_replaces_and_restores_sse_s3(
    act: Any, admin: boto3.Session, bucket: str
) -> None:
    s3 = client("s3", session=admin)
    key = client("kms", session=admin).create_key(Description="bucket key")["KeyMetadata"]["Arn"]
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})  # fmt: skip
    # SSE-S3 already satisfies "encrypted"; asking for a key changes it
    assert act("s3.enforce_encryption", bucket=bucket).plan().changes == []
    lifecycle(act("s3.enforce_encryption", bucket=bucket, kms_key_id=key), lambda: _encryption(s3, bucket),
              [{"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}])  # fmt: skip
    # the key named by its id is the same key
    assert act("s3.enforce_encryption", bucket=bucket, kms_key_id=key.rsplit("/", 1)[1]).plan().changes
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}}]})  # fmt: skip
    assert act("s3.enforce_encryption", bucket=bucket, kms_key_id=key.rsplit("/", 1)[1]).plan().changes == []
    s3.delete_bucket_encryption(Bucket=bucket)


def test_enforce_encryption_missing_bucket_is_done(act: Any) -> None:
    assert_not_found_is_done(act("s3.enforce_encryption", bucket=unique("ir-missing")))


def _policy(s3: Any, bucket: str) -> str | None:
    try:
        return str(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except ClientError:
        return None


def _statements(bucket: str, prod: str, dev: str) -> dict[str, dict[str, Any]]:
    objects = f"arn:aws:s3:::{bucket}/*"
    get = "s3:GetObject"
    return {
        "PublicRead": {"Effect": "Allow", "Principal": "*", "Action": get, "Resource": objects},
        "PublicAws": {"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": get, "Resource": objects},
        "FromVpce": {"Effect": "Allow", "Principal": "*", "Action": get, "Resource": objects,
                     "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0123456789abcdef0"}}},
        "NotEqualsIsNoLimit": {"Effect": "Allow", "Principal": "*", "Action": get, "Resource": objects,
                               "Condition": {"StringNotEquals": {"aws:SourceAccount": prod}}},
        "ForeignAccount": {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"}, "Action": get,
                           "Resource": objects},
        "OwnAndAllowed": {"Effect": "Allow", "Principal": {"AWS": [f"arn:aws:iam::{prod}:role/app", dev]},
                          "Action": get, "Resource": objects},
        "ServiceWrite": {"Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
                         "Action": "s3:PutObject", "Resource": objects,
                         "Condition": {"StringEquals": {"aws:SourceAccount": prod}}},
        "DenyInsecure": {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": objects,
                         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    }  # fmt: skip


def test_remove_public_policy_keeps_restricted_and_trusted_statements(
    act: Any, admin: boto3.Session, state: SandboxState, prod: str, bucket: str
) -> None:
    s3 = client("s3", session=admin)
    dev = state.accounts["dev"]
    by_sid = _statements(bucket, prod, dev)
    doc = {
        "Version": "2012-10-17",
        "Id": "mixed",
        "Statement": [{"Sid": sid, **s} for sid, s in by_sid.items()],
    }
    text = json.dumps(doc, indent=3)  # the owner's own formatting must come back unchanged
    s3.put_bucket_policy(Bucket=bucket, Policy=text)
    kept = ["FromVpce", "OwnAndAllowed", "ServiceWrite", "DenyInsecure"]
    expected = {"Version": "2012-10-17", "Id": "mixed", "Statement": [{"Sid": s, **by_sid[s]} for s in kept]}

    def truth() -> Any:
        current = _policy(s3, bucket)
        return current if current == text else json.loads(current or "null")

    result = lifecycle(act("s3.remove_public_policy", bucket=bucket, allowed_accounts=[dev]), truth, expected)
    assert len(result.changes) == 4 and all("statement" in c for c in result.changes)
    assert _policy(s3, bucket) == text  # byte for byte after the revert
    # without the allowed account, the statement naming dev goes too
    assert len(act("s3.remove_public_policy", bucket=bucket).plan().changes) == 5
    s3.delete_bucket_policy(Bucket=bucket)


def test_remove_public_policy_deletes_an_emptied_policy(act: Any, admin: boto3.Session, bucket: str) -> None:
    s3 = client("s3", session=admin)
    text = json.dumps({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": "*",
                       "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}})  # fmt: skip
    s3.put_bucket_policy(Bucket=bucket, Policy=text)
    result = lifecycle(act("s3.remove_public_policy", bucket=bucket), lambda: _policy(s3, bucket), None)
    assert result.applied == {"policy_deleted": True}
    assert result.changes[-1].startswith("delete the policy")
    s3.delete_bucket_policy(Bucket=bucket)


def test_remove_public_policy_without_policy_or_bucket_is_done(act: Any, bucket: str) -> None:
    assert_not_found_is_done(act("s3.remove_public_policy", bucket=bucket))
    assert_not_found_is_done(act("s3.remove_public_policy", bucket=unique("ir-missing")))


def _public(operator: str, key: str, value: str) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": "*", "Condition": {operator: {key: value}}}


@pytest.mark.parametrize(
    ("statement", "why"),
    [
        ({"Effect": "Allow", "Principal": "*"}, "everyone"),
        ({"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::111122220004:root"}}, "everyone"),
        (_public("IpAddress", "aws:SourceIp", "0.0.0.0/0"), "everyone"),
        (_public("StringEqualsIfExists", "aws:PrincipalOrgID", "o-abc"), "everyone"),
        (_public("StringEquals", "aws:SourceAccount", OTHER), "everyone"),
        (_public("StringLike", "aws:SourceArn", "*"), "everyone"),
        (_public("ForAllValues:StringEquals", "aws:PrincipalOrgID", "o-abc"), "everyone"),
        (_public("StringEquals", "aws:PrincipalOrgID", "o-abc"), None),
        (_public("ForAnyValue:StringLike", "aws:PrincipalOrgPaths", "o-abc/r-1/ou-2/*"), None),
        (_public("IpAddress", "aws:SourceIp", "203.0.113.0/24"), None),
        (_public("StringEquals", "aws:SourceAccount", "111122220004"), None),
        ({"Effect": "Allow", "Principal": {"AWS": OTHER}}, f"foreign accounts {OTHER}"),
        ({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:sts::{OTHER}:assumed-role/x/y"}}, "foreign"),
        ({"Effect": "Allow", "Principal": {"AWS": "111122220004"}}, None),
        ({"Effect": "Allow", "Principal": {"CanonicalUser": "abc"}}, None),
        ({"Effect": "Deny", "Principal": "*"}, None),
    ],
)
def test_which_statements_expose_a_bucket(statement: dict[str, Any], why: str | None) -> None:
    found = exposure(statement, {"111122220004"})
    assert (found is None) if why is None else (found is not None and why in found), found


# --- IAM ----------------------------------------------------------------------------------------
@pytest.fixture
def user(admin: boto3.Session) -> Iterator[str]:
    iam = client("iam", session=admin)
    name = unique("ir-user")
    iam.create_user(UserName=name)
    yield name
    for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
        iam.delete_access_key(UserName=name, AccessKeyId=k["AccessKeyId"])
    for p in iam.list_user_policies(UserName=name)["PolicyNames"]:
        iam.delete_user_policy(UserName=name, PolicyName=p)
    with contextlib.suppress(ClientError):
        iam.delete_login_profile(UserName=name)
    iam.delete_user(UserName=name)


@pytest.fixture
def role(admin: boto3.Session, prod: str) -> Iterator[str]:
    iam = client("iam", session=admin)
    name = unique("ir-role")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{prod}:root"},
                                                     "Action": "sts:AssumeRole"}]}  # fmt: skip
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    yield name
    for p in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        iam.delete_role_policy(RoleName=name, PolicyName=p)
    iam.delete_role(RoleName=name)


def test_deactivate_access_key_finds_its_user(act: Any, admin: boto3.Session, user: str) -> None:
    iam = client("iam", session=admin)
    key = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    other = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]

    def statuses() -> dict[str, str]:
        return {
            k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
        }

    result = lifecycle(act("iam.deactivate_access_key", access_key_id=key), statuses,
                       {key: "Inactive", other: "Active"})  # fmt: skip
    assert result.before == {"access_key_id": key, "user_name": user, "exists": True, "status": "Active"}
    # with the user named, and for a key that is gone
    named = act("iam.deactivate_access_key", access_key_id=key, user_name=user)
    assert named.plan().changes == [f"deactivate access key {key} of user {user}"]
    iam.delete_access_key(UserName=user, AccessKeyId=key)
    assert_not_found_is_done(act("iam.deactivate_access_key", access_key_id=key))
    assert_not_found_is_done(named)


def _inline(iam: Any, kind: str, name: str, policy: str) -> dict[str, Any] | None:
    key = "UserName" if kind == "user" else "RoleName"
    try:
        return dict(getattr(iam, f"get_{kind}_policy")(**{key: name}, PolicyName=policy)["PolicyDocument"])
    except ClientError:
        return None


DENY_ALL = {"Version": "2012-10-17", "Statement": [
    {"Sid": "CloudSOCQuarantine", "Effect": "Deny", "Action": "*", "Resource": "*"}]}  # fmt: skip


def test_quarantine_user(act: Any, admin: boto3.Session, user: str) -> None:
    iam = client("iam", session=admin)
    lifecycle(act("iam.quarantine_principal", user_name=user),
              lambda: _inline(iam, "user", user, "cloudsoc-quarantine"), DENY_ALL)  # fmt: skip
    assert iam.list_user_policies(UserName=user)["PolicyNames"] == []


def test_quarantine_role_restores_the_previous_policy_of_that_name(
    act: Any, admin: boto3.Session, role: str
) -> None:
    iam = client("iam", session=admin)
    previous = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}
    iam.put_role_policy(RoleName=role, PolicyName="cloudsoc-quarantine", PolicyDocument=json.dumps(previous))
    lifecycle(act("iam.quarantine_principal", role_name=role),
              lambda: _inline(iam, "role", role, "cloudsoc-quarantine"), DENY_ALL)  # fmt: skip
    assert _inline(iam, "role", role, "cloudsoc-quarantine") == previous


def test_quarantine_missing_principal_is_done_and_needs_exactly_one(act: Any) -> None:
    assert_not_found_is_done(act("iam.quarantine_principal", user_name=unique("ir-nobody")))
    assert_not_found_is_done(act("iam.quarantine_principal", role_name=unique("ir-nobody")))
    with pytest.raises(ValidationError, match="exactly one"):
        act("iam.quarantine_principal")
    with pytest.raises(ValidationError, match="exactly one"):
        act("iam.quarantine_principal", user_name="a", role_name="b")


def _revoked_at(doc: dict[str, Any] | None) -> datetime:
    assert doc is not None
    [statement] = doc["Statement"]
    assert (statement["Effect"], statement["Action"], statement["Resource"]) == ("Deny", "*", "*")
    [(operator, block)] = statement["Condition"].items()
    assert operator == "DateLessThan" and list(block) == ["aws:TokenIssueTime"]
    text = block["aws:TokenIssueTime"]
    assert text.endswith("Z")
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_revoke_role_sessions_denies_sessions_issued_before_the_apply(
    act: Any, admin: boto3.Session, role: str
) -> None:
    iam = client("iam", session=admin)
    action = act("iam.revoke_role_sessions", role_name=role)
    assert action.plan().changes and _inline(iam, "role", role, "AWSRevokeOlderSessions") is None
    result = action.apply()
    assert result.status == "applied"
    revoked = _revoked_at(_inline(iam, "role", role, "AWSRevokeOlderSessions"))
    started = datetime.fromisoformat(result.started_at).replace(microsecond=0)
    assert started <= revoked <= datetime.fromisoformat(result.finished_at)
    assert result.applied["issued_before"] == revoked.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    assert action.apply().status == "already_done"
    # a later cut-off is a new revocation; an earlier one is covered
    later = act("iam.revoke_role_sessions", role_name=role, issued_before=revoked + timedelta(minutes=5))
    assert later.plan().changes
    assert (
        act("iam.revoke_role_sessions", role_name=role, issued_before=revoked - timedelta(minutes=5))
        .plan()
        .changes
        == []
    )
    assert action.revert(result).status == "reverted"
    assert _inline(iam, "role", role, "AWSRevokeOlderSessions") is None
    assert_not_found_is_done(act("iam.revoke_role_sessions", role_name=unique("ir-nobody")))


def test_revoke_role_sessions_again_later_and_revert_to_the_earlier_revocation(
    act: Any, admin: boto3.Session, role: str
) -> None:
    iam = client("iam", session=admin)
    earlier = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": ["*"], "Resource": ["*"],
               "Condition": {"DateLessThan": {"aws:TokenIssueTime": "2026-01-01T00:00:00.000Z"}}}]}  # fmt: skip
    iam.put_role_policy(
        RoleName=role, PolicyName="AWSRevokeOlderSessions", PolicyDocument=json.dumps(earlier)
    )
    assert act("iam.revoke_role_sessions", role_name=role).plan().changes == []  # a revocation is in place
    cutoff = datetime.now(UTC).replace(microsecond=0)
    action = act("iam.revoke_role_sessions", role_name=role, issued_before=cutoff.isoformat())
    result = lifecycle(action, lambda: _inline(iam, "role", role, "AWSRevokeOlderSessions"), {
        "Version": "2012-10-17", "Statement": [{"Sid": "RevokeOlderSessions", "Effect": "Deny", "Action": "*",
        "Resource": "*", "Condition": {"DateLessThan": {"aws:TokenIssueTime": cutoff.strftime("%Y-%m-%dT%H:%M:%S.000Z")}}}]})  # fmt: skip
    assert result.before["policy"] == earlier


def _login(iam: Any, user: str) -> dict[str, Any] | None:
    try:
        return dict(iam.get_login_profile(UserName=user)["LoginProfile"])
    except ClientError:
        return None


def test_delete_login_profile_and_revert_with_a_forced_reset(
    act: Any, admin: boto3.Session, user: str
) -> None:
    iam = client("iam", session=admin)
    iam.create_login_profile(UserName=user, Password="Original-Passw0rd!", PasswordResetRequired=False)
    action = act("iam.delete_login_profile", user_name=user)
    assert action.plan().changes == [f"delete the console login profile (password) of user {user}"]
    assert _login(iam, user) is not None
    result = action.apply()
    assert result.status == "applied" and _login(iam, user) is None
    assert result.before["login_profile"]["PasswordResetRequired"] is False
    assert result.before["login_profile"]["CreateDate"]
    assert action.apply().status == "already_done"
    reverted = action.revert(result)
    profile = _login(iam, user)
    assert profile is not None and profile["PasswordResetRequired"] is True
    # the new password is nowhere in what the action returns
    assert reverted.after["login_profile"].keys() == {"CreateDate", "PasswordResetRequired"}
    strings = _strings([[r.params, r.before, r.after, r.applied, r.artifacts] for r in (result, reverted)])
    assert not [t for t in strings if "password" in t.lower() and t != "PasswordResetRequired"]
    assert not [
        t for t in strings if len(t) >= 20 and t not in ("PasswordResetRequired", user) and t[:2] != "20"
    ]
    assert "never stored" in ACTIONS.get("iam.delete_login_profile").summary
    assert_not_found_is_done(act("iam.delete_login_profile", user_name=unique("ir-nobody")))


def _strings(value: Any) -> list[str]:
    """Every key and string value in a JSON document."""
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in [k, *_strings(v)]]
    if isinstance(value, list):
        return [t for v in value for t in _strings(v)]
    return [value] if isinstance(value, str) else []


def test_delete_login_profile_of_user_without_one_is_done(act: Any, user: str) -> None:
    assert_not_found_is_done(act("iam.delete_login_profile", user_name=user))


# --- RDS ----------------------------------------------------------------------------------------
def test_unshare_db_snapshot(act: Any, admin: boto3.Session, state: SandboxState) -> None:
    rds = client("rds", session=admin)
    dev = state.accounts["dev"]
    snap = unique("ir-snap")
    rds.create_db_snapshot(
        DBInstanceIdentifier=state.resources["prod"]["db_instance"], DBSnapshotIdentifier=snap
    )
    try:
        rds.modify_db_snapshot_attribute(DBSnapshotIdentifier=snap, AttributeName="restore",
                                         ValuesToAdd=["all", OTHER, dev])  # fmt: skip

        def restore() -> list[str]:
            attrs = rds.describe_db_snapshot_attributes(DBSnapshotIdentifier=snap)[
                "DBSnapshotAttributesResult"
            ]
            return sorted(v for a in attrs["DBSnapshotAttributes"] if a["AttributeName"] == "restore"
                          for v in a["AttributeValues"])  # fmt: skip

        result = lifecycle(
            act("rds.unshare_snapshot", db_snapshot_id=snap, allowed_accounts=[dev]), restore, [dev]
        )
        assert sorted(result.applied["removed"]) == sorted(["all", OTHER])
    finally:
        rds.delete_db_snapshot(DBSnapshotIdentifier=snap)
    assert_not_found_is_done(act("rds.unshare_snapshot", db_snapshot_id=snap))


# --- CLI ----------------------------------------------------------------------------------------
RESULT_KEYS = {"id", "action", "params", "status", "changes", "before", "after", "applied", "artifacts", "error",
               "started_at", "finished_at"}  # fmt: skip


def cli(home: Home | None, *args: str) -> Any:
    where = ["--home", str(home.root)] if home else []
    out = CliRunner().invoke(app, [*args, *where, "--output", "json"])
    assert out.exit_code == 0, (out.output, out.exception)
    return json.loads(out.stdout)


def test_cli_apply_then_revert_by_id(sandbox_home: Home, admin: boto3.Session, bucket: str) -> None:
    s3 = client("s3", session=admin)
    common = ["s3.enforce_encryption", "--account", "prod", "--param", f"bucket={bucket}", "--sandbox"]
    plan = cli(sandbox_home, "actions", "plan", *common)
    assert set(plan) == {"action", "params", "before", "changes"} and len(plan["changes"]) == 1
    assert _encryption(s3, bucket) is None
    applied = cli(sandbox_home, "actions", "apply", *common)
    assert set(applied) == RESULT_KEYS and applied["status"] == "applied"
    assert applied["params"]["account_id"] == Sandbox(sandbox_home.root).state().accounts["prod"]
    assert _encryption(s3, bucket) == [{"SSEAlgorithm": "AES256"}]
    stored = record.directory(sandbox_home) / f"{applied['id']}.json"
    assert json.loads(stored.read_text()) == applied
    again = cli(sandbox_home, "actions", "apply", *common)
    assert again["status"] == "already_done" and again["id"] != applied["id"]

    reverted = cli(sandbox_home, "actions", "revert", applied["id"])
    assert set(reverted) == RESULT_KEYS | {"reverts"} and reverted["status"] == "reverted"
    assert reverted["reverts"] == applied["id"]
    assert _encryption(s3, bucket) is None
    assert record.read(sandbox_home, applied["id"])["reverted_by"] == reverted["id"]
    twice = CliRunner().invoke(app, ["actions", "revert", applied["id"], "--home", str(sandbox_home.root)])
    assert twice.exit_code != 0 and "already reverted" in str(twice.exception)


def test_cli_params_json_lists_and_table_output(
    sandbox_home: Home, admin: boto3.Session, bucket: str
) -> None:
    s3 = client("s3", session=admin)
    policy = {"Version": "2012-10-17", "Statement": [{"Sid": "Partner", "Effect": "Allow",
              "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"}, "Action": "s3:GetObject",
              "Resource": f"arn:aws:s3:::{bucket}/*"}]}  # fmt: skip
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    base = ["actions", "plan", "s3.remove_public_policy", "--account", "prod", "--param", f"bucket={bucket}"]
    assert len(cli(sandbox_home, *base)["changes"]) == 2  # the statement, then the emptied policy
    allowed = cli(sandbox_home, *base, "--params-json", json.dumps({"allowed_accounts": [OTHER]}))
    assert allowed["changes"] == [] and allowed["params"]["allowed_accounts"] == [OTHER]
    assert cli(sandbox_home, *base, "--param", f'allowed_accounts=["{OTHER}"]')["changes"] == []
    table = CliRunner().invoke(app, [*base, "--home", str(sandbox_home.root)])
    assert table.exit_code == 0 and "Partner" in table.stdout
    s3.delete_bucket_policy(Bucket=bucket)


def test_cli_list_and_bad_input(sandbox_home: Home) -> None:
    listed = {a["name"]: a for a in cli(None, "actions", "list")}
    for name in ("s3.block_public_access", "s3.enforce_encryption", "s3.remove_public_policy",
                 "iam.deactivate_access_key", "iam.quarantine_principal", "iam.revoke_role_sessions",
                 "iam.delete_login_profile", "rds.unshare_snapshot"):  # fmt: skip
        entry = listed[name]
        assert {"name", "summary", "reversible", "changes_aws", "permissions"} <= set(entry)
        assert entry["permissions"] and entry["reversible"] is True and entry["changes_aws"] is True
    assert "bucket" in listed["s3.block_public_access"]["params"]
    runner = CliRunner()
    home = ["--home", str(sandbox_home.root)]
    unknown = runner.invoke(app, ["actions", "plan", "s3.nothing", "--account", "prod", *home])
    assert isinstance(unknown.exception, ActionError) and "unknown action" in str(unknown.exception)
    invalid = runner.invoke(app, ["actions", "plan", "iam.quarantine_principal", "--account", "prod", *home])
    assert isinstance(invalid.exception, ActionError) and "exactly one" in str(invalid.exception)
    missing = runner.invoke(app, ["actions", "revert", "20260101T000000Z-00000000", *home])
    assert isinstance(missing.exception, ActionError)


def test_cli_refuses_to_change_real_aws_without_yes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # no sandbox in this home: the ambient AWS would be used; nothing may reach it without --yes
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE00")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-real-secret")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # a refused port, should anything leak
    out = CliRunner().invoke(app, ["actions", "apply", "s3.enforce_encryption", "--account", "123456789012",
                                   "--param", "bucket=b", "--home", str(tmp_path / "real")])  # fmt: skip
    assert isinstance(out.exception, ActionError) and "--yes" in str(out.exception)
    sandbox_only = CliRunner().invoke(app, ["actions", "plan", "s3.enforce_encryption", "--account", "123456789012",
                                            "--param", "bucket=b", "--sandbox", "--home", str(tmp_path / "real")])  # fmt: skip
    assert isinstance(sandbox_only.exception, ActionError) and "no sandbox" in str(sandbox_only.exception)
    assert not (tmp_path / "real" / "respond").exists()


def test_cli_failed_revert_is_stored_and_can_be_retried(sandbox_home: Home, admin: boto3.Session) -> None:
    s3 = client("s3", session=admin)
    gone = unique("ir-gone")
    s3.create_bucket(Bucket=gone)
    applied = cli(sandbox_home, "actions", "apply", "s3.block_public_access", "--account", "prod",
                  "--param", f"bucket={gone}", "--param", "account_level=false")  # fmt: skip
    assert applied["status"] == "applied" and applied["params"]["account_level"] is False
    s3.delete_bucket(Bucket=gone)
    out = CliRunner().invoke(
        app, ["actions", "revert", applied["id"], "--home", str(sandbox_home.root), "-o", "json"]
    )
    assert out.exit_code == 1
    failed = json.loads(out.stdout)
    assert (
        failed["status"] == "failed"
        and "NoSuchBucket" in failed["error"]
        and failed["reverts"] == applied["id"]
    )
    assert json.loads((record.directory(sandbox_home) / f"{failed['id']}.json").read_text()) == failed
    assert "reverted_by" not in record.read(sandbox_home, applied["id"])  # still revertible
