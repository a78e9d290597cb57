"""Turn on AWS Security Hub in a region, with its default standards (AWS Foundational Security
Best Practices and CIS) unless told otherwise. Revert turns Security Hub off again only when this
action turned it on: a hub that was already on is never disabled.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from cloudsoc.aws.api import error_code
from cloudsoc.respond.action import Action, ActionParams, action

NOT_SUBSCRIBED = ("InvalidAccessException", "ResourceNotFoundException")  # what DescribeHub answers when off


class EnableHubParams(ActionParams):
    enable_default_standards: bool = True


@action
class EnableHub(Action[EnableHubParams]):
    name = "securityhub.enable_hub"
    summary = (
        "Turn on AWS Security Hub in the account and region (with its default standards); "
        "revert turns it off only if it was off before"
    )
    permissions = ("securityhub:DescribeHub", "securityhub:EnableSecurityHub", "iam:CreateServiceLinkedRole")
    revert_permissions = ("securityhub:DescribeHub", "securityhub:DisableSecurityHub")
    params_model = EnableHubParams

    def read(self) -> dict[str, Any]:
        try:
            hub = self.client("securityhub").describe_hub()
        except ClientError as exc:
            if error_code(exc) in NOT_SUBSCRIBED:
                return {"region": self.params.region, "enabled": False, "hub_arn": None}
            raise
        return {"region": self.params.region, "enabled": True, "hub_arn": hub.get("HubArn")}

    def changes(self, state: dict[str, Any]) -> list[str]:
        if state["enabled"]:
            return []
        standards = " with its default standards" if self.params.enable_default_standards else ""
        return [f"turn on Security Hub{standards} in {self.params.account_id} {state['region']}"]

    def change(self, state: dict[str, Any]) -> dict[str, Any]:
        try:
            self.client("securityhub").enable_security_hub(
                EnableDefaultStandards=self.params.enable_default_standards
            )
        except ClientError as exc:
            if error_code(exc) == "ResourceConflictException":  # turned on meanwhile: not ours to undo
                return {"enabled": False}
            raise
        return {"enabled": True}

    def undo(self, before: dict[str, Any], applied: dict[str, Any]) -> None:
        if applied.get("enabled") and not before["enabled"]:
            self.client("securityhub").disable_security_hub()
