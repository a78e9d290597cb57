"""CIS 2.1.2: MFA Delete is enabled on buckets."""

from __future__ import annotations

from collections.abc import Iterator

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._s3 import arn, buckets


@check(title="S3 buckets have MFA Delete enabled", severity="low", services=("s3",), scope="account",
       resource_type="AWS::S3::Bucket")  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """The bucket's versioning configuration says ``MFADelete: Enabled`` (only the root user can turn it
    on, with its MFA device: there is no automatic fix)."""

    def judge(bucket: str) -> Result:
        versioning = ctx.get("s3", "GetBucketVersioning", bucket) or {}
        mfa = versioning.get("MFADelete")
        return ctx.verdict(mfa == "Enabled", arn(bucket), "MFA Delete is enabled", "MFA Delete is not enabled",
                           MFADelete=mfa, Status=versioning.get("Status"))  # fmt: skip

    yield from ctx.each(buckets(ctx), arn, judge)
