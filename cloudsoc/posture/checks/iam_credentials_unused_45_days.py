"""CIS 2.11: passwords and access keys unused for 45 days or more are disabled."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._iam import ROOT_ROW, age_days, report_rows

UNUSED_DAYS = 45


def _idle_days(ctx: CheckContext, row: dict[str, str], *fields: str) -> int | None:
    """Days since the first of ``fields`` the report has a date for (last use, else when it was set)."""
    return next((d for f in fields if (d := age_days(ctx, row.get(f))) is not None), None)


def _stale(ctx: CheckContext, row: dict[str, str]) -> dict[str, int]:
    """Each enabled credential idle for 45 days or more -> days since its last use (never used: since
    it was set)."""
    idle: dict[str, int | None] = {}
    if row.get("password_enabled") == "true":
        idle["password"] = _idle_days(
            ctx, row, "password_last_used", "password_last_changed", "user_creation_time"
        )
    for n in ("1", "2"):
        if row.get(f"access_key_{n}_active") == "true":
            idle[f"access_key_{n}"] = _idle_days(ctx, row, f"access_key_{n}_last_used_date",
                                                 f"access_key_{n}_last_rotated")  # fmt: skip
    return {cred: days for cred, days in idle.items() if days is not None and days >= UNUSED_DAYS}


@check(title="Credentials unused for 45 days or more are disabled", severity="medium", services=("iam",),
       scope="account", resource_type="AWS::IAM::User")  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """From the credential report: a user whose console password or active access key was last used 45
    days or more before the collection (never used: set that long ago) is FAIL; other users PASS."""

    def judge(row: dict[str, Any]) -> Result:
        stale = _stale(ctx, row)
        return ctx.verdict(not stale, row["arn"], f"{row['user']} has no credential unused for {UNUSED_DAYS} days",
                           f"{row['user']} has credentials unused for {UNUSED_DAYS} days or more: "
                           f"{', '.join(stale)}", unused_days=stale)  # fmt: skip

    rows = [r for r in report_rows(ctx) if r.get("user") != ROOT_ROW]
    yield from ctx.each(rows, lambda r: str(r["arn"]), judge)
