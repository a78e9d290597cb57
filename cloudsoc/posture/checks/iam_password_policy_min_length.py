"""CIS 2.8: the account password policy requires 14 characters or more."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._iam import judge_password_policy, policy_fix

MIN_LENGTH = 14


@check(title="IAM password policy requires a minimum length of 14 or more", severity="medium",
       services=("iam",), scope="account", resource_type="AWS::IAM::AccountPasswordPolicy",
       fix="iam.set_password_policy", fix_params=policy_fix)  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """PASS when ``MinimumPasswordLength`` is 14 or more; no policy, or no such setting, is FAIL."""

    def judge(policy: dict[str, Any]) -> Result:
        length = int(policy.get("MinimumPasswordLength", 0))
        return ctx.verdict(length >= MIN_LENGTH, ctx.account_arn, f"minimum password length is {length}",
                           f"minimum password length is {length}, below {MIN_LENGTH}", minimum_length=length)  # fmt: skip

    yield from judge_password_policy(ctx, judge)
