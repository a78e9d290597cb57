"""CIS 2.4: the root user has no access keys."""

from __future__ import annotations

from collections.abc import Iterator

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._iam import root_row, summary


@check(title="No root user access key exists", severity="critical", services=("iam",), scope="account",
       resource_type="AWS::IAM::User")  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """FAIL when IAM's account summary counts root access keys (``AccountAccessKeysPresent``) or the
    credential report's root row, where the report has one, shows an active key."""
    present = summary(ctx).get("AccountAccessKeysPresent")
    row = root_row(ctx, optional=True) or {}
    active = [n for n in ("1", "2") if row.get(f"access_key_{n}_active") == "true"]
    yield ctx.verdict(present != 1 and not active, ctx.account_arn, "the root user has no access key",
                      "the root user has an access key", AccountAccessKeysPresent=present,
                      report_active_keys=active if row else None)  # fmt: skip
