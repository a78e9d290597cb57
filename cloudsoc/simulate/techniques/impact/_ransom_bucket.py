"""A versioned bucket full of business files, for the S3 ransomware techniques, and the steps they share."""

from __future__ import annotations

import random
from typing import Any

from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, Technique

FILES = 51
NOTE_KEY = "FILES-DELETED.txt"
NOTE = (b"Your data is backed up in a safe location. Contact us within 7 days to negotiate its recovery; "
        b"after that it will be sold or published.\n")  # fmt: skip
_WORDS = ("invoice", "payroll", "contract", "customer", "export", "backup", "ledger", "forecast", "audit",
          "vendor", "quarterly", "budget", "claims", "orders", "pricing", "roadmap", "minutes", "tax")  # fmt: skip
_EXTENSIONS = ("sql", "txt", "docx", "pdf", "png", "tar.gz", "xlsx", "csv")


def make_bucket(ctx: Ctx) -> Json:
    """A versioned bucket holding ``FILES`` objects with random names, extensions and content."""
    bucket = f"{ctx.account}-finance-archive-{ctx.run_id[:8]}"
    s3 = client("s3", session=ctx.admin())
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    rnd = random.Random(ctx.run_id)
    for i in range(FILES):
        key = f"{rnd.choice(_WORDS)}{rnd.choice(' -_')}{rnd.choice(_WORDS)}-{i:02d}.{rnd.choice(_EXTENSIONS)}"
        s3.put_object(Bucket=bucket, Key=key, Body=rnd.randbytes(rnd.randint(1, 200)))
    return {"bucket": bucket}


def download_all(s3: Any, bucket: str) -> None:
    """What ransomware does first: take a copy of everything it is about to destroy."""
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()


def all_versions(s3: Any, bucket: str) -> list[Json]:
    out: list[Json] = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        out += [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in page.get("Versions", [])]
        out += [{"Key": m["Key"], "VersionId": m["VersionId"]} for m in page.get("DeleteMarkers", [])]
    return out


def remove_bucket(ctx: Ctx, state: Json) -> None:
    s3 = client("s3", session=ctx.admin())
    try:
        for version in all_versions(s3, state["bucket"]):
            s3.delete_object(Bucket=state["bucket"], **version)
        s3.delete_bucket(Bucket=state["bucket"])
    except s3.exceptions.NoSuchBucket:
        pass  # already gone


class RansomBucketTechnique(Technique):
    """The S3 ransomware techniques: a bucket of business files made in warm-up, removed on revert."""

    def warmup(self, ctx: Ctx) -> Json:
        return make_bucket(ctx)

    def revert(self, ctx: Ctx, state: Json) -> None:
        remove_bucket(ctx, state)
