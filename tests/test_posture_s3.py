"""The S3 checks on hand-written inventories: Block Public Access (account and bucket), public policies
and ACLs, TLS-only policies, MFA Delete, default encryption, versioning, access logging."""

from __future__ import annotations

from typing import Any

import pytest

from cloudsoc.posture.check import CHECKS, Result
from cloudsoc.posture.inventory import GLOBAL, Inventory
from tests.posture_fixtures import ACCOUNT, fix_of, inventory, run, statuses

OWNER = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"
ALL_ON = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
PRIVATE_ACL = {"Owner": {"DisplayName": "owner", "ID": OWNER},
               "Grants": [{"Grantee": {"ID": OWNER, "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"}]}  # fmt: skip
OTHER_ACCOUNT = "210987654321"


def block(**off: bool) -> dict[str, Any]:
    """A GetPublicAccessBlock answer: all on except the settings given."""
    return {"PublicAccessBlockConfiguration": ALL_ON | off}


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    """A GetBucketPolicy answer as the collector files it (parsed)."""
    return {"Policy": {"Version": "2012-10-17", "Statement": list(statements)}}


def public_read(bucket: str, **extra: Any) -> dict[str, Any]:
    return {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/*", **extra}  # fmt: skip


def acl_granting(uri: str, permission: str = "READ") -> dict[str, Any]:
    grant = {"Grantee": {"Type": "Group", "URI": uri}, "Permission": permission}
    return PRIVATE_ACL | {"Grants": [*PRIVATE_ACL["Grants"], grant]}


def s3(buckets: dict[str, dict[str, Any]], *, account_block: dict[str, Any] | None = None,
       errors: list[tuple[str, str, str, str, str]] | None = None,
       others: dict[str, dict[str, Any]] | None = None) -> Inventory:  # fmt: skip
    """An inventory of buckets: name -> {operation: answer} over the defaults (a private bucket with
    no policy, no public access block, no encryption, versioning never enabled, no logging)."""
    ops: dict[str, dict[str, Any]] = {"ListBuckets": {"": {
        "Buckets": [{"Name": b, "CreationDate": "2026-01-05T09:00:00+00:00"} for b in buckets],
        "Owner": {"DisplayName": "owner", "ID": OWNER}}}}  # fmt: skip
    for bucket, answers in buckets.items():
        defaults = {"GetBucketPolicy": None, "GetBucketPolicyStatus": None, "GetBucketAcl": PRIVATE_ACL,
                    "GetPublicAccessBlock": None, "GetBucketEncryption": None, "GetBucketVersioning": {},
                    "GetBucketLogging": {}}  # fmt: skip
        for op, answer in (defaults | answers).items():
            ops.setdefault(op, {})[bucket] = answer
    data = {GLOBAL: {"s3": ops, "s3control": {"GetPublicAccessBlock": {"": account_block}}}}
    return inventory(data, errors=errors or [], others=others)


def arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def one(results: list[Result], bucket: str) -> Result:
    [found] = [r for r in results if r.resource == arn(bucket)]
    return found


# --- account-level Block Public Access ----------------------------------------------------------------
def test_account_block_public_access() -> None:
    [ok] = run("s3_account_block_public_access", s3({}, account_block=block()))
    assert ok.status == "PASS" and ok.resource == f"arn:aws:iam::{ACCOUNT}:root"
    [partial] = run(
        "s3_account_block_public_access", s3({}, account_block=block(RestrictPublicBuckets=False))
    )
    assert partial.status == "FAIL" and "RestrictPublicBuckets" in partial.message
    assert partial.evidence["account_block"]["RestrictPublicBuckets"] is False
    [none] = run("s3_account_block_public_access", s3({}))
    assert none.status == "FAIL" and none.evidence["account_block"] is None
    assert CHECKS.get("s3_account_block_public_access").fix is None  # the action needs a bucket


def test_account_block_public_access_denied_is_error() -> None:
    denied = s3({}, errors=[(GLOBAL, "s3control", "GetPublicAccessBlock", "", "AccessDenied")])
    [result] = run("s3_account_block_public_access", denied)
    assert result.status == "ERROR" and result.evidence["permission"] == "s3:GetAccountPublicAccessBlock"


# --- bucket-level Block Public Access -----------------------------------------------------------------
def test_bucket_block_public_access_at_bucket_or_account_level() -> None:
    inv = s3({"own": {"GetPublicAccessBlock": block()}, "partial": {"GetPublicAccessBlock": block(BlockPublicPolicy=False)},
              "bare": {}})  # fmt: skip
    results = run("s3_bucket_block_public_access", inv)
    assert statuses(results) == {arn("own"): "PASS", arn("partial"): "FAIL", arn("bare"): "FAIL"}
    covered = run("s3_bucket_block_public_access", s3({"bare": {}}, account_block=block()))
    assert covered[0].status == "PASS" and "account-wide" in covered[0].message


def test_bucket_block_public_access_fix() -> None:
    results = run("s3_bucket_block_public_access", s3({"bare": {}}))
    name, params = fix_of(one(results, "bare"))
    assert name == "s3.block_public_access"
    assert params == {"account_id": ACCOUNT, "region": "us-east-1", "bucket": "bare", "account_level": False}


def test_denied_call_is_error_for_its_bucket_only() -> None:
    inv = s3({"secret": {}, "fine": {"GetPublicAccessBlock": block()}},
             errors=[(GLOBAL, "s3", "GetPublicAccessBlock", "secret", "AccessDenied")])  # fmt: skip
    results = run("s3_bucket_block_public_access", inv)
    assert statuses(results) == {arn("secret"): "ERROR", arn("fine"): "PASS"}
    assert one(results, "secret").evidence["permission"] == "s3:GetBucketPublicAccessBlock"


def test_unknown_account_block_is_error_only_where_it_decides() -> None:
    inv = s3({"own": {"GetPublicAccessBlock": block()}, "bare": {}},
             errors=[(GLOBAL, "s3control", "GetPublicAccessBlock", "", "AccessDenied")])  # fmt: skip
    assert statuses(run("s3_bucket_block_public_access", inv)) == {arn("own"): "PASS", arn("bare"): "ERROR"}


def test_bucket_listing_denied_is_one_error() -> None:
    inv = s3({}, errors=[(GLOBAL, "s3", "ListBuckets", "", "AccessDenied")])
    [result] = run("s3_bucket_versioning", inv)
    assert result.status == "ERROR" and result.evidence["permission"] == "s3:ListAllMyBuckets"


# --- public buckets -------------------------------------------------------------------------------
def test_public_policy_fails_and_private_buckets_pass() -> None:
    inv = s3({
        "site": {"GetBucketPolicy": policy(public_read("site")), "GetBucketPolicyStatus": {"PolicyStatus": {"IsPublic": True}}},
        "private": {},
        "org-only": {"GetBucketPolicy": policy(public_read("org-only", Condition={
            "StringEquals": {"aws:PrincipalOrgID": "o-abc123def4"}})),
            "GetBucketPolicyStatus": {"PolicyStatus": {"IsPublic": False}}},
        "partner": {"GetBucketPolicy": policy({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"},
                                               "Action": "s3:GetObject", "Resource": "arn:aws:s3:::partner/*"}),
                    "GetBucketPolicyStatus": {"PolicyStatus": {"IsPublic": False}}},
    })  # fmt: skip
    results = run("s3_bucket_not_public", inv)
    assert statuses(results) == {arn("site"): "FAIL", arn("private"): "PASS", arn("org-only"): "PASS",
                                 arn("partner"): "PASS"}  # fmt: skip
    site = one(results, "site")
    assert site.evidence["public_statements"] == [
        "PublicRead: everyone (public principal without a restricting condition)"
    ]
    assert site.evidence["RestrictPublicBuckets"] == "off"


def test_public_policy_fix_keeps_the_organization() -> None:
    org = {"210987654321": {}, "210987654322": {}}
    partner = {"Sid": "OrgReader", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
               "Action": "s3:GetObject", "Resource": "arn:aws:s3:::site/*"}  # fmt: skip
    inv = s3({"site": {"GetBucketPolicy": policy(public_read("site"), partner),
                       "GetBucketPolicyStatus": {"PolicyStatus": {"IsPublic": True}}}}, others=org)  # fmt: skip
    name, params = fix_of(run("s3_bucket_not_public", inv)[0])
    assert name == "s3.remove_public_policy"
    assert params == {"account_id": ACCOUNT, "region": "us-east-1", "bucket": "site",
                      "allowed_accounts": ["210987654321"]}  # fmt: skip


def test_public_policy_status_counts_when_statements_look_narrowed() -> None:
    narrowed = policy(public_read("b", Condition={"StringLike": {"aws:SourceArn": "arn:aws:cloudfront::*"}}))
    inv = s3(
        {"b": {"GetBucketPolicy": narrowed, "GetBucketPolicyStatus": {"PolicyStatus": {"IsPublic": True}}}}
    )
    [result] = run("s3_bucket_not_public", inv)
    assert result.status == "FAIL" and "GetBucketPolicyStatus" in result.evidence["public_statements"][0]


@pytest.mark.parametrize("group", ["AllUsers", "AuthenticatedUsers"])
def test_public_acl_grant_fails(group: str) -> None:
    inv = s3({"b": {"GetBucketAcl": acl_granting(f"http://acs.amazonaws.com/groups/global/{group}")}})
    [result] = run("s3_bucket_not_public", inv)
    assert result.status == "FAIL" and result.evidence["public_acl_grants"] == [f"{group}:READ"]
    assert "ACL" in result.message


def test_block_public_access_voids_public_grants() -> None:
    site = {
        "GetBucketPolicy": policy(public_read("site")),
        "GetBucketPolicyStatus": {"PolicyStatus": {"IsPublic": True}},
    }
    acl = {"GetBucketAcl": acl_granting("http://acs.amazonaws.com/groups/global/AllUsers"),
           "GetPublicAccessBlock": block(RestrictPublicBuckets=False, BlockPublicPolicy=False)}  # fmt: skip
    inv = s3({"site": site, "acl": acl}, account_block=block(IgnorePublicAcls=False, BlockPublicAcls=False))
    results = run("s3_bucket_not_public", inv)
    assert statuses(results) == {arn("site"): "PASS", arn("acl"): "PASS"}
    assert one(results, "site").evidence["RestrictPublicBuckets"] == "account"
    assert "RestrictPublicBuckets is on at account level" in one(results, "site").message
    assert one(results, "acl").evidence["IgnorePublicAcls"] == "bucket"
    # The wrong setting does not void a grant: IgnorePublicAcls leaves a public policy in force.
    wrong = s3({"site": site | {"GetPublicAccessBlock": block(RestrictPublicBuckets=False)}})
    assert run("s3_bucket_not_public", wrong)[0].status == "FAIL"


def test_unreadable_acl_is_error_for_that_bucket() -> None:
    inv = s3({"a": {}, "b": {}}, errors=[(GLOBAL, "s3", "GetBucketAcl", "a", "AccessDenied")])
    results = run("s3_bucket_not_public", inv)
    assert statuses(results) == {arn("a"): "ERROR", arn("b"): "PASS"}
    assert one(results, "a").evidence["permission"] == "s3:GetBucketAcl"


# --- TLS only -----------------------------------------------------------------------------------------
def deny_http(bucket: str, *, action: Any = "s3:*", value: Any = "false", operator: str = "Bool",
              resources: Any = None) -> dict[str, Any]:  # fmt: skip
    return {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": action,
            "Resource": resources or [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            "Condition": {operator: {"aws:SecureTransport": value}}}  # fmt: skip


def test_deny_insecure_transport() -> None:
    inv = s3({
        "tls": {"GetBucketPolicy": policy(public_read("tls"), deny_http("tls"))},
        "tls-star": {"GetBucketPolicy": policy(deny_http("tls-star", action="*", value=False, operator="BoolIfExists",
                                                         resources="*"))},
        "read-only": {"GetBucketPolicy": policy(deny_http("read-only", action=["s3:GetObject"]))},
        "bucket-arn-only": {"GetBucketPolicy": policy(deny_http("bucket-arn-only", resources="arn:aws:s3:::bucket-arn-only"))},
        "inverted": {"GetBucketPolicy": policy(deny_http("inverted", value="true"))},
        "none": {},
    })  # fmt: skip
    results = run("s3_bucket_deny_insecure_transport", inv)
    assert statuses(results) == {arn("tls"): "PASS", arn("tls-star"): "PASS", arn("read-only"): "FAIL",
                                 arn("bucket-arn-only"): "FAIL", arn("inverted"): "FAIL", arn("none"): "FAIL"}  # fmt: skip
    assert one(results, "tls").evidence["denying_statements"] == ["DenyInsecureTransport"]
    assert one(results, "none").message == "the bucket has no policy"
    name, params = fix_of(one(results, "none"))
    assert (name, params) == ("s3.deny_insecure_transport", {"account_id": ACCOUNT, "region": "us-east-1",
                                                              "bucket": "none"})  # fmt: skip


# --- settings -----------------------------------------------------------------------------------------
def test_mfa_delete() -> None:
    inv = s3({"mfa": {"GetBucketVersioning": {"Status": "Enabled", "MFADelete": "Enabled"}},
              "plain": {"GetBucketVersioning": {"Status": "Enabled", "MFADelete": "Disabled"}}, "never": {}})  # fmt: skip
    results = run("s3_bucket_mfa_delete", inv)
    assert statuses(results) == {arn("mfa"): "PASS", arn("plain"): "FAIL", arn("never"): "FAIL"}
    assert CHECKS.get("s3_bucket_mfa_delete").fix is None


def test_default_encryption() -> None:
    kms = {"ServerSideEncryptionConfiguration": {"Rules": [{"ApplyServerSideEncryptionByDefault": {
        "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "arn:aws:kms:us-east-1:123456789012:key/k1"}, "BucketKeyEnabled": True}]}}  # fmt: skip
    results = run("s3_bucket_default_encryption", s3({"kms": {"GetBucketEncryption": kms}, "none": {}}))
    assert statuses(results) == {arn("kms"): "PASS", arn("none"): "FAIL"}
    assert one(results, "kms").evidence["algorithms"] == ["aws:kms"]
    assert fix_of(one(results, "none")) == ("s3.enforce_encryption", {"account_id": ACCOUNT, "region": "us-east-1",
                                                                      "bucket": "none"})  # fmt: skip


def test_versioning() -> None:
    inv = s3({"on": {"GetBucketVersioning": {"Status": "Enabled"}},
              "paused": {"GetBucketVersioning": {"Status": "Suspended"}}, "never": {}})  # fmt: skip
    results = run("s3_bucket_versioning", inv)
    assert statuses(results) == {arn("on"): "PASS", arn("paused"): "FAIL", arn("never"): "FAIL"}
    assert one(results, "paused").message == "versioning is suspended"
    assert fix_of(one(results, "never")) == ("s3.enable_versioning", {"account_id": ACCOUNT, "region": "us-east-1",
                                                                      "bucket": "never"})  # fmt: skip


def test_access_logging() -> None:
    logging = {"LoggingEnabled": {"TargetBucket": "access-logs", "TargetPrefix": "logged/"}}
    results = run("s3_bucket_access_logging", s3({"logged": {"GetBucketLogging": logging}, "quiet": {}}))
    assert statuses(results) == {arn("logged"): "PASS", arn("quiet"): "FAIL"}
    assert one(results, "logged").evidence["target_bucket"] == "access-logs"
