"""CIS AWS Foundations 6.0 4.8: object-level logging for write events is enabled for S3 buckets."""

from __future__ import annotations

from collections.abc import Iterator

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks import _trails


@check(title="S3 object-level write events are logged by CloudTrail", severity="medium",
       services=("cloudtrail",), scope="account", resource_type="AWS::::Account")  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """PASS when a multi-region trail that logs the account (its own, or an organization trail of the
    management account) is logging and records S3 object write data events of every bucket: a basic
    selector with ReadWriteType All or WriteOnly and an ``AWS::S3::Object`` data resource for all buckets
    (``arn:aws:s3`` or ``arn:aws:s3:::``), or an advanced selector on eventCategory Data and
    resources.type ``AWS::S3::Object`` whose readOnly condition takes in writes and that names no
    particular buckets, events or callers."""
    yield from _trails.s3_object_logging(ctx, read_only=False)
