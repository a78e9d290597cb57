"""EFS: the file systems (their encryption at rest is in the listing)."""

from __future__ import annotations

from cloudsoc.posture.collector import CollectContext, collector


@collector("efs")
def collect(c: CollectContext) -> None:
    c.pages("DescribeFileSystems")
