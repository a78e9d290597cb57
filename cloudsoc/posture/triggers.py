"""Which CloudTrail events change what a posture check judges: event name -> the inventory service to
collect again, and the resource key to refresh (None: the whole service in that account and region)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Key = Callable[[dict[str, Any]], str | None]


def _param(*path: str) -> Key:
    def key(event: dict[str, Any]) -> str | None:
        node: Any = event.get("requestParameters") or {}
        for p in path:
            node = node.get(p) if isinstance(node, dict) else None
        return str(node) if node else None

    return key


def _whole(_: dict[str, Any]) -> None:
    return None


_BUCKET = _param("bucketName")
_USER = _param("userName")

_BY_SERVICE: dict[str, tuple[Key, tuple[str, ...]]] = {
    "s3": (_BUCKET, ("PutBucketAcl", "PutBucketPolicy", "DeleteBucketPolicy", "PutBucketPublicAccessBlock",
                     "DeleteBucketPublicAccessBlock", "PutBucketEncryption", "DeleteBucketEncryption",
                     "PutBucketVersioning", "PutBucketLogging", "CreateBucket", "DeleteBucket")),
    "ec2": (_whole, ("AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress",
                     "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress", "ModifySecurityGroupRules",
                     "CreateSecurityGroup", "DeleteSecurityGroup", "CreateNetworkAclEntry",
                     "ReplaceNetworkAclEntry", "DeleteNetworkAclEntry", "EnableEbsEncryptionByDefault",
                     "DisableEbsEncryptionByDefault", "ModifyInstanceMetadataOptions", "RunInstances",
                     "ModifySnapshotAttribute", "ModifyImageAttribute", "CreateFlowLogs", "DeleteFlowLogs",
                     "CreateVolume", "AssociateIamInstanceProfile")),
    "cloudtrail": (_whole, ("StopLogging", "StartLogging", "UpdateTrail", "DeleteTrail", "CreateTrail",
                            "PutEventSelectors")),
    "iam": (_USER, ("CreateUser", "DeleteUser", "CreateLoginProfile", "DeleteLoginProfile", "EnableMFADevice",
                    "DeactivateMFADevice", "DeleteVirtualMFADevice", "CreateAccessKey", "UpdateAccessKey",
                    "DeleteAccessKey", "AttachUserPolicy", "DetachUserPolicy", "PutUserPolicy",
                    "DeleteUserPolicy", "UpdateAccountPasswordPolicy", "DeleteAccountPasswordPolicy",
                    "AttachRolePolicy", "AttachGroupPolicy", "CreatePolicyVersion", "AddUserToGroup")),
    "config": (_whole, ("StopConfigurationRecorder", "DeleteConfigurationRecorder", "StartConfigurationRecorder",
                        "PutConfigurationRecorder", "DeleteDeliveryChannel")),
    "guardduty": (_whole, ("DeleteDetector", "UpdateDetector", "CreateDetector")),
    "securityhub": (_whole, ("DisableSecurityHub", "EnableSecurityHub")),
    "kms": (_whole, ("DisableKeyRotation", "EnableKeyRotation", "ScheduleKeyDeletion", "CreateKey")),
    "rds": (_whole, ("ModifyDBInstance", "CreateDBInstance", "DeleteDBInstance", "ModifyDBSnapshotAttribute",
                     "CreateDBSnapshot")),
    # CloudTrail names Lambda's calls with their API version
    "lambda": (_whole, ("AddPermission20150331v2", "RemovePermission20150331v2", "CreateFunction20150331",
                        "CreateFunctionUrlConfig20211031", "UpdateFunctionUrlConfig20211031")),
    "secretsmanager": (_whole, ("RotateSecret", "CancelRotateSecret", "CreateSecret")),
    "efs": (_whole, ("CreateFileSystem",)),
    "cloudwatch": (_whole, ("PutMetricFilter", "DeleteMetricFilter", "PutMetricAlarm", "DeleteAlarms")),
    "accessanalyzer": (_whole, ("CreateAnalyzer", "DeleteAnalyzer")),
}  # fmt: skip
# The account-wide S3 setting is collected with the buckets (S3 Control, by the s3 collector).
_ACCOUNT_S3 = ("PutAccountPublicAccessBlock", "DeleteAccountPublicAccessBlock")
# Services a collector files beside its own: checks reading them are judged again with it.
COMPANIONS = {"s3": {"s3", "s3control"}, "cloudwatch": {"cloudwatch", "logs", "sns"}}


def collector_of(service: str) -> str:
    """The collector that files an inventory service (S3 Control's data comes with S3's)."""
    return next((c for c, filed in COMPANIONS.items() if service in filed), service)


TRIGGERS: dict[str, tuple[str, Key]] = {
    name: (service, key) for service, (key, names) in _BY_SERVICE.items() for name in names
} | {name: ("s3", _whole) for name in _ACCOUNT_S3}
EVENT_NAMES = sorted(TRIGGERS)


def refresh_of(event: dict[str, Any]) -> tuple[str, str | None] | None:
    """(service, resource key or None) to collect again after ``event``; None when no check cares."""
    hit = TRIGGERS.get(str(event.get("eventName", "")))
    if hit is None:
        return None
    service, key = hit
    return service, key(event)
