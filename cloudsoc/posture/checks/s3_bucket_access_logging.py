"""Every bucket logs the requests made to it (server access logging)."""

from __future__ import annotations

from collections.abc import Iterator

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._s3 import arn, buckets


@check(title="S3 buckets have server access logging enabled", severity="low", services=("s3",),
       scope="account", resource_type="AWS::S3::Bucket")  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """The bucket's logging configuration names a target bucket (``LoggingEnabled.TargetBucket``)."""

    def judge(bucket: str) -> Result:
        enabled = (ctx.get("s3", "GetBucketLogging", bucket) or {}).get("LoggingEnabled") or {}
        target = enabled.get("TargetBucket")
        return ctx.verdict(bool(target), arn(bucket), f"access logs go to {target}",
                           "server access logging is off", target_bucket=target,
                           target_prefix=enabled.get("TargetPrefix"))  # fmt: skip

    yield from ctx.each(buckets(ctx), arn, judge)
