"""CIS 2.18: IAM Access Analyzer is enabled in every region."""

from __future__ import annotations

from collections.abc import Iterator

from cloudsoc.posture.check import CheckContext, Result, check


@check(title="IAM Access Analyzer is enabled", severity="medium", services=("accessanalyzer",), scope="region",
       resource_type="AWS::AccessAnalyzer::Analyzer", fix="accessanalyzer.create_analyzer",
       fix_params=lambda r: {"account_id": r.account, "region": r.region})  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """PASS when the region has an analyzer (account or organization) whose status is ``ACTIVE``."""
    analyzers = ctx.get("accessanalyzer", "ListAnalyzers")["analyzers"]
    active = [a["name"] for a in analyzers if a.get("status") == "ACTIVE"]
    yield ctx.verdict(bool(active), ctx.account_arn, f"active analyzers: {', '.join(active)}",
                      "no active Access Analyzer in the region", active=active,
                      analyzers={a["name"]: a.get("status") for a in analyzers})  # fmt: skip
