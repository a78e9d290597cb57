"""CloudTrail: the trails each region sees (multi-region trails homed elsewhere included) and, in each
trail's home region, its status and event selectors, filed under the trail's ARN.

A trail owned by another account (an organization trail as a member account sees it) is listed but
not read here: its status and selectors are read in the account that owns it.
"""

from __future__ import annotations

from cloudsoc.posture.collector import CollectContext, collector


@collector("cloudtrail")
def collect(c: CollectContext) -> None:
    listing = c.call("DescribeTrails", includeShadowTrails=True)
    for trail in (listing or {}).get("trailList", []):
        arn = str(trail.get("TrailARN", ""))
        home, owner = trail.get("HomeRegion", c.region), arn.split(":")[4] if arn.count(":") >= 5 else ""
        if home != c.region or owner != c.account or not c.wanted(arn):
            continue
        c.call("GetTrailStatus", arn, Name=arn)
        c.call("GetEventSelectors", arn, TrailName=arn)
