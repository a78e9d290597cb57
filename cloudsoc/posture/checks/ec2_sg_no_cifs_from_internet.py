"""CIS 6.1.2: no security group admits the internet to file sharing ports (SMB 445, NetBIOS 139)."""

from __future__ import annotations

from collections.abc import Iterator

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._ec2 import CIFS_PORTS, group_arn, ident, open_ports, security_groups


@check(title="No security group allows ingress from the internet to CIFS ports 445 or 139", severity="high",
       services=("ec2",), scope="region", resource_type="AWS::EC2::SecurityGroup", fix="ec2.revoke_open_ingress",
       fix_params=lambda r: {"account_id": r.account, "region": r.region, "group_id": ident(r.resource),
                             "ports": list(CIFS_PORTS)})  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """A group with an ingress permission from 0.0.0.0/0 or ::/0 whose protocol and port range take
    in 445 or 139 is FAIL."""
    for group in security_groups(ctx):
        found = [
            *open_ports(group.get("IpPermissions", []), CIFS_PORTS, "ipv4"),
            *open_ports(group.get("IpPermissions", []), CIFS_PORTS, "ipv6"),
        ]
        yield ctx.verdict(not found, group_arn(ctx, group), "no CIFS port is open to the internet",
                          "CIFS ports are open to the internet", group_name=group.get("GroupName"),
                          open_ingress=found)  # fmt: skip
