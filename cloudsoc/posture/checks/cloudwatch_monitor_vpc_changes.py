"""CIS AWS Foundations 6.0 5.14: vPC changes are monitored."""

from __future__ import annotations

from collections.abc import Iterator

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._monitoring import RESOURCE_TYPE, SERVICES, monitor


@check(title="VPC changes are monitored", severity="medium", services=SERVICES, scope="account",
       resource_type=RESOURCE_TYPE)  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """A metric filter on the log group of a multi-region logging trail matches VPC creation, deletion and
    attribute changes, VPC peering (create, accept, reject, delete) and ClassicLink calls; an alarm on its
    metric notifies an SNS topic with a confirmed subscriber (``_monitoring`` says how each is judged)."""
    yield from monitor(ctx, "vpc_changes")
