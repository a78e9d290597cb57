"""Stop a CloudTrail trail from logging."""

from __future__ import annotations

from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, Technique, technique


@technique
class CloudTrailStop(Technique):
    title = "Stop CloudTrail trail"
    attack = ("T1562.008",)
    expects = ("cloudtrail_logging_stopped",)
    description = "Calls StopLogging on the account's own trail, so that what follows goes unrecorded."

    def warmup(self, ctx: Ctx) -> Json:
        admin = ctx.admin()
        bucket = f"account-trail-{ctx.account_id}-{ctx.run_id}"
        client("s3", session=admin).create_bucket(Bucket=bucket)
        ct = client("cloudtrail", session=admin)
        ct.create_trail(Name="account-trail", S3BucketName=bucket)
        ct.start_logging(Name="account-trail")
        return {"trail": "account-trail", "bucket": bucket}

    def detonate(self, ctx: Ctx, state: Json) -> None:
        client("cloudtrail", session=ctx.attacker()).stop_logging(Name=state["trail"])

    def revert(self, ctx: Ctx, state: Json) -> None:
        admin = ctx.admin()
        client("cloudtrail", session=admin).delete_trail(Name=state["trail"])
        client("s3", session=admin).delete_bucket(Bucket=state["bucket"])
