"""What every action module shares: AWS error codes that mean "the target is gone" (the action then
counts as done, and a revert cannot put it back) and API answers made JSON-safe for the before/after
records."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import ClientError

from cloudsoc.aws.api import error_code
from cloudsoc.respond.action import ActionError

NOT_FOUND = frozenset({
    # EC2 and logging
    "InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed", "InvalidGroup.NotFound", "InvalidGroupId.Malformed",
    "InvalidSnapshot.NotFound", "InvalidSnapshotID.Malformed", "InvalidAMIID.NotFound", "InvalidAMIID.Malformed",
    "InvalidAMIID.Unavailable", "InvalidVpcID.NotFound", "InvalidVpcID.Malformed", "InvalidNetworkInterfaceID.NotFound",
    "InvalidVolume.NotFound", "TrailNotFoundException", "InvalidTrailNameException", "ResourceNotFoundException",
    # S3, IAM, RDS
    "NoSuchBucket", "NoSuchEntity", "NoSuchBucketPolicy", "NoSuchPublicAccessBlockConfiguration",
    "ServerSideEncryptionConfigurationNotFoundError", "DBSnapshotNotFound", "DBSnapshotNotFoundFault",
})  # fmt: skip


def is_not_found(exc: ClientError, *codes: str) -> bool:
    """Whether ``exc`` says something is absent (any of ``codes``, or any absent-code by default)."""
    return error_code(exc) in (codes or NOT_FOUND)


@contextmanager
def gone_on_revert(message: str, *codes: str) -> Iterator[None]:
    """Around a revert's calls: AWS answering that the target is gone (any of ``codes``, or any
    absent-code by default) becomes ``ActionError(message)``; what no longer exists cannot be restored."""
    try:
        yield
    except ClientError as exc:
        if is_not_found(exc, *codes):
            raise ActionError(message) from exc
        raise


def trail_region(trail: str, region: str) -> str:
    """Where a trail is managed: the home region its ARN names, else ``region`` (a trail given by name)."""
    return trail.split(":")[3] if trail.startswith("arn:") else region
