"""Download the user data of many EC2 instances, looking for secrets in launch scripts."""

from __future__ import annotations

from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, Technique, technique
from cloudsoc.simulate.techniques.credential_access._ec2 import (
    create_limited_role,
    delete_limited_role,
    ec2_denied,
    guessed_instance_ids,
    instance_ids,
    sdk_session_name,
)

ROLE = "ec2-asset-reporting"  # may list instances, not read their attributes
GUESSES = 12


@technique
class Ec2DownloadUserData(Technique):
    title = "Download EC2 instance user data"
    attack = ("T1580", "T1552")
    expects = ("ec2_user_data_many_instances",)
    description = (
        "Reads the user data of every instance with the stolen key, then assumes a reporting role and "
        "asks for the user data of the known and many guessed instance ids; the role may not, so EC2 "
        "refuses each one."
    )
    synthetic = ("ec2:DescribeInstanceAttribute",)  # the refused calls: the sandbox does not enforce IAM

    def warmup(self, ctx: Ctx) -> Json:
        create_limited_role(ctx, ROLE, ["ec2:DescribeInstances"])
        return {"role": ROLE}

    def detonate(self, ctx: Ctx, state: Json) -> None:
        attacker = ctx.attacker()
        ec2 = client("ec2", session=attacker)
        for instance in instance_ids(attacker):
            ec2.describe_instance_attribute(InstanceId=instance, Attribute="userData")
        role = ctx.assume(attacker, state["role"], sdk_session_name())
        for instance in instance_ids(role) + guessed_instance_ids(GUESSES):
            ec2_denied(
                ctx, role, "DescribeInstanceAttribute", {"InstanceId": instance, "Attribute": "userData"}
            )

    def revert(self, ctx: Ctx, state: Json) -> None:
        delete_limited_role(ctx, state["role"])
