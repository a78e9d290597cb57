"""Give a bucket default encryption: SSE-KMS with a named key, or SSE-S3."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from cloudsoc.respond.action import Action, ActionParams, action
from cloudsoc.respond.actions._aws import is_not_found


class EnforceEncryptionParams(ActionParams):
    bucket: str
    kms_key_id: str | None = None  # key id, ARN or alias; none: SSE-S3 (AES256)


def _same_key(a: str, b: str) -> bool:
    """A key named by id in one place and by ARN in the other is the same key."""
    return a == b or a.endswith(f"/{b}") or b.endswith(f"/{a}")


@action
class EnforceEncryption(Action[EnforceEncryptionParams]):
    name = "s3.enforce_encryption"
    summary = (
        "Set a bucket's default encryption to SSE-KMS with the given key, or SSE-S3 when no key is given "
        "(an existing default encryption satisfies SSE-S3); revert restores the previous configuration"
    )
    permissions = ("s3:GetEncryptionConfiguration", "s3:PutEncryptionConfiguration")
    revert_permissions = permissions  # removing the configuration is authorised by its Put permission
    params_model = EnforceEncryptionParams

    def read(self) -> dict[str, Any]:
        state: dict[str, Any] = {"bucket": self.params.bucket, "exists": True, "encryption": None}
        try:
            answer = self.client("s3").get_bucket_encryption(Bucket=self.params.bucket)
        except ClientError as exc:
            if is_not_found(exc, "NoSuchBucket"):
                return state | {"exists": False}
            if is_not_found(exc, "ServerSideEncryptionConfigurationNotFoundError"):
                return state
            raise
        state["encryption"] = dict(answer["ServerSideEncryptionConfiguration"])
        return state

    def wanted(self) -> dict[str, Any]:
        key = self.params.kms_key_id
        if key:
            default = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}
            return {"Rules": [{"ApplyServerSideEncryptionByDefault": default, "BucketKeyEnabled": True}]}
        return {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}

    def satisfied(self, encryption: dict[str, Any] | None) -> bool:
        defaults = [
            r.get("ApplyServerSideEncryptionByDefault") or {} for r in (encryption or {}).get("Rules", [])
        ]
        key = self.params.kms_key_id
        if key is None:  # any default encryption is at least SSE-S3: never downgrade KMS to it
            return any(d.get("SSEAlgorithm") for d in defaults)
        return any(
            d.get("SSEAlgorithm") == "aws:kms" and _same_key(str(d.get("KMSMasterKeyID", "")), key)
            for d in defaults
        )

    def changes(self, state: dict[str, Any]) -> list[str]:
        if not state["exists"] or self.satisfied(state["encryption"]):
            return []
        how = f"SSE-KMS with key {self.params.kms_key_id}" if self.params.kms_key_id else "SSE-S3 (AES256)"
        return [
            f"set default encryption of bucket {self.params.bucket} to {how} (was: {state['encryption']})"
        ]

    def change(self, state: dict[str, Any]) -> dict[str, Any]:
        self.client("s3").put_bucket_encryption(
            Bucket=self.params.bucket, ServerSideEncryptionConfiguration=self.wanted()
        )
        return {"encryption": self.wanted()}

    def undo(self, before: dict[str, Any], applied: dict[str, Any]) -> None:
        s3 = self.client("s3")
        if before["encryption"] is None:
            s3.delete_bucket_encryption(Bucket=self.params.bucket)
        else:
            s3.put_bucket_encryption(
                Bucket=self.params.bucket, ServerSideEncryptionConfiguration=before["encryption"]
            )
