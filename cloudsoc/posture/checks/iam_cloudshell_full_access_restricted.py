"""CIS 2.20: access to AWSCloudShellFullAccess is restricted (no one holds it)."""

from __future__ import annotations

from collections.abc import Iterator

from cloudsoc.posture.check import CheckContext, Result, check

SHELL_POLICY = "arn:aws:iam::aws:policy/AWSCloudShellFullAccess"
_KINDS = (("PolicyUsers", "UserName", "user"), ("PolicyGroups", "GroupName", "group"),
          ("PolicyRoles", "RoleName", "role"))  # fmt: skip


@check(title="AWSCloudShellFullAccess is attached to no user, group or role", severity="medium",
       services=("iam",), scope="account", resource_type="AWS::IAM::Policy")  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """Each user, group or role that ``ListEntitiesForPolicy`` finds holding AWSCloudShellFullAccess
    (file upload and download to a shell: a way out for data) is FAIL; none at all is one PASS."""
    entities = ctx.get("iam", "ListEntitiesForPolicy", SHELL_POLICY) or {}
    holders = [(kind, e[name]) for field, name, kind in _KINDS for e in entities.get(field, [])]
    for kind, name in holders:
        yield ctx.failed(f"arn:aws:iam::{ctx.account}:{kind}/{name}", f"{kind} {name} has AWSCloudShellFullAccess",
                         policy=SHELL_POLICY)  # fmt: skip
    if not holders:
        yield ctx.passed(ctx.account_arn, "no one has AWSCloudShellFullAccess", policy=SHELL_POLICY)
