"""CIS 2.8: the account password policy requires 14 characters or more."""

from __future__ import annotations

from collections.abc import Iterator

from cloudsoc.posture.check import CheckContext, Result, check

MIN_LENGTH = 14


@check(title="IAM password policy requires a minimum length of 14 or more", severity="medium",
       services=("iam",), scope="account", resource_type="AWS::IAM::AccountPasswordPolicy",
       fix="iam.set_password_policy",
       fix_params=lambda r: {"account_id": r.account})  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    answer = ctx.get("iam", "GetAccountPasswordPolicy")
    if answer is None:
        yield ctx.failed(ctx.account_arn, "the account has no password policy", policy=None)
        return
    length = int(answer["PasswordPolicy"].get("MinimumPasswordLength", 0))
    yield ctx.verdict(length >= MIN_LENGTH, ctx.account_arn, f"minimum password length is {length}",
                      f"minimum password length is {length}, below {MIN_LENGTH}", minimum_length=length)  # fmt: skip
