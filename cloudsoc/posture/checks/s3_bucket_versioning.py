"""Every bucket keeps object versions."""

from __future__ import annotations

from collections.abc import Iterator

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._s3 import arn, buckets, fix_target


@check(title="S3 buckets have versioning enabled", severity="medium", services=("s3",), scope="account",
       resource_type="AWS::S3::Bucket", fix="s3.enable_versioning", fix_params=fix_target)  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """The bucket's versioning status is ``Enabled`` (never enabled and ``Suspended`` fail)."""

    def judge(bucket: str) -> Result:
        status = (ctx.get("s3", "GetBucketVersioning", bucket) or {}).get("Status")
        bad = "versioning is suspended" if status == "Suspended" else "versioning was never enabled"
        return ctx.verdict(status == "Enabled", arn(bucket), "versioning is enabled", bad, Status=status)

    yield from ctx.each(buckets(ctx), arn, judge)
