"""CIS 2.7: the root user is not used for everyday work."""

from __future__ import annotations

from collections.abc import Iterator

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._iam import age_days, root_row

RECENT_DAYS = 90
_USES = ("password_last_used", "access_key_1_last_used_date", "access_key_2_last_used_date")


@check(title="The root user has not been used in the last 90 days", severity="high", services=("iam",),
       scope="account", resource_type="AWS::IAM::User")  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """FAIL when the credential report's root row shows the root password or an access key used within
    90 days of the collection. Where the report has no root row or no date, the use is unknown: PASS,
    with the evidence saying so. A credential report that was not collected is ERROR."""
    row = root_row(ctx)
    if row is None:
        yield ctx.passed(ctx.account_arn, "no root use recorded (the credential report has no root row)",
                         root_row=False)  # fmt: skip
        return
    ages = {field: age_days(ctx, row.get(field)) for field in _USES}
    recent = {f: days for f, days in ages.items() if days is not None and days < RECENT_DAYS}
    yield ctx.verdict(not recent, ctx.account_arn, f"the root user was not used in the last {RECENT_DAYS} days",
                      f"the root user was used {min(recent.values(), default=0)} days ago",
                      last_used={f: row.get(f) for f in _USES}, recent_days=recent)  # fmt: skip
