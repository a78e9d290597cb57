"""S3: the buckets and, per bucket, what decides whether it is public, encrypted, versioned and logged;
the account-wide Block Public Access setting (S3 Control)."""

from __future__ import annotations

import json
from typing import Any

from cloudsoc.aws.session import address_s3control_locally
from cloudsoc.posture.collector import CollectContext, collector, names

# Per-bucket settings, each filed under the bucket's name.
_PER_BUCKET = ("GetBucketPolicyStatus", "GetBucketAcl", "GetPublicAccessBlock", "GetBucketEncryption",
               "GetBucketVersioning", "GetBucketLogging")  # fmt: skip


@collector("s3", scope="global")
def collect(c: CollectContext) -> None:
    _account_block(c.other("s3control"), c.account)
    listing = c.pages("ListBuckets")
    for bucket in names(listing and listing.get("Buckets"), "Name"):
        if not c.wanted(bucket):
            continue
        # Filed parsed: checks read the statements, not the text.
        c.call("GetBucketPolicy", bucket, transform=_parse_policy, Bucket=bucket)
        for operation in _PER_BUCKET:
            c.call(operation, bucket, Bucket=bucket)


def _parse_policy(answer: dict[str, Any]) -> dict[str, Any]:
    return {"Policy": json.loads(answer["Policy"])}


def _account_block(s3control: CollectContext, account: str) -> None:
    """The account's Block Public Access (filed under s3control/GetPublicAccessBlock, key "")."""
    address_s3control_locally(s3control.client, account)
    s3control.call("GetPublicAccessBlock", AccountId=account)
