"""Passwords expire within 90 days."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._iam import judge_password_policy, policy_fix

MAX_AGE = 90


@check(title="IAM password policy expires passwords within 90 days", severity="medium", services=("iam",),
       scope="account", resource_type="AWS::IAM::AccountPasswordPolicy", fix="iam.set_password_policy",
       fix_params=policy_fix)  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """PASS when ``MaxPasswordAge`` is set and at most 90 days; no policy, or passwords that never
    expire, is FAIL."""

    def judge(policy: dict[str, Any]) -> Result:
        age = policy.get("MaxPasswordAge")
        ok = age is not None and 0 < int(age) <= MAX_AGE
        bad = (
            "passwords never expire" if age is None else f"passwords expire after {age} days, over {MAX_AGE}"
        )
        return ctx.verdict(ok, ctx.account_arn, f"passwords expire after {age} days", bad, MaxPasswordAge=age,
                           ExpirePasswords=policy.get("ExpirePasswords"))  # fmt: skip

    yield from judge_password_policy(ctx, judge)
