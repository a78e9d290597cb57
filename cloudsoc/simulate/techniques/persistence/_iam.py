"""IAM fixtures shared by the IAM persistence and privilege-escalation techniques."""

from __future__ import annotations

import contextlib
import json
import secrets

from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json

OUTSIDE_ACCOUNT = "193672423079"  # the intruder's own AWS account, outside the organization


def trust(*principals: Json) -> str:
    """A role trust policy letting each principal assume the role, as an operator would indent it."""
    statements = [{"Effect": "Allow", "Principal": p, "Action": "sts:AssumeRole"} for p in principals]
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=2)


def password() -> str:
    """A fresh password that satisfies the account password policy."""
    return f"{secrets.token_urlsafe(12)}aA1!"


def delete_user(ctx: Ctx, user: str) -> None:
    """Delete an IAM user with its access keys and console password, tolerating what is already gone."""
    iam = client("iam", session=ctx.admin())
    try:
        for key in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]:
            iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
        with contextlib.suppress(iam.exceptions.NoSuchEntityException):  # no console password
            iam.delete_login_profile(UserName=user)
        iam.delete_user(UserName=user)
    except iam.exceptions.NoSuchEntityException:
        pass  # already gone


def delete_role(ctx: Ctx, role: str) -> None:
    """Delete an IAM role after detaching its managed policies, tolerating what is already gone."""
    iam = client("iam", session=ctx.admin())
    try:
        for policy in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=role, PolicyArn=policy["PolicyArn"])
        iam.delete_role(RoleName=role)
    except iam.exceptions.NoSuchEntityException:
        pass  # already gone
