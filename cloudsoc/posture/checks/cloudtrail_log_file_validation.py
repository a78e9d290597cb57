"""CIS AWS Foundations 6.0 4.2: CloudTrail log file validation is enabled."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks import _trails


def _fix(result: Result) -> dict[str, Any]:
    """Turn validation on where the trail lives: its ARN names the owning account and home region."""
    _, _, _, region, account, name = result.resource.split(":", 5)
    return {"account_id": account, "region": region, "trail_name": name.removeprefix("trail/")}


@check(title="CloudTrail log file validation is enabled", severity="medium", services=("cloudtrail",),
       scope="account", resource_type="AWS::CloudTrail::Trail", fix="cloudtrail.enable_log_validation",
       fix_params=_fix)  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """Each trail that logs the account (its own, and organization trails of the management account)
    has ``LogFileValidationEnabled`` in DescribeTrails. A fix acts in the account that owns the trail."""
    for trail in _trails.trails(ctx):
        on = bool(trail.info.get("LogFileValidationEnabled"))
        yield ctx.verdict(on, trail.arn, f"trail {trail.name} validates its log files",
                          f"trail {trail.name} does not validate its log files", region=trail.home,
                          LogFileValidationEnabled=on, **trail.where())  # fmt: skip
