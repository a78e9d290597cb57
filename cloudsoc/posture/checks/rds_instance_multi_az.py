"""RDS instances survive the loss of an Availability Zone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._rds import arn, each_instance


@check(title="RDS instances are deployed in multiple Availability Zones", severity="medium", services=("rds",),
       resource_type="AWS::RDS::DBInstance")  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """The instance's ``MultiAZ`` is true; an instance of a cluster (Aurora) is judged by its cluster's
    ``MultiAZ`` (instances in more than one zone), since its own flag is always false."""

    def judge(db: dict[str, Any]) -> Result:
        cluster = db.get("DBClusterIdentifier")
        if cluster:
            clusters = (ctx.get("rds", "DescribeDBClusters") or {}).get("DBClusters", [])
            multi = any(c.get("MultiAZ") for c in clusters if c.get("DBClusterIdentifier") == cluster)
        else:
            multi = bool(db.get("MultiAZ"))
        where = f"cluster {cluster}" if cluster else "instance"
        return ctx.verdict(multi, arn(db), f"the {where} spans several Availability Zones",
                           f"the {where} is in one Availability Zone", MultiAZ=multi, DBClusterIdentifier=cluster,
                           AvailabilityZone=db.get("AvailabilityZone"))  # fmt: skip

    yield from each_instance(ctx, judge)
