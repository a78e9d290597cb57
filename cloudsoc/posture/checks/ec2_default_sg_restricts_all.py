"""CIS 6.5: the default security group of every VPC restricts all traffic."""

from __future__ import annotations

from collections.abc import Iterator

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._ec2 import group_arn, ident, security_groups


@check(title="The default security group of every VPC has no rules", severity="medium", services=("ec2",),
       scope="region", resource_type="AWS::EC2::SecurityGroup", fix="ec2.restrict_default_security_group",
       fix_params=lambda r: {"account_id": r.account, "region": r.region, "group_id": ident(r.resource)})  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """A security group named ``default`` with any ingress or egress permission is FAIL (resources get
    it when launched without a group, and should then be cut off, not open)."""
    for group in security_groups(ctx):
        if group.get("GroupName") != "default":
            continue
        ingress, egress = group.get("IpPermissions", []), group.get("IpPermissionsEgress", [])
        yield ctx.verdict(not ingress and not egress, group_arn(ctx, group), "the default group has no rules",
                          f"the default group has {len(ingress)} ingress and {len(egress)} egress rule(s)",
                          vpc=group.get("VpcId"), ingress=ingress, egress=egress)  # fmt: skip
