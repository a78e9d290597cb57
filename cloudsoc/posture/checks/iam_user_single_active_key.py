"""CIS 6.0 2.12: no IAM user has more than one active access key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._iam import user_arn, users


@check(title="Each IAM user has at most one active access key", severity="medium", services=("iam",),
       scope="account", resource_type="AWS::IAM::User")  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """Counts each user's keys with Status ``Active`` (``ListAccessKeys``): two is FAIL, one or none PASS."""

    def judge(user: dict[str, Any]) -> Result:
        keys = ctx.get("iam", "ListAccessKeys", user["UserName"])["AccessKeyMetadata"]
        active = [k["AccessKeyId"] for k in keys if k.get("Status") == "Active"]
        return ctx.verdict(len(active) <= 1, user_arn(user), f"{user['UserName']} has {len(active)} active key(s)",
                           f"{user['UserName']} has {len(active)} active keys", active_keys=active)  # fmt: skip

    yield from ctx.each(users(ctx), user_arn, judge)
