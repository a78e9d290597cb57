"""CIS AWS Foundations 6.0 5.2: management console sign-in without MFA is monitored."""

from __future__ import annotations

from collections.abc import Iterator

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._monitoring import RESOURCE_TYPE, SERVICES, monitor


@check(title="Management console sign-in without MFA is monitored", severity="medium", services=SERVICES, scope="account",
       resource_type=RESOURCE_TYPE)  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """A metric filter on the log group of a multi-region logging trail matches ``ConsoleLogin`` events
    whose ``additionalEventData.MFAUsed`` is not ``Yes``, and not sign-ins with MFA; an alarm on its
    metric notifies an SNS topic with a confirmed subscriber (``_monitoring`` says how each is judged)."""
    yield from monitor(ctx, "console_login_without_mfa")
