"""EC2 and VPC in one region: security groups, network ACLs, EBS default encryption, volumes, the
account's own snapshots and images with who may use them, instances, VPCs and their flow logs."""

from __future__ import annotations

from typing import Any

from cloudsoc.posture.collector import CollectContext, collector, names


@collector("ec2", scope="region")
def collect(c: CollectContext) -> None:
    c.pages("DescribeSecurityGroups")
    c.pages("DescribeNetworkAcls")
    c.call("GetEbsEncryptionByDefault")
    c.pages("DescribeVolumes")
    c.pages("DescribeInstances")
    c.pages("DescribeVpcs")
    c.pages("DescribeFlowLogs")
    _snapshots(c)
    _images(c)


def _snapshots(c: CollectContext) -> None:
    """Who may create volumes from each of the account's snapshots (``{"Group": "all"}``: anyone)."""
    # The owner-id filter, not OwnerIds=self: the same in AWS, but the sandbox reads every public
    # snapshot of the region for the latter (half a second a call).
    owner = [{"Name": "owner-id", "Values": [c.account]}]
    listing = c.pages("DescribeSnapshots", Filters=owner, transform=lambda a: _owned(c, a, "Snapshots"))
    for snap in names(listing and listing.get("Snapshots"), "SnapshotId"):
        if c.wanted(snap):
            c.call("DescribeSnapshotAttribute", snap, SnapshotId=snap, Attribute="createVolumePermission")


def _images(c: CollectContext) -> None:
    """Who may launch each of the account's images."""
    listing = c.pages("DescribeImages", Owners=["self"], transform=lambda a: _owned(c, a, "Images"))
    for image in names(listing and listing.get("Images"), "ImageId"):
        if c.wanted(image):
            c.call("DescribeImageAttribute", image, ImageId=image, Attribute="launchPermission")


def _owned(c: CollectContext, answer: dict[str, Any], field: str) -> dict[str, Any]:
    """Only what the account owns: a filter on owner that some endpoints (the sandbox) ignore would
    otherwise cost a call per public snapshot of the region."""
    items = [i for i in answer.get(field, []) if i.get("OwnerId") in (None, c.account)]
    return answer | {field: items}
