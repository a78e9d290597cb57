"""What the EC2 checks share: resource ARNs, instance states, and which rules open a port to the internet."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from cloudsoc.posture.check import CheckContext, Result

ANYWHERE = {"ipv4": "0.0.0.0/0", "ipv6": "::/0"}
ADMIN_PORTS = (22, 3389)
CIFS_PORTS = (139, 445)
# Protocols whose rules name ports ("-1" is every protocol, hence every port).
_PORTED = {"-1", "tcp", "6", "udp", "17"}


def arn(ctx: CheckContext, kind: str, ident: str, *, owned: bool = True) -> str:
    """``arn:aws:ec2:<region>:<account>:<kind>/<id>`` (snapshots and images carry no account)."""
    return f"arn:aws:ec2:{ctx.region}:{ctx.account if owned else ''}:{kind}/{ident}"


def ident(resource_arn: str) -> str:
    return resource_arn.rsplit("/", 1)[-1]


def instances(ctx: CheckContext, states: Iterable[str] = ("running",)) -> list[dict[str, Any]]:
    wanted = set(states)
    answer = ctx.get("ec2", "DescribeInstances")
    return [i for r in answer.get("Reservations", []) for i in r.get("Instances", [])
            if i.get("State", {}).get("Name") in wanted]  # fmt: skip


def security_groups(ctx: CheckContext) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = ctx.get("ec2", "DescribeSecurityGroups")["SecurityGroups"]
    return out


def group_arn(ctx: CheckContext, group: dict[str, Any]) -> str:
    return str(group.get("SecurityGroupArn") or arn(ctx, "security-group", group["GroupId"]))


def covers(protocol: str, low: Any, high: Any, port: int) -> bool:
    """Whether a rule of ``protocol`` over ports ``low``-``high`` lets ``port`` through (no range, or
    -1, is every port)."""
    if str(protocol).lower() not in _PORTED:
        return False
    if str(protocol) == "-1" or low in (None, -1) or high in (None, -1):
        return True
    return int(low) <= port <= int(high)


def open_ports(permissions: list[dict[str, Any]], ports: Iterable[int], family: str) -> list[dict[str, Any]]:
    """The ingress permissions reachable from anywhere (``family`` "ipv4" or "ipv6") on any of
    ``ports``, as evidence: protocol, port range, the open range and the ports it exposes."""
    field, key = ("IpRanges", "CidrIp") if family == "ipv4" else ("Ipv6Ranges", "CidrIpv6")
    found = []
    for perm in permissions:
        if not any(r.get(key) == ANYWHERE[family] for r in perm.get(field, [])):
            continue
        proto, low, high = perm.get("IpProtocol", ""), perm.get("FromPort"), perm.get("ToPort")
        hit = [p for p in ports if covers(proto, low, high, p)]
        if hit:
            found.append({"protocol": proto, "from_port": low, "to_port": high, "source": ANYWHERE[family],
                          "ports": hit})  # fmt: skip
    return found


def open_groups(ctx: CheckContext, ports: Iterable[int], families: Iterable[str], what: str,
                where: str) -> Iterator[Result]:  # fmt: skip
    """Each security group's verdict: FAIL when an ingress permission from anywhere (``families``:
    "ipv4", "ipv6") reaches any of ``ports``; ``what`` names the ports, ``where`` the sources."""
    for group in security_groups(ctx):
        found = [f for family in families for f in open_ports(group.get("IpPermissions", []), ports, family)]
        yield ctx.verdict(not found, group_arn(ctx, group), f"no {what} port is open to {where}",
                          f"{what} ports are open to {where}", group_name=group.get("GroupName"),
                          open_ingress=found)  # fmt: skip


def revoke_fix(ports: Iterable[int]) -> Callable[[Result], dict[str, Any]]:
    """``fix_params`` of ``ec2.revoke_open_ingress``: the failing group's open ingress to ``ports``."""
    wanted = tuple(ports)

    def params(r: Result) -> dict[str, Any]:
        return {
            "account_id": r.account,
            "region": r.region,
            "group_id": ident(r.resource),
            "ports": list(wanted),
        }

    return params


def shared_accounts(permissions: list[dict[str, Any]]) -> list[str]:
    """The accounts a snapshot or image is shared with by id (``{"UserId": ...}`` entries)."""
    return sorted(str(p["UserId"]) for p in permissions if "UserId" in p)


def unshare_params(result: Any, id_field: str) -> dict[str, Any]:
    """Parameters of ``ec2.unshare_snapshot``/``ec2.unshare_image``: the FAIL is about public access,
    so the accounts it is shared with by name keep theirs."""
    return {"account_id": result.account, "region": result.region, id_field: ident(result.resource),
            "allowed_accounts": result.evidence.get("shared_with_accounts") or []}  # fmt: skip
