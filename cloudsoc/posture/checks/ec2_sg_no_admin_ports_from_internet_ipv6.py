"""CIS 6.4: no security group admits ::/0 to remote administration ports (SSH 22, RDP 3389)."""

from __future__ import annotations

from collections.abc import Iterator

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._ec2 import ADMIN_PORTS, open_groups, revoke_fix


@check(title="No security group allows ingress from ::/0 to port 22 or 3389", severity="high",
       services=("ec2",), scope="region", resource_type="AWS::EC2::SecurityGroup", fix="ec2.revoke_open_ingress",
       fix_params=revoke_fix(ADMIN_PORTS))  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """A group with an ingress permission from ::/0 whose protocol and port range take in 22 or 3389
    (all protocols, "-1", takes in every port) is FAIL."""
    yield from open_groups(ctx, ADMIN_PORTS, ("ipv6",), "administration", "::/0")
