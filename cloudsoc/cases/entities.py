"""What an incident is about: the actors and resources named in the events of its alerts.

Actors (who did it: users, roles, long-term access keys, source addresses) are kept apart from
targets (what they changed, launched or ran commands on), because response acts differently on each:
an actor's key is deactivated, a changed bucket is locked down. Resources an intruder only read (user
data of every instance during discovery) are not targets: containment must not isolate its victims.
Playbooks read these lists from the incident document.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

ACTOR_KEYS = ("principals", "users", "roles", "access_keys", "source_ips")
TARGET_KEYS = ("instances", "buckets", "security_groups", "trails", "detectors", "snapshots", "images",
               "db_snapshots", "vpcs", "target_users", "target_roles", "created_access_keys")  # fmt: skip
KEYS = ACTOR_KEYS + TARGET_KEYS

# requestParameters / responseElements fields naming a target, by entity list
_REQUEST_FIELDS: dict[str, tuple[str, ...]] = {
    "instances": ("instanceId",),
    "buckets": ("bucketName",),
    "security_groups": ("groupId",),
    "trails": ("name", "trailName"),
    "detectors": ("detectorId",),
    "snapshots": ("snapshotId",),
    "images": ("imageId",),
    "db_snapshots": ("dBSnapshotIdentifier",),
    "vpcs": ("vpcId",),
    "target_users": ("userName",),
    "target_roles": ("roleName",),
}
_TRAIL_SOURCES = {"cloudtrail.amazonaws.com"}


def empty() -> dict[str, list[str]]:
    return {k: [] for k in KEYS}


def merge(*parts: dict[str, list[str]]) -> dict[str, list[str]]:
    out = empty()
    for part in parts:
        for k in KEYS:
            out[k] = _unique([*out[k], *part.get(k, [])])
    return out


def overlaps(a: dict[str, list[str]], b: dict[str, list[str]]) -> bool:
    """Do two entity sets share an actor or a touched resource (source addresses alone do not count:
    unrelated people share NAT gateways and VPN exits)."""
    return any(set(a.get(k, ())) & set(b.get(k, ())) for k in KEYS if k != "source_ips")


def from_cloudtrail(records: Iterable[dict[str, Any]]) -> dict[str, list[str]]:
    out = empty()
    for rec in records:
        _actor(rec.get("userIdentity") or {}, out)
        if (ip := rec.get("sourceIPAddress")) and not str(ip).endswith("amazonaws.com"):
            out["source_ips"].append(str(ip))
        if rec.get("readOnly") is not True:  # what was read is not what was changed: reads name no targets
            _targets(rec, out)
    return {k: _unique(v) for k, v in out.items()}


def from_guardduty(findings: Iterable[dict[str, Any]]) -> dict[str, list[str]]:
    out = empty()
    for f in findings:
        res = f.get("Resource") or f.get("resource") or {}
        if iid := (res.get("InstanceDetails") or {}).get("InstanceId"):
            out["instances"].append(iid)
        key = res.get("AccessKeyDetails") or {}
        if (k := key.get("AccessKeyId")) and str(k).startswith("AKIA"):
            out["access_keys"].append(k)
        if key.get("UserType") == "IAMUser" and key.get("UserName"):
            out["users"].append(key["UserName"])
        if key.get("UserType") == "AssumedRole" and key.get("UserName"):
            out["roles"].append(key["UserName"])
        for bucket in res.get("S3BucketDetails") or []:
            if name := bucket.get("Name"):
                out["buckets"].append(name)
    return {k: _unique(v) for k, v in out.items()}


def from_raw(source: str, raws: Iterable[str]) -> dict[str, list[str]]:
    records = [orjson.loads(r) for r in raws if r]
    if source == "cloudtrail":
        return from_cloudtrail(records)
    if source == "guardduty":
        return from_guardduty(records)
    return empty()


def _actor(ui: dict[str, Any], out: dict[str, list[str]]) -> None:
    if arn := ui.get("arn"):
        out["principals"].append(arn)
    kind = ui.get("type")
    if kind == "IAMUser" and ui.get("userName"):
        out["users"].append(ui["userName"])
    issuer = (ui.get("sessionContext") or {}).get("sessionIssuer") or {}
    if kind == "AssumedRole" and issuer.get("type") == "Role" and issuer.get("userName"):
        out["roles"].append(issuer["userName"])
        # EC2 names an instance profile's session after the instance: that instance is compromised
        session = str(ui.get("arn", "")).rsplit("/", 1)[-1]
        if session.startswith("i-"):
            out["instances"].append(session)
    key = ui.get("accessKeyId")
    if key and str(key).startswith("AKIA"):  # temporary (ASIA) keys cannot be deactivated, only revoked
        out["access_keys"].append(key)


def _targets(rec: dict[str, Any], out: dict[str, list[str]]) -> None:
    req = rec.get("requestParameters") or {}
    if isinstance(req, dict):
        for entity, fields in _REQUEST_FIELDS.items():
            for f in fields:
                if f in ("name", "trailName") and rec.get("eventSource") not in _TRAIL_SOURCES:
                    continue
                _add_values(out[entity], req.get(f))
        for item in (req.get("instancesSet") or {}).get("items") or []:
            _add_values(out["instances"], item.get("instanceId") if isinstance(item, dict) else None)
    resp = rec.get("responseElements") or {}
    if isinstance(resp, dict):
        key = (resp.get("accessKey") or {}).get("accessKeyId")
        _add_values(out["created_access_keys"], key)
        for item in (resp.get("instancesSet") or {}).get("items") or []:
            _add_values(out["instances"], item.get("instanceId") if isinstance(item, dict) else None)


def _add_values(into: list[str], value: Any) -> None:
    if isinstance(value, str) and value:
        into.append(value)
    elif isinstance(value, list):
        into.extend(v for v in value if isinstance(v, str) and v)


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
