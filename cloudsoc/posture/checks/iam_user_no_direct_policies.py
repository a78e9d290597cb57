"""CIS 2.13: IAM users receive permissions only through groups (or roles), never directly."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._iam import user_arn, users


@check(title="IAM users have no policies attached directly", severity="low", services=("iam",),
       scope="account", resource_type="AWS::IAM::User")  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """A user with a managed policy attached (``ListAttachedUserPolicies``) or an inline policy
    (``ListUserPolicies``) is FAIL."""

    def judge(user: dict[str, Any]) -> Result:
        name = user["UserName"]
        attached = [
            p["PolicyArn"] for p in ctx.get("iam", "ListAttachedUserPolicies", name)["AttachedPolicies"]
        ]
        inline = list(ctx.get("iam", "ListUserPolicies", name)["PolicyNames"])
        return ctx.verdict(not attached and not inline, user_arn(user), f"{name} has no direct policy",
                           f"{name} has policies of its own", attached=attached, inline=inline)  # fmt: skip

    yield from ctx.each(users(ctx), user_arn, judge)
