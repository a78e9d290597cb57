"""CIS 6.2: no network ACL admits the internet to remote administration ports (SSH 22, RDP 3389)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._ec2 import ADMIN_PORTS, ANYWHERE, arn

_PROTOCOLS = {"-1", "6"}  # every protocol, TCP


def _matches(entry: dict[str, Any], source: str, port: int) -> bool:
    if entry.get("Egress") or str(entry.get("Protocol")) not in _PROTOCOLS:
        return False
    if (entry.get("CidrBlock") or entry.get("Ipv6CidrBlock")) != source:
        return False
    span = entry.get("PortRange")
    return (
        str(entry.get("Protocol")) == "-1" or not span or span.get("From", 0) <= port <= span.get("To", 65535)
    )


def open_to_internet(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """For each source (0.0.0.0/0, ::/0) and port, the rule deciding traffic from all of it when that
    rule allows: rules are read in rule-number order and the first that matches decides, so a deny
    for the whole internet placed before an allow closes the port. Rules for narrower ranges never
    decide for the whole internet and are passed over."""
    found = []
    ordered = sorted(entries, key=lambda e: int(e.get("RuleNumber", 32767)))
    for source in ANYWHERE.values():
        for port in ADMIN_PORTS:
            rule = next((e for e in ordered if _matches(e, source, port)), None)
            if rule and rule.get("RuleAction") == "allow":
                found.append({"source": source, "port": port, "rule_number": rule.get("RuleNumber"),
                              "protocol": rule.get("Protocol"), "port_range": rule.get("PortRange")})  # fmt: skip
    return found


@check(title="No network ACL allows ingress from the internet to port 22 or 3389", severity="medium",
       services=("ec2",), scope="region", resource_type="AWS::EC2::NetworkAcl")  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """A network ACL whose ingress rules allow 0.0.0.0/0 or ::/0 to port 22 or 3389 (protocol all or
    TCP with a covering port range, the first matching rule by number deciding) is FAIL."""
    for acl in ctx.get("ec2", "DescribeNetworkAcls")["NetworkAcls"]:
        found = open_to_internet(acl.get("Entries", []))
        yield ctx.verdict(not found, arn(ctx, "network-acl", acl["NetworkAclId"]),
                          "no administration port is open to the internet",
                          "administration ports are open to the internet", vpc=acl.get("VpcId"),
                          is_default=acl.get("IsDefault"), open_ingress=found)  # fmt: skip
