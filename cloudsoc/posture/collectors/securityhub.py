"""Security Hub: the region's hub. A region where it is not enabled answers InvalidAccessException,
filed as ``None``."""

from __future__ import annotations

from cloudsoc.posture.collector import CollectContext, collector


@collector("securityhub")
def collect(c: CollectContext) -> None:
    c.call("DescribeHub")
