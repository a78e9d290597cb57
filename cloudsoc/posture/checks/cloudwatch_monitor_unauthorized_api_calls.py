"""CIS AWS Foundations 6.0 5.1: unauthorized API calls are monitored."""

from __future__ import annotations

from collections.abc import Iterator

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._monitoring import RESOURCE_TYPE, SERVICES, monitor


@check(title="Unauthorized API calls are monitored", severity="medium", services=SERVICES, scope="account",
       resource_type=RESOURCE_TYPE)  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """A metric filter on the log group of a multi-region logging trail matches API calls refused as
    unauthorized: error codes ``*UnauthorizedOperation`` and ``AccessDenied*`` (exclusions such as calls
    from delivery.logs.amazonaws.com allowed), and not calls that succeeded or failed otherwise; an alarm
    on its metric notifies an SNS topic with a confirmed subscriber (``_monitoring`` says how each is
    judged)."""
    yield from monitor(ctx, "unauthorized_api_calls")
