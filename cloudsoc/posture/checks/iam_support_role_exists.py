"""CIS 2.15: a role exists for managing incidents with AWS Support."""

from __future__ import annotations

from collections.abc import Iterator

from cloudsoc.posture.check import CheckContext, Result, check

SUPPORT_POLICY = "arn:aws:iam::aws:policy/AWSSupportAccess"


@check(title="A support role is attached to AWSSupportAccess", severity="low", services=("iam",),
       scope="account", resource_type="AWS::IAM::Role")  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """PASS when ``ListEntitiesForPolicy`` of AWSSupportAccess names at least one role; users or groups
    holding it do not count (CIS asks for a role)."""
    entities = ctx.get("iam", "ListEntitiesForPolicy", SUPPORT_POLICY) or {}
    roles = [r["RoleName"] for r in entities.get("PolicyRoles", [])]
    yield ctx.verdict(bool(roles), ctx.account_arn, f"AWSSupportAccess is attached to {', '.join(roles)}",
                      "no role has AWSSupportAccess", roles=roles)  # fmt: skip
