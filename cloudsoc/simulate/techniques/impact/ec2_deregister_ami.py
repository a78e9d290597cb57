"""Deregister an EBS-backed AMI."""

from __future__ import annotations

from botocore.exceptions import ClientError

from cloudsoc.aws.api import error_code
from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, Technique, technique


@technique
class Ec2DeregisterAmi(Technique):
    title = "Deregister an Amazon EC2 AMI"
    attack = ("T1485",)
    expects = ("ec2_ami_deregistered",)
    description = (
        "Lists the account's own AMIs and deregisters one, so instances can no longer be launched from it: "
        "recovery, auto scaling and deployments that depend on the image break."
    )

    def warmup(self, ctx: Ctx) -> Json:
        ec2 = client("ec2", session=ctx.admin())
        volume = ec2.create_volume(AvailabilityZone=ctx.res["az"], Size=8)["VolumeId"]
        snapshot = ec2.create_snapshot(VolumeId=volume, Description="web root volume")["SnapshotId"]
        image = ec2.register_image(Name=f"{ctx.account}-web-base-{ctx.run_id[:8]}", RootDeviceName="/dev/xvda",
                                   VirtualizationType="hvm", Architecture="x86_64",
                                   BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snapshot}}])  # fmt: skip
        return {"image": image["ImageId"], "snapshot": snapshot, "volume": volume}

    def detonate(self, ctx: Ctx, state: Json) -> None:
        ec2 = client("ec2", session=ctx.attacker())
        ec2.describe_images(Owners=["self"])
        ec2.deregister_image(ImageId=state["image"])

    def revert(self, ctx: Ctx, state: Json) -> None:
        ec2 = client("ec2", session=ctx.admin())
        for call, arg in ((ec2.deregister_image, {"ImageId": state["image"]}),
                          (ec2.delete_snapshot, {"SnapshotId": state["snapshot"]}),
                          (ec2.delete_volume, {"VolumeId": state["volume"]})):  # fmt: skip
            try:
                call(**arg)
            except ClientError as exc:  # not found or unavailable: already gone
                if not error_code(exc).startswith(("InvalidAMIID.", "InvalidSnapshot.", "InvalidVolume.")):
                    raise
