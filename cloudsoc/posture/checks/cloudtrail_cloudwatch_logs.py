"""CloudTrail trails deliver to CloudWatch Logs (CIS AWS Foundations 1.x/2.0 3.4): what the
monitoring metric filters and alarms read."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from cloudsoc.core.timeutil import parse_time
from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks import _trails

RECENT = timedelta(days=1)


@check(title="CloudTrail trails are integrated with CloudWatch Logs", severity="medium",
       services=("cloudtrail",), scope="account", resource_type="AWS::CloudTrail::Trail")  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """Each trail that logs the account (its own, and organization trails of the management account)
    names a CloudWatch Logs log group (``CloudWatchLogsLogGroupArn``) and, by its status, delivered
    to it within a day of the collection (``LatestCloudWatchLogsDeliveryTime``). MANUAL for a trail
    with a log group whose owning account is outside the inventory (its status cannot be read)."""
    yield from ctx.each(_trails.trails(ctx), lambda t: t.arn, lambda t: _judge(ctx, t))


def _judge(ctx: CheckContext, trail: _trails.Trail) -> Result:
    group = trail.info.get("CloudWatchLogsLogGroupArn")
    if not group:
        return ctx.failed(trail.arn, f"trail {trail.name} sends no logs to CloudWatch Logs", region=trail.home,
                          CloudWatchLogsLogGroupArn=None, **trail.where())  # fmt: skip
    if not _trails.readable(ctx, trail):
        return ctx.manual(trail.arn, f"trail {trail.name} sends logs to {group}; its delivery status is read in "
                          f"account {trail.owner}, outside this inventory", region=trail.home,
                          CloudWatchLogsLogGroupArn=group)  # fmt: skip
    status = _trails.status(ctx, trail)
    last = status.get("LatestCloudWatchLogsDeliveryTime")
    recent = bool(last) and ctx.now - parse_time(str(last)) <= RECENT
    return ctx.verdict(recent, trail.arn, f"trail {trail.name} delivers to {group}",
                       f"trail {trail.name} names {group} but has not delivered to it within a day",
                       region=trail.home, CloudWatchLogsLogGroupArn=group,
                       LatestCloudWatchLogsDeliveryTime=last,
                       LatestCloudWatchLogsDeliveryError=status.get("LatestCloudWatchLogsDeliveryError"),
                       **trail.where())  # fmt: skip
