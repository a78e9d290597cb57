"""Attempt to leave the AWS organization from a member account."""

from __future__ import annotations

import contextlib
import json

from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, Technique, technique

ROLE = "org-maintenance"


@technique
class OrganizationsLeave(Technique):
    title = "Attempt to leave the AWS organization"
    attack = ("T1666",)
    expects = ("organizations_leave_attempt",)
    description = (
        "From a role in the member account, calls LeaveOrganization to escape the organization's SCPs, "
        "trail and delegated security services. The role lacks the permission: the call is denied."
    )
    synthetic = ("organizations:LeaveOrganization",)

    def warmup(self, ctx: Ctx) -> Json:
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                 "Principal": {"AWS": f"arn:aws:iam::{ctx.account_id}:root"}}]}  # fmt: skip
        iam = client("iam", session=ctx.admin())
        iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust))
        return {"role": ROLE}

    def detonate(self, ctx: Ctx, state: Json) -> None:
        role = ctx.assume(ctx.attacker(), state["role"], "leave-org")
        # Never made for real: leaving would take the account out of the sandbox organization.
        arn = ctx.recorder.identity_of(role)["arn"]
        message = (f"You don't have permissions to access this resource. User: {arn} is not authorized to perform: "
                   "organizations:LeaveOrganization because no identity-based policy allows it")  # fmt: skip
        ctx.synthetic(
            role, "organizations", "LeaveOrganization", {}, error=("AccessDeniedException", message)
        )

    def revert(self, ctx: Ctx, state: Json) -> None:
        iam = client("iam", session=ctx.admin())
        with contextlib.suppress(iam.exceptions.NoSuchEntityException):  # already gone
            iam.delete_role(RoleName=state["role"])
