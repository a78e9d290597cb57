"""RDS instances take minor engine upgrades automatically."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._rds import arn, each_instance


@check(title="RDS instances have automatic minor version upgrades enabled", severity="low", services=("rds",),
       resource_type="AWS::RDS::DBInstance")  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """The instance's ``AutoMinorVersionUpgrade`` is true."""

    def judge(db: dict[str, Any]) -> Result:
        on = bool(db.get("AutoMinorVersionUpgrade"))
        return ctx.verdict(on, arn(db), "minor version upgrades are automatic",
                           "minor version upgrades are not automatic", AutoMinorVersionUpgrade=on,
                           EngineVersion=db.get("EngineVersion"))  # fmt: skip

    yield from each_instance(ctx, judge)
