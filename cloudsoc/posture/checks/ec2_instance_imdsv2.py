"""CIS 6.7: the EC2 instance metadata service accepts only IMDSv2 (session tokens)."""

from __future__ import annotations

from collections.abc import Iterator

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._ec2 import arn, ident, instances

LIVE = ("pending", "running", "stopping", "stopped")


@check(title="EC2 instances require IMDSv2", severity="high", services=("ec2",), scope="region",
       resource_type="AWS::EC2::Instance", fix="ec2.require_imdsv2",
       fix_params=lambda r: {"account_id": r.account, "region": r.region, "instance_id": ident(r.resource)})  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """An instance pending, running, stopping or stopped (not shutting down or terminated) passes when
    its ``MetadataOptions`` require tokens (``HttpTokens`` "required") or turn the endpoint off
    (``HttpEndpoint`` "disabled")."""
    for inst in instances(ctx, LIVE):
        opts = inst.get("MetadataOptions", {})
        ok = opts.get("HttpTokens") == "required" or opts.get("HttpEndpoint") == "disabled"
        yield ctx.verdict(ok, arn(ctx, "instance", inst["InstanceId"]), "the metadata service needs IMDSv2 tokens",
                          "the metadata service answers IMDSv1 requests", HttpTokens=opts.get("HttpTokens"),
                          HttpEndpoint=opts.get("HttpEndpoint"))  # fmt: skip
