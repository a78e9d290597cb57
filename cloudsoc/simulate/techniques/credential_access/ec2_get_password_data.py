"""Retrieve the Windows administrator password data of many EC2 instances."""

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

ROLE = "ec2-fleet-inventory"  # may list instances, not read their password data
GUESSES = 27


@technique
class Ec2GetPasswordData(Technique):
    title = "Retrieve EC2 password data"
    attack = ("T1552",)
    expects = ("ec2_password_data_many_instances",)
    description = (
        "Reads the password data of every instance with the stolen key, then assumes an inventory role "
        "and sprays GetPasswordData over the known and many guessed instance ids; the role may not call "
        "it, so EC2 refuses each one."
    )
    synthetic = ("ec2:GetPasswordData",)  # the refused calls: the sandbox does not enforce IAM

    def warmup(self, ctx: Ctx) -> Json:
        create_limited_role(ctx, ROLE, ["ec2:DescribeInstances"])
        return {"role": ROLE}

    def detonate(self, ctx: Ctx, state: Json) -> None:
        attacker = ctx.attacker()
        ec2 = client("ec2", session=attacker)
        for instance in instance_ids(attacker):
            ec2.get_password_data(InstanceId=instance)
        role = ctx.assume(attacker, state["role"], sdk_session_name())
        for instance in instance_ids(role) + guessed_instance_ids(GUESSES):
            ec2_denied(ctx, role, "GetPasswordData", {"InstanceId": instance})

    def revert(self, ctx: Ctx, state: Json) -> None:
        delete_limited_role(ctx, state["role"])
