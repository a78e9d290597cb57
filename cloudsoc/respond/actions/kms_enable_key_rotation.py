"""Turn on automatic rotation of a customer managed KMS key (new key material every year; data
encrypted under the old material stays readable).

AWS managed keys rotate by themselves, and a key scheduled for deletion counts as gone. Keys whose
material cannot rotate automatically (asymmetric, HMAC, imported, custom key store) and disabled keys
are refused: the plan says why rather than the apply failing half-way.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from cloudsoc.respond.action import Action, ActionError, ActionParams, action
from cloudsoc.respond.actions._aws import is_not_found

GONE_STATES = frozenset({"PendingDeletion", "PendingReplicaDeletion"})


class EnableKeyRotationParams(ActionParams):
    key_id: str  # id, ARN or alias


@action
class EnableKeyRotation(Action[EnableKeyRotationParams]):
    name = "kms.enable_key_rotation"
    summary = (
        "Turn on automatic yearly rotation of a customer managed KMS key; revert turns it off when it was off"
    )
    permissions = ("kms:DescribeKey", "kms:GetKeyRotationStatus", "kms:EnableKeyRotation")
    revert_permissions = ("kms:DescribeKey", "kms:GetKeyRotationStatus", "kms:DisableKeyRotation")
    params_model = EnableKeyRotationParams

    def read(self) -> dict[str, Any]:
        kms = self.client("kms")
        gone = {"key_id": self.params.key_id, "exists": False, "rotation": None}
        try:
            meta = kms.describe_key(KeyId=self.params.key_id)["KeyMetadata"]
            if meta.get("KeyState") in GONE_STATES:
                return gone
            rotation = kms.get_key_rotation_status(KeyId=meta["Arn"])["KeyRotationEnabled"]
        except ClientError as exc:
            if is_not_found(exc, "NotFoundException"):
                return gone
            raise
        return {"key_id": self.params.key_id, "exists": True, "arn": meta["Arn"], "rotation": bool(rotation),
                "manager": meta.get("KeyManager"), "state": meta.get("KeyState"),
                "spec": meta.get("KeySpec", meta.get("CustomerMasterKeySpec")), "origin": meta.get("Origin")}  # fmt: skip

    def changes(self, state: dict[str, Any]) -> list[str]:
        if not state["exists"] or state["rotation"] or state["manager"] == "AWS":
            return []
        if state["spec"] != "SYMMETRIC_DEFAULT" or state["origin"] != "AWS_KMS":
            raise ActionError(
                f"key {state['arn']} ({state['spec']}, origin {state['origin']}) cannot rotate automatically"
            )
        if state["state"] != "Enabled":
            raise ActionError(f"key {state['arn']} is {state['state']}: enable it before turning on rotation")
        return [f"turn on automatic rotation of KMS key {state['arn']}"]

    def change(self, state: dict[str, Any]) -> dict[str, Any]:
        self.client("kms").enable_key_rotation(KeyId=state["arn"])
        return {"enabled": state["arn"]}

    def undo(self, before: dict[str, Any], applied: dict[str, Any]) -> None:
        if applied.get("enabled") and before["rotation"] is False:
            self.client("kms").disable_key_rotation(KeyId=applied["enabled"])
