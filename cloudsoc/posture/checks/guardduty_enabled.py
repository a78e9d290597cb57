"""GuardDuty is enabled in every region."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudsoc.posture.check import CheckContext, Result, check


def _fix(result: Result) -> dict[str, Any]:
    """Re-enable the region's suspended detector, or create one where there is none."""
    detectors = result.evidence.get("detectors") or {}
    params: dict[str, Any] = {"account_id": result.account, "region": result.region}
    if detectors:
        params["detector_id"] = sorted(detectors)[0]
    return params


@check(title="Amazon GuardDuty is enabled", severity="high", services=("guardduty",), scope="region",
       resource_type="AWS::GuardDuty::Detector", fix="guardduty.enable_detector", fix_params=_fix)  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """PASS when the region has a detector whose GetDetector ``Status`` is ENABLED; FAIL when it has
    none or only suspended ones. One result per region, on the account."""
    listing = ctx.get("guardduty", "ListDetectors") or {}
    detectors = {str(d): ctx.get("guardduty", "GetDetector", str(d)) for d in listing.get("DetectorIds", [])}
    states = {d: (answer or {}).get("Status") for d, answer in detectors.items()}
    enabled = sorted(d for d, s in states.items() if s == "ENABLED")
    yield ctx.verdict(bool(enabled), ctx.account_arn, f"GuardDuty detector {enabled[0] if enabled else ''} is "
                      f"enabled in {ctx.region}", f"GuardDuty has no enabled detector in {ctx.region}"
                      + (f" (suspended: {', '.join(sorted(states))})" if states else ""), detectors=states)  # fmt: skip
