"""CIS 2.12: active access keys are rotated every 90 days or less."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._iam import age_days, user_arn, users

MAX_AGE = 90


@check(title="Access keys are rotated every 90 days or less", severity="medium", services=("iam",),
       scope="account", resource_type="AWS::IAM::User")  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """A user with an active access key created more than 90 days before the collection
    (``ListAccessKeys`` CreateDate) is FAIL; a user whose active keys are younger, PASS. Users without
    active keys are not judged."""

    def judge(user: dict[str, Any]) -> Iterator[Result]:
        keys = [k for k in ctx.get("iam", "ListAccessKeys", user["UserName"])["AccessKeyMetadata"]
                if k.get("Status") == "Active"]  # fmt: skip
        if not keys:
            return
        ages = {k["AccessKeyId"]: age_days(ctx, k.get("CreateDate")) for k in keys}
        old = {key: days for key, days in ages.items() if days is not None and days > MAX_AGE}
        yield ctx.verdict(not old, user_arn(user), f"{user['UserName']}'s active keys are {MAX_AGE} days old or less",
                          f"{user['UserName']} has active keys older than {MAX_AGE} days: {', '.join(old)}",
                          key_age_days=ages)  # fmt: skip

    yield from ctx.each(users(ctx), user_arn, judge)
