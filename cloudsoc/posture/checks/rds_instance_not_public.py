"""RDS instances are not reachable from the internet."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._rds import arn, each_instance, instance_id


def _fix(result: Result) -> dict[str, Any]:
    return {"account_id": result.account, "region": result.region, "db_instance_id": instance_id(result)}


@check(title="RDS instances are not publicly accessible", severity="critical", services=("rds",),
       resource_type="AWS::RDS::DBInstance", fix="rds.disable_public_access", fix_params=_fix)  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """The instance's ``PubliclyAccessible`` is false (true gives its endpoint a public address; only
    its security groups then stand between it and the internet)."""

    def judge(db: dict[str, Any]) -> Result:
        public = bool(db.get("PubliclyAccessible"))
        return ctx.verdict(not public, arn(db), "not publicly accessible", "publicly accessible",
                           PubliclyAccessible=public, Endpoint=(db.get("Endpoint") or {}).get("Address"))  # fmt: skip

    yield from each_instance(ctx, judge)
