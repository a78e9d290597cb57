"""CIS AWS Foundations 6.0 4.5: CloudTrail logs are encrypted at rest with KMS keys."""

from __future__ import annotations

from collections.abc import Iterator

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks import _trails


@check(title="CloudTrail logs are encrypted with a KMS key", severity="medium", services=("cloudtrail",),
       scope="account", resource_type="AWS::CloudTrail::Trail")  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """Each trail that logs the account (its own, and organization trails of the management account)
    names a KMS key (``KmsKeyId`` in DescribeTrails): its log files are encrypted with SSE-KMS."""
    for trail in _trails.trails(ctx):
        key = trail.info.get("KmsKeyId")
        yield ctx.verdict(bool(key), trail.arn, f"trail {trail.name} encrypts its logs with {key}",
                          f"trail {trail.name} does not encrypt its logs with a KMS key", region=trail.home,
                          KmsKeyId=key, **trail.where())  # fmt: skip
