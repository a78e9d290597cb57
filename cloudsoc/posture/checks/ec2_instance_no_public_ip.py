"""Running EC2 instances have no public IP address."""

from __future__ import annotations

from collections.abc import Iterator

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._ec2 import arn, instances


@check(title="Running EC2 instances have no public IP address", severity="medium", services=("ec2",),
       scope="region", resource_type="AWS::EC2::Instance")  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """Each running instance with a ``PublicIpAddress`` is FAIL (reach it through a load balancer or a
    session manager instead)."""
    for inst in instances(ctx):
        ip = inst.get("PublicIpAddress")
        yield ctx.verdict(not ip, arn(ctx, "instance", inst["InstanceId"]), "the instance has no public IP",
                          f"the instance has the public IP {ip}", PublicIpAddress=ip)  # fmt: skip
