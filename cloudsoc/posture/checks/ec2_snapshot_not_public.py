"""The account's EBS snapshots are not public."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._ec2 import arn, shared_accounts, unshare_params


@check(title="EBS snapshots are not shared publicly", severity="critical", services=("ec2",), scope="region",
       resource_type="AWS::EC2::Snapshot", fix="ec2.unshare_snapshot",
       fix_params=lambda r: unshare_params(r, "snapshot_id"))  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """A snapshot the account owns whose ``createVolumePermission`` includes the group ``all`` (anyone
    may create a volume from it) is FAIL."""

    def resource(snap: dict[str, Any]) -> str:
        return arn(ctx, "snapshot", snap["SnapshotId"], owned=False)

    def judge(snap: dict[str, Any]) -> Result:
        perms = ctx.get("ec2", "DescribeSnapshotAttribute", snap["SnapshotId"])["CreateVolumePermissions"]
        public = any(p.get("Group") == "all" for p in perms)
        return ctx.verdict(not public, resource(snap), "the snapshot is not public",
                           "anyone may create a volume from the snapshot", create_volume_permissions=perms,
                           shared_with_accounts=shared_accounts(perms))  # fmt: skip

    yield from ctx.each(ctx.get("ec2", "DescribeSnapshots")["Snapshots"], resource, judge)
