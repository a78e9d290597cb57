"""The password policy requires upper and lower case letters, numbers and symbols."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._iam import judge_password_policy, policy_fix

REQUIRED = ("RequireUppercaseCharacters", "RequireLowercaseCharacters", "RequireNumbers", "RequireSymbols")


@check(title="IAM password policy requires upper case, lower case, numbers and symbols", severity="medium",
       services=("iam",), scope="account", resource_type="AWS::IAM::AccountPasswordPolicy",
       fix="iam.set_password_policy", fix_params=policy_fix)  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """PASS when all four character classes are required; no policy is FAIL."""

    def judge(policy: dict[str, Any]) -> Result:
        missing = [r for r in REQUIRED if policy.get(r) is not True]
        return ctx.verdict(not missing, ctx.account_arn, "passwords need every character class",
                           f"passwords need not have: {', '.join(missing)}",
                           required={r: bool(policy.get(r)) for r in REQUIRED})  # fmt: skip

    yield from judge_password_policy(ctx, judge)
