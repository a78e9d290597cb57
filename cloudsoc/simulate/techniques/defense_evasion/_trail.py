"""A logging account trail of its own, for the techniques that attack one."""

from __future__ import annotations

import contextlib

from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json


def make_trail(ctx: Ctx, name: str) -> Json:
    """A trail delivering to a bucket named the way the CloudTrail console names them."""
    admin = ctx.admin()
    bucket = f"aws-cloudtrail-logs-{ctx.account_id}-{ctx.run_id[:8]}"
    client("s3", session=admin).create_bucket(Bucket=bucket)
    ct = client("cloudtrail", session=admin)
    ct.create_trail(Name=name, S3BucketName=bucket)
    ct.start_logging(Name=name)
    return {"trail": name, "bucket": bucket}


def remove_trail(ctx: Ctx, state: Json) -> None:
    admin = ctx.admin()
    ct = client("cloudtrail", session=admin)
    with contextlib.suppress(ct.exceptions.TrailNotFoundException):  # the attack deleted it
        ct.delete_trail(Name=state["trail"])
    s3 = client("s3", session=admin)
    try:
        s3.delete_bucket_lifecycle(Bucket=state["bucket"])
        s3.delete_bucket(Bucket=state["bucket"])
    except s3.exceptions.NoSuchBucket:
        pass  # already gone
