"""CIS AWS Foundations 6.0 5.4: iAM policy changes are monitored."""

from __future__ import annotations

from collections.abc import Iterator

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._monitoring import RESOURCE_TYPE, SERVICES, monitor


@check(title="IAM policy changes are monitored", severity="medium", services=SERVICES, scope="account",
       resource_type=RESOURCE_TYPE)  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """A metric filter on the log group of a multi-region logging trail matches every IAM call that
    creates, changes, attaches, detaches or deletes a policy (16 calls: Put/Delete of inline policies,
    Create/Delete of policies and versions, Attach/Detach to users, groups, roles), and not IAM reads or
    other IAM writes; an alarm on its metric notifies an SNS topic with a confirmed subscriber
    (``_monitoring`` says how each is judged)."""
    yield from monitor(ctx, "iam_policy_changes")
