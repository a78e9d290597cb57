"""CIS AWS Foundations 6.0 4.4: server access logging is enabled on the CloudTrail S3 bucket."""

from __future__ import annotations

from collections.abc import Iterator

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks import _trails
from cloudsoc.posture.inventory import GLOBAL


@check(title="S3 server access logging is enabled on the CloudTrail bucket", severity="medium",
       services=("cloudtrail", "s3"), scope="account", resource_type="AWS::CloudTrail::Trail")  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """Each trail that logs the account (its own, and organization trails of the management account)
    writes to a bucket whose GetBucketLogging answer has ``LoggingEnabled``. The bucket is read in
    whichever account of the inventory holds it (an organization's trail bucket usually lives in a
    log-archive account); MANUAL, naming the bucket, when no account of the inventory holds it."""
    yield from ctx.each(_trails.trails(ctx), lambda t: t.arn, lambda t: _judge(ctx, t))


def _judge(ctx: CheckContext, trail: _trails.Trail) -> Result:
    bucket = str(trail.info.get("S3BucketName") or "")
    owner = _bucket_account(ctx, bucket)
    if owner is None:
        return ctx.manual(trail.arn, f"trail {trail.name} writes to bucket {bucket}, which no account of this "
                          "inventory holds: check its access logging where it lives", region=trail.home,
                          bucket=bucket)  # fmt: skip
    answer = ctx.get("s3", "GetBucketLogging", bucket, account=owner) or {}
    target = answer.get("LoggingEnabled")
    return ctx.verdict(bool(target), trail.arn, f"bucket {bucket} of trail {trail.name} has access logging",
                       f"bucket {bucket} of trail {trail.name} has no access logging", region=trail.home,
                       bucket=bucket, bucket_account=owner, LoggingEnabled=target)  # fmt: skip


def _bucket_account(ctx: CheckContext, bucket: str) -> str | None:
    """The account of the inventory whose S3 collection got to the bucket (answered or failed), this
    account first."""
    for account in sorted(ctx.accounts, key=lambda a: a != ctx.account):
        answered = bucket in ctx.inventory.keys(account, GLOBAL, "s3", "GetBucketLogging")
        if answered or ctx.inventory.error(account, GLOBAL, "s3", "GetBucketLogging", bucket) is not None:
            return account
    return None
