"""Empty a VPC's default security group: every ingress and egress rule goes, so anything launched
without a chosen group can neither reach nor be reached (CIS). The group itself cannot be deleted.

Only a group named "default" is touched: emptying another group would cut off the instances that
use it. Rules are revoked and restored one source or destination at a time (a rule put back
meanwhile skips only itself), with their descriptions: AWS matches a rule without its description,
but takes one, and the revert puts them back.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from cloudsoc.aws.api import error_code
from cloudsoc.respond.action import Action, ActionError, ActionParams, action
from cloudsoc.respond.actions._aws import gone_on_revert
from cloudsoc.respond.actions._ec2 import find_group, traffic

RANGE_LISTS = ("IpRanges", "Ipv6Ranges", "UserIdGroupPairs", "PrefixListIds")
PAIR_FIELDS = ("GroupId", "UserId", "VpcId", "VpcPeeringConnectionId", "Description")  # what Authorize takes


class RestrictDefaultSecurityGroupParams(ActionParams):
    group_id: str


def single_rules(permissions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each permission split into one permission per source or destination."""
    out = []
    for perm in permissions:
        base = {k: perm[k] for k in ("IpProtocol", "FromPort", "ToPort") if k in perm}
        for field in RANGE_LISTS:
            for entry in perm.get(field) or []:
                if field == "UserIdGroupPairs":
                    entry = {k: entry[k] for k in PAIR_FIELDS if k in entry}
                out.append(base | {field: [entry]})
    return out


def describe(rule: dict[str, Any]) -> str:
    field = next(f for f in RANGE_LISTS if f in rule)
    entry = rule[field][0]
    peer = entry.get("CidrIp") or entry.get("CidrIpv6") or entry.get("GroupId") or entry.get("PrefixListId")
    return f"{traffic(rule)} {peer}"


@action
class RestrictDefaultSecurityGroup(Action[RestrictDefaultSecurityGroupParams]):
    name = "ec2.restrict_default_security_group"
    summary = (
        "Remove every ingress and egress rule of a VPC's default security group (refuses other groups); "
        "revert authorizes the recorded rules again"
    )
    permissions = (
        "ec2:DescribeSecurityGroups",
        "ec2:RevokeSecurityGroupIngress",
        "ec2:RevokeSecurityGroupEgress",
    )
    revert_permissions = ("ec2:DescribeSecurityGroups", "ec2:AuthorizeSecurityGroupIngress",
                          "ec2:AuthorizeSecurityGroupEgress")  # fmt: skip
    params_model = RestrictDefaultSecurityGroupParams

    def read(self) -> dict[str, Any]:
        gid = self.params.group_id
        group = find_group(self.client("ec2"), gid)
        if group is None:
            return {"group_id": gid, "exists": False, "ingress": [], "egress": []}
        return {"group_id": gid, "exists": True, "name": group["GroupName"], "vpc_id": group.get("VpcId", ""),
                "ingress": single_rules(group.get("IpPermissions", [])),
                "egress": single_rules(group.get("IpPermissionsEgress", []))}  # fmt: skip

    def changes(self, state: dict[str, Any]) -> list[str]:
        if not state["exists"]:
            return []
        if state["name"] != "default":
            raise ActionError(f"{state['group_id']} is {state['name']!r}, not a VPC's default security group")
        gid = state["group_id"]
        return [f"revoke ingress to {gid}: {describe(r)}" for r in state["ingress"]] + [
            f"revoke egress from {gid}: {describe(r)}" for r in state["egress"]
        ]

    def change(self, state: dict[str, Any]) -> dict[str, Any]:
        ec2, gid = self.client("ec2"), state["group_id"]
        for direction, revoke in (("ingress", ec2.revoke_security_group_ingress),
                                  ("egress", ec2.revoke_security_group_egress)):  # fmt: skip
            for rule in state[direction]:
                try:
                    revoke(GroupId=gid, IpPermissions=[rule])
                except ClientError as exc:
                    if error_code(exc) != "InvalidPermission.NotFound":  # revoked meanwhile: fine
                        raise
        return {"ingress": state["ingress"], "egress": state["egress"]}

    def undo(self, before: dict[str, Any], applied: dict[str, Any]) -> None:
        ec2, gid = self.client("ec2"), before["group_id"]
        with gone_on_revert(f"cannot restore the rules of {gid}: it no longer exists"):
            for direction, authorize in (("ingress", ec2.authorize_security_group_ingress),
                                         ("egress", ec2.authorize_security_group_egress)):  # fmt: skip
                for rule in applied.get(direction, []):
                    try:
                        authorize(GroupId=gid, IpPermissions=[rule])
                    except ClientError as exc:
                        if error_code(exc) != "InvalidPermission.Duplicate":  # put back meanwhile: fine
                            raise
