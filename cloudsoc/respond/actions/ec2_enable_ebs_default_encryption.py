"""Turn on EBS encryption by default in a region: every new volume (and snapshot copy) in the
account and region is encrypted, with the region's default EBS key. Existing volumes stay as they are."""

from __future__ import annotations

from typing import Any

from cloudsoc.respond.action import Action, ActionParams, action


@action
class EnableEbsDefaultEncryption(Action[ActionParams]):
    name = "ec2.enable_ebs_default_encryption"
    summary = (
        "Turn on EBS encryption by default in the account and region (new volumes only); "
        "revert turns it off when it was off"
    )
    permissions = ("ec2:GetEbsEncryptionByDefault", "ec2:EnableEbsEncryptionByDefault")
    revert_permissions = ("ec2:GetEbsEncryptionByDefault", "ec2:DisableEbsEncryptionByDefault")
    params_model = ActionParams

    def read(self) -> dict[str, Any]:
        enabled = self.client("ec2").get_ebs_encryption_by_default()["EbsEncryptionByDefault"]
        return {"region": self.params.region, "enabled": bool(enabled)}

    def changes(self, state: dict[str, Any]) -> list[str]:
        if state["enabled"]:
            return []
        return [f"turn on EBS encryption by default in {self.params.account_id} {state['region']}"]

    def change(self, state: dict[str, Any]) -> dict[str, Any]:
        self.client("ec2").enable_ebs_encryption_by_default()
        return {"enabled": True}

    def undo(self, before: dict[str, Any], applied: dict[str, Any]) -> None:
        if applied.get("enabled") and not before["enabled"]:
            self.client("ec2").disable_ebs_encryption_by_default()
