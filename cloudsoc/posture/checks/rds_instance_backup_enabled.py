"""RDS instances keep automated backups."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._rds import arn, each_instance


@check(title="RDS instances have automated backups enabled", severity="medium", services=("rds",),
       resource_type="AWS::RDS::DBInstance")  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """The instance's ``BackupRetentionPeriod`` is above 0 days (0 turns automated backups off)."""

    def judge(db: dict[str, Any]) -> Result:
        days = int(db.get("BackupRetentionPeriod") or 0)
        return ctx.verdict(days > 0, arn(db), f"automated backups are kept {days} days",
                           "automated backups are off", BackupRetentionPeriod=days)  # fmt: skip

    yield from each_instance(ctx, judge)
