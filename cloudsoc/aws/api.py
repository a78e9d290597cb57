"""Facts about the AWS APIs that every layer shares."""

from __future__ import annotations

from botocore.exceptions import ClientError

# S3 Block Public Access with all four settings on (bucket or account level)
BLOCK_ALL_PUBLIC_ACCESS = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                           "RestrictPublicBuckets": True}  # fmt: skip


def error_code(exc: ClientError) -> str:
    """The AWS error code of a failed call ("" when the answer carries none)."""
    return str(exc.response.get("Error", {}).get("Code", ""))
