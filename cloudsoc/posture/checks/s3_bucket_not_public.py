"""No bucket is open to everyone through its policy or its ACL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._public import accounts_named, public_grants, public_statements
from cloudsoc.posture.checks._s3 import arn, buckets, effective, fix_target


def _fix(result: Result) -> dict[str, Any]:
    # The organization's accounts the policy names keep their statements; public ones go.
    return fix_target(result) | {"allowed_accounts": result.evidence.get("organization_accounts_named", [])}


@check(title="S3 buckets are not publicly accessible", severity="critical", services=("s3", "s3control"),
       scope="account", resource_type="AWS::S3::Bucket", fix="s3.remove_public_policy", fix_params=_fix)  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """A bucket is public when its policy allows everyone (Principal "*" or NotPrincipal) without a
    condition narrowing the callers to known ones, or AWS's own policy status says public, or its ACL
    grants AllUsers or AuthenticatedUsers. Block Public Access decides what takes effect:
    RestrictPublicBuckets (bucket or account level) voids a public policy, IgnorePublicAcls a public
    ACL grant; such a bucket passes, with the voided grants in the evidence. Accounts of the
    organization count as known callers."""
    trusted = {ctx.account, *ctx.accounts}
    yield from ctx.each(buckets(ctx), arn, lambda b: _judge(ctx, b, trusted))


def _judge(ctx: CheckContext, bucket: str, trusted: set[str]) -> Result:
    answer = ctx.get("s3", "GetBucketPolicy", bucket)
    policy = answer and answer.get("Policy")
    statements = public_statements(policy, trusted)
    if policy is not None:
        status = ctx.get("s3", "GetBucketPolicyStatus", bucket) or {}
        if (status.get("PolicyStatus") or {}).get("IsPublic") and not statements:
            statements = ["AWS evaluates the bucket policy as public (GetBucketPolicyStatus)"]
    grants = public_grants(ctx.get("s3", "GetBucketAcl", bucket))
    named = sorted(accounts_named(policy) & trusted - {ctx.account})
    evidence: dict[str, Any] = {"public_statements": statements, "public_acl_grants": grants,
                                "organization_accounts_named": named}  # fmt: skip
    if not statements and not grants:
        return ctx.passed(
            arn(bucket), "neither the policy nor the ACL opens the bucket to everyone", **evidence
        )
    open_, voided = [], []
    for kind, found, setting in (("policy", statements, "RestrictPublicBuckets"),
                                 ("ACL", grants, "IgnorePublicAcls")):  # fmt: skip
        if found:
            where = effective(ctx, bucket, setting)
            evidence[setting] = where or "off"
            if where:
                voided.append(f"its public {kind} has no effect: {setting} is on at {where} level")
            else:
                open_.append(kind)
    evidence["voided"] = voided
    if open_:
        return ctx.failed(arn(bucket), f"open to everyone through its {' and '.join(open_)}", **evidence)
    return ctx.passed(arn(bucket), "; ".join(voided), **evidence)
