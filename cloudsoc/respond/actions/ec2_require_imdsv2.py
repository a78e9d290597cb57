"""Make an instance's metadata service take session tokens only (IMDSv2): a request forged through
a server-side request forgery can no longer read the instance role's credentials.

Every metadata option the instance reports is sent back with the token requirement: the endpoint
stays as it was (enabled stays enabled), and so do the hop limit, IPv6 and tag access.
"""

from __future__ import annotations

from typing import Any

from cloudsoc.respond.action import Action, action
from cloudsoc.respond.actions._aws import gone_on_revert
from cloudsoc.respond.actions._ec2 import InstanceParams, find_instance

# The options ModifyInstanceMetadataOptions takes, as DescribeInstances reports them
OPTIONS = ("HttpTokens", "HttpEndpoint", "HttpPutResponseHopLimit", "HttpProtocolIpv6",
           "InstanceMetadataTags")  # fmt: skip


@action
class RequireImdsv2(Action[InstanceParams]):
    name = "ec2.require_imdsv2"
    summary = (
        "Require session tokens (IMDSv2) on an instance's metadata service, its other metadata options "
        "kept; revert restores the previous options"
    )
    permissions = ("ec2:DescribeInstances", "ec2:ModifyInstanceMetadataOptions")
    revert_permissions = permissions
    params_model = InstanceParams

    def read(self) -> dict[str, Any]:
        iid = self.params.instance_id
        instance = find_instance(self.client("ec2"), iid)
        if instance is None:
            return {"instance_id": iid, "exists": False, "options": {}}
        reported = instance.get("MetadataOptions", {})
        return {
            "instance_id": iid,
            "exists": True,
            "options": {k: reported[k] for k in OPTIONS if k in reported},
        }

    def changes(self, state: dict[str, Any]) -> list[str]:
        if not state["exists"] or state["options"].get("HttpTokens") == "required":
            return []
        was = state["options"].get("HttpTokens", "unknown")
        return [f"require IMDSv2 session tokens on instance {state['instance_id']} (HttpTokens was {was})"]

    def change(self, state: dict[str, Any]) -> dict[str, Any]:
        self._modify(state["options"] | {"HttpTokens": "required"})
        return {"options": state["options"] | {"HttpTokens": "required"}}

    def undo(self, before: dict[str, Any], applied: dict[str, Any]) -> None:
        with gone_on_revert(f"cannot restore metadata options: {before['instance_id']} is gone"):
            self._modify(before["options"])

    def _modify(self, options: dict[str, Any]) -> None:
        self.client("ec2").modify_instance_metadata_options(InstanceId=self.params.instance_id, **options)
