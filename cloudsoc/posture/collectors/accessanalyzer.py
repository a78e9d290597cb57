"""IAM Access Analyzer in one region: its analyzers (account or organization zone of trust)."""

from __future__ import annotations

from cloudsoc.posture.collector import CollectContext, collector


@collector("accessanalyzer", scope="region")
def collect(c: CollectContext) -> None:
    c.pages("ListAnalyzers")
