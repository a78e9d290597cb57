"""AWS Config: the configuration recorders, whether they are recording, and the delivery channels."""

from __future__ import annotations

from cloudsoc.posture.collector import CollectContext, collector


@collector("config")
def collect(c: CollectContext) -> None:
    c.call("DescribeConfigurationRecorders")
    c.call("DescribeConfigurationRecorderStatus")
    c.call("DescribeDeliveryChannels")
