"""CIS AWS Foundations 6.0 5.8: s3 bucket policy changes are monitored."""

from __future__ import annotations

from collections.abc import Iterator

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._monitoring import RESOURCE_TYPE, SERVICES, monitor


@check(title="S3 bucket policy changes are monitored", severity="medium", services=SERVICES, scope="account",
       resource_type=RESOURCE_TYPE)  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """A metric filter on the log group of a multi-region logging trail matches the S3 calls that change a
    bucket's ACL, policy, CORS, lifecycle or replication (Put and Delete), and not S3 reads or object
    writes; an alarm on its metric notifies an SNS topic with a confirmed subscriber (``_monitoring`` says
    how each is judged)."""
    yield from monitor(ctx, "s3_bucket_policy_changes")
