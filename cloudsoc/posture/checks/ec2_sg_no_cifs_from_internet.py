"""CIS 6.1.2: no security group admits the internet to file sharing ports (SMB 445, NetBIOS 139)."""

from __future__ import annotations

from collections.abc import Iterator

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._ec2 import CIFS_PORTS, open_groups, revoke_fix


@check(title="No security group allows ingress from the internet to CIFS ports 445 or 139", severity="high",
       services=("ec2",), scope="region", resource_type="AWS::EC2::SecurityGroup", fix="ec2.revoke_open_ingress",
       fix_params=revoke_fix(CIFS_PORTS))  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """A group with an ingress permission from 0.0.0.0/0 or ::/0 whose protocol and port range take
    in 445 or 139 is FAIL."""
    yield from open_groups(ctx, CIFS_PORTS, ("ipv4", "ipv6"), "CIFS", "the internet")
