"""EC2 fixtures shared by the techniques that go after instances: refusals as EC2 writes them, ids
tried blindly, and a role that lacks the permission the intruder needs."""

from __future__ import annotations

import json
import secrets
import time
from typing import ClassVar

import boto3
from botocore import xform_name

from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, Technique

# A Linux SDK client on an Amazon Linux 2023 instance, as the instance's own software sends it.
INSTANCE_SDK_AGENT = ("Boto3/1.35.68 md/Botocore#1.35.68 ua/2.0 os/linux#6.1.115-126.197.amzn2023.x86_64 "
                      "md/arch#x86_64 lang/python#3.9.20 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.68")  # fmt: skip


def instance_ids(session: boto3.Session) -> list[str]:
    """Every instance the session can list in its region."""
    pages = client("ec2", session=session).get_paginator("describe_instances").paginate()
    return [i["InstanceId"] for page in pages for r in page["Reservations"] for i in r["Instances"]]


def guessed_instance_ids(count: int) -> list[str]:
    """Instance ids tried blindly (harvested from other accounts, scripts or screenshots)."""
    return [f"i-0{secrets.token_hex(8)}" for _ in range(count)]


def ec2_denied(ctx: Ctx, session: boto3.Session, operation: str, params: Json) -> None:
    """An EC2 call refused for lack of permission: EC2 writes ``Client.UnauthorizedOperation`` and an
    encoded authorization message, not the ``AccessDenied`` of IAM-style services."""
    arn = ctx.recorder.identity_of(session).get("arn", "")
    msg = (f"You are not authorized to perform this operation. User: {arn} is not authorized to perform: "
           f"ec2:{operation} on resource: arn:aws:ec2:{ctx.region}:{ctx.account_id}:instance/* because no "
           f"identity-based policy allows the ec2:{operation} action. Encoded authorization failure message: "
           f"{secrets.token_urlsafe(180)}")  # fmt: skip
    ctx.synthetic(session, "ec2", operation, params, error=("Client.UnauthorizedOperation", msg))


def sdk_session_name() -> str:
    """The name boto3 and the aws-cli give a role session when the profile names none."""
    return f"botocore-session-{int(time.time())}"


def create_limited_role(ctx: Ctx, role: str, actions: list[str]) -> None:
    """A role anyone in the account may assume, allowed ``actions`` and nothing else."""
    iam = client("iam", session=ctx.admin())
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
             "Principal": {"AWS": f"arn:aws:iam::{ctx.account_id}:root"}}]}  # fmt: skip
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName=role, PolicyName="inventory", PolicyDocument=json.dumps(policy))


def delete_limited_role(ctx: Ctx, role: str) -> None:
    """Delete a role made by ``create_limited_role``, tolerating what is already gone."""
    iam = client("iam", session=ctx.admin())
    try:
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
            iam.delete_role_policy(RoleName=role, PolicyName=name)
        iam.delete_role(RoleName=role)
    except iam.exceptions.NoSuchEntityException:
        pass  # already gone


class InstanceSpray(Technique):
    """Call ``operation`` on every instance with the stolen key, then assume a role that may only list
    instances and spray the call over the known and many guessed instance ids: EC2 refuses each one."""

    role: ClassVar[str]  # the limited role made in warm-up
    guesses: ClassVar[int]  # guessed instance ids sprayed beside the real ones
    operation: ClassVar[str]  # the EC2 call, e.g. "GetPasswordData"
    extra: ClassVar[Json] = {}  # parameters beside InstanceId

    def warmup(self, ctx: Ctx) -> Json:
        create_limited_role(ctx, self.role, ["ec2:DescribeInstances"])
        return {"role": self.role}

    def detonate(self, ctx: Ctx, state: Json) -> None:
        attacker = ctx.attacker()
        call = getattr(client("ec2", session=attacker), xform_name(self.operation))
        for instance in instance_ids(attacker):
            call(InstanceId=instance, **self.extra)
        role = ctx.assume(attacker, state["role"], sdk_session_name())
        for instance in instance_ids(role) + guessed_instance_ids(self.guesses):
            ec2_denied(ctx, role, self.operation, {"InstanceId": instance, **self.extra})

    def revert(self, ctx: Ctx, state: Json) -> None:
        delete_limited_role(ctx, state["role"])
