"""GuardDuty: the region's detectors, each with its status (filed under the detector id)."""

from __future__ import annotations

from cloudsoc.posture.collector import CollectContext, collector


@collector("guardduty")
def collect(c: CollectContext) -> None:
    listing = c.pages("ListDetectors")
    for detector in (listing or {}).get("DetectorIds", []):
        c.call("GetDetector", str(detector), DetectorId=detector)
