"""Every bucket is covered by S3 Block Public Access (its own, or the account's)."""

from __future__ import annotations

from collections.abc import Iterator

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._s3 import account_block, all_on, arn, bucket_block, buckets, fix_target


@check(title="S3 buckets have Block Public Access enabled", severity="high", services=("s3", "s3control"),
       scope="account", resource_type="AWS::S3::Bucket", fix="s3.block_public_access",
       fix_params=lambda r: fix_target(r) | {"account_level": False})  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """PASS when the bucket's own public access block has all four settings on, or the account-wide
    one does (then the bucket's own settings do not matter); FAIL otherwise."""

    def judge(bucket: str) -> Result:
        own = bucket_block(ctx, bucket)
        if all_on(own):
            return ctx.passed(arn(bucket), "all public access to the bucket is blocked", bucket_block=own)
        account = account_block(ctx)
        return ctx.verdict(all_on(account), arn(bucket), "all public access is blocked account-wide",
                           "the bucket's public access is not fully blocked (bucket or account level)",
                           bucket_block=own, account_block=account)  # fmt: skip

    yield from ctx.each(buckets(ctx), arn, judge)
