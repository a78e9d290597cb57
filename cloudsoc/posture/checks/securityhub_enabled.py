"""CIS AWS Foundations 6.0 5.16: AWS Security Hub is enabled (in every region)."""

from __future__ import annotations

from collections.abc import Iterator

from cloudsoc.posture.check import CheckContext, Result, check


@check(title="AWS Security Hub is enabled", severity="medium", services=("securityhub",), scope="region",
       resource_type="AWS::SecurityHub::Hub", fix="securityhub.enable_hub",
       fix_params=lambda r: {"account_id": r.account, "region": r.region})  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """DescribeHub answers with the region's hub (PASS) or that Security Hub is not enabled there
    (``InvalidAccessException``: FAIL). One result per region, on the account."""
    hub = ctx.get("securityhub", "DescribeHub")
    arn = (hub or {}).get("HubArn")
    yield ctx.verdict(hub is not None, ctx.account_arn, f"Security Hub is enabled in {ctx.region}",
                      f"Security Hub is not enabled in {ctx.region}", HubArn=arn,
                      SubscribedAt=(hub or {}).get("SubscribedAt"))  # fmt: skip
