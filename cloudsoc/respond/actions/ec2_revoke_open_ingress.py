"""Close a security group to the internet: revoke the ingress ranges open to 0.0.0.0/0 and ::/0.

Only those ranges go; the rest of each permission (other CIDRs, groups, prefix lists) stays, so
traffic from the organization's own networks keeps flowing.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from cloudsoc.aws.api import error_code
from cloudsoc.respond.action import Action, ActionError, ActionParams, action
from cloudsoc.respond.actions._aws import is_not_found
from cloudsoc.respond.actions._ec2 import find_group, traffic

ANYWHERE_V4 = "0.0.0.0/0"
ANYWHERE_V6 = "::/0"


class RevokeOpenIngressParams(ActionParams):
    group_id: str
    # only the rules that reach one of these ports (the ones a posture check failed on); empty: every rule
    ports: list[int] = []


def reaches(perm: dict[str, Any], ports: list[int]) -> bool:
    """Whether a permission admits traffic to any of ``ports`` (all protocols admit every port)."""
    if not ports or perm.get("IpProtocol") in ("-1", -1):
        return True
    lo, hi = perm.get("FromPort", 0), perm.get("ToPort", 65535)
    lo, hi = (0, 65535) if lo in (None, -1) else (lo, hi)
    return any(lo <= p <= hi for p in ports)


def open_parts(permissions: list[dict[str, Any]], ports: list[int] | None = None) -> list[dict[str, Any]]:
    """For each permission with an open range (reaching ``ports``, when given), the same permission
    holding only its open ranges (descriptions kept, so a revert puts them back as they were)."""
    out = []
    for perm in permissions:
        if not reaches(perm, ports or []):
            continue
        v4 = [r for r in perm.get("IpRanges", []) if r.get("CidrIp") == ANYWHERE_V4]
        v6 = [r for r in perm.get("Ipv6Ranges", []) if r.get("CidrIpv6") == ANYWHERE_V6]
        if not v4 and not v6:
            continue
        part: dict[str, Any] = {"IpProtocol": perm["IpProtocol"], "IpRanges": v4, "Ipv6Ranges": v6}
        for port in ("FromPort", "ToPort"):
            if port in perm:
                part[port] = perm[port]
        out.append(part)
    return out


def _without_descriptions(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def strip(ranges: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in r.items() if k != "Description"} for r in ranges]

    return [p | {"IpRanges": strip(p["IpRanges"]), "Ipv6Ranges": strip(p["Ipv6Ranges"])} for p in parts]


def _single_ranges(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for p in parts:
        out += [p | {"IpRanges": [r], "Ipv6Ranges": []} for r in p["IpRanges"]]
        out += [p | {"IpRanges": [], "Ipv6Ranges": [r]} for r in p["Ipv6Ranges"]]
    return out


def _describe(part: dict[str, Any]) -> str:
    ranges = [r["CidrIp"] for r in part["IpRanges"]] + [r["CidrIpv6"] for r in part["Ipv6Ranges"]]
    return f"{traffic(part)} from {', '.join(ranges)}"


@action
class RevokeOpenIngress(Action[RevokeOpenIngressParams]):
    name = "ec2.revoke_open_ingress"
    summary = ("Revoke the security group ingress ranges open to the internet (0.0.0.0/0, ::/0): every one, "
               "or those reaching the given ports")  # fmt: skip
    permissions = ("ec2:DescribeSecurityGroups", "ec2:RevokeSecurityGroupIngress")
    revert_permissions = ("ec2:DescribeSecurityGroups", "ec2:AuthorizeSecurityGroupIngress")
    params_model = RevokeOpenIngressParams

    def read(self) -> dict[str, Any]:
        gid = self.params.group_id
        group = find_group(self.client("ec2"), gid)
        if group is None:
            return {"group_id": gid, "exists": False, "ingress": []}
        return {"group_id": gid, "exists": True, "vpc_id": group.get("VpcId", ""),
                "ingress": group.get("IpPermissions", [])}  # fmt: skip

    def changes(self, state: dict[str, Any]) -> list[str]:
        gid = state["group_id"]
        return [
            f"revoke ingress to {gid}: {_describe(p)}"
            for p in open_parts(state["ingress"], self.params.ports)
        ]

    def change(self, state: dict[str, Any]) -> dict[str, Any]:
        revoked = open_parts(state["ingress"], self.params.ports)
        self.client("ec2").revoke_security_group_ingress(
            GroupId=state["group_id"], IpPermissions=_without_descriptions(revoked)
        )
        return {"revoked": revoked}

    def undo(self, before: dict[str, Any], applied: dict[str, Any]) -> None:
        ec2 = self.client("ec2")
        for rule in _single_ranges(
            applied.get("revoked", [])
        ):  # one by one: a rule put back meanwhile skips only itself
            try:
                ec2.authorize_security_group_ingress(GroupId=before["group_id"], IpPermissions=[rule])
            except ClientError as exc:
                if error_code(exc) == "InvalidPermission.Duplicate":
                    continue
                if is_not_found(exc):
                    raise ActionError(
                        f"cannot restore ingress: {before['group_id']} no longer exists"
                    ) from exc
                raise
