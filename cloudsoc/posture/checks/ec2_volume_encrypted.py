"""EBS volumes are encrypted."""

from __future__ import annotations

from collections.abc import Iterator

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._ec2 import arn


@check(title="EBS volumes are encrypted", severity="medium", services=("ec2",), scope="region",
       resource_type="AWS::EC2::Volume")  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """Each volume (``DescribeVolumes``) with ``Encrypted`` false is FAIL."""
    for vol in ctx.get("ec2", "DescribeVolumes")["Volumes"]:
        attached = [a.get("InstanceId") for a in vol.get("Attachments", [])]
        yield ctx.verdict(vol.get("Encrypted") is True, arn(ctx, "volume", vol["VolumeId"]), "the volume is encrypted",
                          "the volume is not encrypted", Encrypted=vol.get("Encrypted"), KmsKeyId=vol.get("KmsKeyId"),
                          attached_to=attached)  # fmt: skip
