"""CIS AWS Foundations 6.0 5.3: usage of the root user is monitored."""

from __future__ import annotations

from collections.abc import Iterator

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._monitoring import RESOURCE_TYPE, SERVICES, monitor


@check(title="Usage of the root user is monitored", severity="high", services=SERVICES, scope="account",
       resource_type=RESOURCE_TYPE)  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """A metric filter on the log group of a multi-region logging trail matches events of
    ``userIdentity.type`` Root that no AWS service invoked for it (``invokedBy NOT EXISTS``) and that are
    not ``AwsServiceEvent``; an alarm on its metric notifies an SNS topic with a confirmed subscriber
    (``_monitoring`` says how each is judged)."""
    yield from monitor(ctx, "root_usage")
