"""Turn on versioning for a bucket: overwritten and deleted objects stay recoverable as earlier versions.

S3 cannot take a bucket back to "never versioned": revert of a bucket that had never had versioning
suspends it, which keeps the versions written meanwhile and stops making new ones.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from cloudsoc.respond.action import Action, ActionParams, action
from cloudsoc.respond.actions._aws import is_not_found


class EnableVersioningParams(ActionParams):
    bucket: str


@action
class EnableVersioning(Action[EnableVersioningParams]):
    name = "s3.enable_versioning"
    summary = (
        "Turn on versioning for an S3 bucket; revert suspends it when it was not enabled "
        "(S3 has no way back to never-versioned)"
    )
    permissions = ("s3:GetBucketVersioning", "s3:PutBucketVersioning")
    revert_permissions = permissions
    params_model = EnableVersioningParams

    def read(self) -> dict[str, Any]:
        bucket = self.params.bucket
        try:
            answer = self.client("s3").get_bucket_versioning(Bucket=bucket)
        except ClientError as exc:
            if is_not_found(exc, "NoSuchBucket"):
                return {"bucket": bucket, "exists": False, "status": None}
            raise
        # no Status: versioning was never turned on
        return {"bucket": bucket, "exists": True, "status": answer.get("Status")}

    def changes(self, state: dict[str, Any]) -> list[str]:
        if not state["exists"] or state["status"] == "Enabled":
            return []
        was = state["status"] or "never enabled"
        return [f"turn on versioning for bucket {state['bucket']} (was {was})"]

    def change(self, state: dict[str, Any]) -> dict[str, Any]:
        self._put("Enabled")
        return {"enabled": True}

    def undo(self, before: dict[str, Any], applied: dict[str, Any]) -> None:
        if applied.get("enabled") and before["status"] != "Enabled":
            self._put("Suspended")

    def _put(self, status: str) -> None:
        # MFA delete is left out (and so unchanged): it needs the root user's MFA code, and a
        # bucket with MFA delete on is already versioned
        self.client("s3").put_bucket_versioning(
            Bucket=self.params.bucket, VersioningConfiguration={"Status": status}
        )
