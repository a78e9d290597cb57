"""Open SSH (22/tcp) to the whole internet on a security group."""

from __future__ import annotations

from botocore.exceptions import ClientError

from cloudsoc.aws.api import error_code
from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, Technique, technique

OPEN_SSH = {"CidrIp": "0.0.0.0/0", "FromPort": 22, "ToPort": 22, "IpProtocol": "tcp"}


@technique
class Ec2SecurityGroupOpenPort22Ingress(Technique):
    title = "Open ingress port 22 on a security group"
    attack = ("T1562.007",)
    expects = ("ec2_security_group_admin_port_open_to_internet",)
    description = "Calls AuthorizeSecurityGroupIngress to allow SSH from 0.0.0.0/0 on a security group."

    def warmup(self, ctx: Ctx) -> Json:
        ec2 = client("ec2", session=ctx.admin())
        group = ec2.create_security_group(
            GroupName=f"{ctx.account}-reporting", Description="reporting hosts", VpcId=ctx.res["vpc"]
        )["GroupId"]
        return {"group": group}

    def detonate(self, ctx: Ctx, state: Json) -> None:
        # The short form (one CIDR, one port range) that SDK callers use, not an IpPermissions list.
        client("ec2", session=ctx.attacker()).authorize_security_group_ingress(
            GroupId=state["group"], **OPEN_SSH
        )

    def revert(self, ctx: Ctx, state: Json) -> None:
        try:
            client("ec2", session=ctx.admin()).delete_security_group(GroupId=state["group"])
        except ClientError as exc:
            if "NotFound" not in error_code(exc):
                raise
