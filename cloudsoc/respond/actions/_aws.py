"""What every action module shares: AWS error codes that mean "the target is gone" (the action then
counts as done, and a revert cannot put it back) and API answers made JSON-safe for the before/after
records."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

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


def jsonable(value: Any) -> Any:
    """An API answer as plain JSON: timestamps as ISO strings, the transport's metadata dropped."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value
