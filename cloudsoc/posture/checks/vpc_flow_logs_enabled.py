"""CIS 4.7: VPC flow logging is enabled in all VPCs."""

from __future__ import annotations

from collections.abc import Iterator

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._ec2 import arn


@check(title="Every VPC has an active flow log", severity="medium", services=("ec2",), scope="region",
       resource_type="AWS::EC2::VPC")  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """A VPC (``DescribeVpcs``) without a flow log on it whose ``FlowLogStatus`` is ``ACTIVE``
    (``DescribeFlowLogs``) is FAIL."""
    logs = ctx.get("ec2", "DescribeFlowLogs")["FlowLogs"]
    for vpc in ctx.get("ec2", "DescribeVpcs")["Vpcs"]:
        vid = vpc["VpcId"]
        active = [
            f["FlowLogId"] for f in logs if f.get("ResourceId") == vid and f.get("FlowLogStatus") == "ACTIVE"
        ]
        yield ctx.verdict(bool(active), arn(ctx, "vpc", vid), "the VPC has an active flow log",
                          "nothing records the VPC's traffic", flow_logs=active, is_default=vpc.get("IsDefault"))  # fmt: skip
