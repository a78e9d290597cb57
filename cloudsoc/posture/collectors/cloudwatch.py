"""CloudWatch alarms, with the CloudWatch Logs metric filters they watch (service ``logs``) and the
subscriptions of the SNS topics they notify (service ``sns``, filed under the topic ARN): what the
CIS monitoring checks follow from a trail's log group to someone being told."""

from __future__ import annotations

from typing import Any

from cloudsoc.posture.collector import CollectContext, collector


@collector("cloudwatch")
def collect(c: CollectContext) -> None:
    alarms = c.pages("DescribeAlarms")
    c.other("logs").pages("DescribeMetricFilters")
    sns = c.other("sns")
    for topic in sorted(topics(alarms)):
        # A topic lives in one region: it is read where it is (alarms notify topics of their own region).
        if topic.split(":")[3] == c.region and c.wanted(topic):
            sns.pages("ListSubscriptionsByTopic", topic, TopicArn=topic)


def topics(alarms: dict[str, Any] | None) -> set[str]:
    """The SNS topics the alarms notify when they go into ALARM."""
    found: set[str] = set()
    for alarm in (alarms or {}).get("MetricAlarms", []):
        found.update(a for a in alarm.get("AlarmActions", []) if is_topic(a))
    return found


def is_topic(arn: str) -> bool:
    return arn.startswith("arn:") and arn.split(":")[2:3] == ["sns"] and arn.count(":") >= 5
