"""CIS 2.16: running EC2 instances reach AWS through an instance profile (a role), not stored keys."""

from __future__ import annotations

from collections.abc import Iterator

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._ec2 import arn, instances


@check(title="Running EC2 instances have an IAM instance profile", severity="medium", services=("ec2",),
       scope="region", resource_type="AWS::EC2::Instance")  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """Each running instance (``DescribeInstances``) without ``IamInstanceProfile`` is FAIL."""
    for inst in instances(ctx):
        profile = (inst.get("IamInstanceProfile") or {}).get("Arn")
        yield ctx.verdict(bool(profile), arn(ctx, "instance", inst["InstanceId"]), "the instance has a profile",
                          "the instance has no instance profile", instance_profile=profile)  # fmt: skip
