"""CIS 2.9: the password policy prevents reusing any of the last 24 passwords."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._iam import judge_password_policy, policy_fix

REMEMBERED = 24


@check(title="IAM password policy prevents password reuse (24 remembered)", severity="medium",
       services=("iam",), scope="account", resource_type="AWS::IAM::AccountPasswordPolicy",
       fix="iam.set_password_policy", fix_params=policy_fix)  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """PASS when ``PasswordReusePrevention`` is 24 or more; no policy, or no such setting, is FAIL."""

    def judge(policy: dict[str, Any]) -> Result:
        reuse = int(policy.get("PasswordReusePrevention", 0))
        return ctx.verdict(reuse >= REMEMBERED, ctx.account_arn, f"the last {reuse} passwords cannot be reused",
                           f"only the last {reuse} passwords cannot be reused, fewer than {REMEMBERED}",
                           PasswordReusePrevention=reuse)  # fmt: skip

    yield from judge_password_policy(ctx, judge)
