"""Delete a CloudTrail trail."""

from __future__ import annotations

from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, Technique, technique
from cloudsoc.simulate.techniques.defense_evasion._trail import make_trail, remove_trail


@technique
class CloudTrailDelete(Technique):
    title = "Delete CloudTrail trail"
    attack = ("T1562.008",)
    expects = ("cloudtrail_trail_deleted",)
    description = (
        "Deletes the account's own trail, ending delivery of its API history and removing its configuration."
    )

    def warmup(self, ctx: Ctx) -> Json:
        return make_trail(ctx, "audit-trail")

    def detonate(self, ctx: Ctx, state: Json) -> None:
        ct = client("cloudtrail", session=ctx.attacker())
        ct.describe_trails()
        ct.delete_trail(Name=state["trail"])

    def revert(self, ctx: Ctx, state: Json) -> None:
        remove_trail(ctx, state)
