"""CIS 2.5: the root user has MFA."""

from __future__ import annotations

from collections.abc import Iterator

from cloudsoc.posture.check import CheckContext, Result, check


@check(title="MFA is enabled for the root user", severity="critical", services=("iam",), scope="account",
       resource_type="AWS::IAM::User")  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """IAM's account summary counts an MFA device on the root user (``AccountMFAEnabled``)."""
    summary = ctx.get("iam", "GetAccountSummary")["SummaryMap"]
    enabled = summary.get("AccountMFAEnabled") == 1
    yield ctx.verdict(enabled, ctx.account_arn, "the root user has MFA", "the root user has no MFA",
                      AccountMFAEnabled=summary.get("AccountMFAEnabled"))  # fmt: skip
