"""CIS 2.1.1: every bucket policy refuses requests not sent over TLS."""

from __future__ import annotations

from collections.abc import Iterator
from fnmatch import fnmatchcase
from typing import Any

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._s3 import arn, buckets, fix_target
from cloudsoc.respond.actions._policy import as_list, statements


@check(title="S3 bucket policies deny requests not using secure transport", severity="medium",
       services=("s3",), scope="account", resource_type="AWS::S3::Bucket", fix="s3.deny_insecure_transport",
       fix_params=fix_target)  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """PASS when the bucket policy has a Deny statement for everyone (Principal "*") on all S3 actions
    ("s3:*" or "*") over the bucket's objects, with the condition Bool (or BoolIfExists)
    aws:SecureTransport = false. A bucket without a policy fails."""

    def judge(bucket: str) -> Result:
        answer = ctx.get("s3", "GetBucketPolicy", bucket)
        policy = answer and answer.get("Policy")
        found = [
            s.get("Sid") or f"#{i + 1}" for i, s in enumerate(statements(policy)) if _denies_http(s, bucket)
        ]
        bad = (
            "the bucket has no policy"
            if policy is None
            else "no policy statement denies requests without TLS"
        )
        return ctx.verdict(bool(found), arn(bucket), "the policy denies requests without TLS", bad,
                           has_policy=policy is not None, denying_statements=found)  # fmt: skip

    yield from ctx.each(buckets(ctx), arn, judge)


def _denies_http(statement: dict[str, Any], bucket: str) -> bool:
    principal = statement.get("Principal")
    everyone = principal == "*" or (isinstance(principal, dict) and "*" in as_list(principal.get("AWS")))
    actions = {str(a).lower() for a in as_list(statement.get("Action"))}
    objects = f"arn:aws:s3:::{bucket}/any-object"
    covers = any(fnmatchcase(objects, str(r)) for r in as_list(statement.get("Resource")))
    return (statement.get("Effect") == "Deny" and everyone and bool(actions & {"s3:*", "*"}) and covers
            and _insecure_transport(statement.get("Condition") or {}))  # fmt: skip


def _insecure_transport(condition: dict[str, Any]) -> bool:
    """The condition matches requests made without TLS: aws:SecureTransport is false."""
    for operator, block in condition.items():
        if operator.lower() not in ("bool", "boolifexists") or not isinstance(block, dict):
            continue
        for key, values in block.items():
            if key.lower() == "aws:securetransport" and [str(v).lower() for v in as_list(values)] == [
                "false"
            ]:
                return True
    return False
