"""The inventory: what the posture collectors read from AWS, as the API answered it.

Every value is an API response (paginated pages merged, ``ResponseMetadata`` dropped, times as ISO
strings) filed under account -> region -> service -> operation -> key. The key names the resource a
per-resource call was about (a bucket, a user, a trail) and is ``""`` for account-wide calls. Global
services (IAM, S3, Organizations) are filed under the region ``"global"``.

Three outcomes are kept apart, because a check must never read a failed call as a clean answer:
- a value: the call answered;
- ``None``: the call answered that the setting does not exist (no bucket policy, no password policy);
- an error record: the call failed (AccessDenied, not implemented, throttled out). Reading it raises
  ``MissingData`` naming the IAM permission, which the check runner turns into ERROR.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from cloudsoc.core.errors import CloudSOCError

SCHEMA = 1
GLOBAL = "global"
GLOBAL_SERVICES = frozenset({"iam", "s3", "s3control", "organizations", "account"})

# IAM service prefix where it differs from the boto3 service name.
_PREFIX = {"s3control": "s3", "efs": "elasticfilesystem", "accessanalyzer": "access-analyzer",
           "logs": "logs", "ec2": "ec2"}  # fmt: skip
# IAM action where it differs from "<prefix>:<operation>".
_PERMISSION = {
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "GetPublicAccessBlock"): "s3:GetBucketPublicAccessBlock",
    ("s3", "GetBucketEncryption"): "s3:GetEncryptionConfiguration",
    ("s3", "GetBucketLifecycleConfiguration"): "s3:GetLifecycleConfiguration",
    ("s3", "GetObjectLockConfiguration"): "s3:GetBucketObjectLockConfiguration",
    ("s3control", "GetPublicAccessBlock"): "s3:GetAccountPublicAccessBlock",
}


def permission(service: str, operation: str) -> str:
    """The IAM action a call needs, as an ERROR result names it."""
    return _PERMISSION.get((service, operation), f"{_PREFIX.get(service, service)}:{operation}")


def region_of(service: str, region: str) -> str:
    return GLOBAL if service in GLOBAL_SERVICES else region


class MissingData(CloudSOCError):
    """A check needed data the inventory does not hold: the call failed or was never made."""

    def __init__(self, service: str, operation: str, key: str, error: dict[str, Any] | None) -> None:
        self.service, self.operation, self.key = service, operation, key
        self.permission = permission(service, operation)
        self.error = error
        why = f"{error.get('code')}: {error.get('message', '')}".strip() if error else "not collected"
        about = f" for {key}" if key else ""
        super().__init__(f"{self.permission}{about} failed ({why})")


Call = tuple[str, str, str, str, str]  # account, region (as filed), service, operation, key


@dataclass
class Inventory:
    """One collection run over an organization (or the part of it asked for)."""

    id: str
    started: str
    finished: str = ""
    regions: list[str] = field(default_factory=list)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> {"name", "tier", "data"}
    # the failed calls, one record each (the latest failure), in the order they failed
    _failed: dict[Call, dict[str, Any]] = field(default_factory=dict, init=False, repr=False)

    @property
    def errors(self) -> list[dict[str, Any]]:
        """Every failed call: account, region, service, operation, key, code, message, permission."""
        return list(self._failed.values())

    # -- writing (collectors, through CollectContext) ------------------------------------------
    def add_account(self, account: str, name: str = "", tier: str = "") -> None:
        self.accounts.setdefault(account, {"name": name or account, "tier": tier, "data": {}})

    def put(self, account: str, region: str, service: str, operation: str, key: str, value: Any) -> None:
        """File an answer; it replaces the failure of an earlier collection of the same call."""
        self._ops(account, region, service, operation)[key] = value
        self._failed.pop((account, region_of(service, region), service, operation, key), None)

    def fail(self, account: str, region: str, service: str, operation: str, key: str, code: str,
             message: str) -> None:  # fmt: skip
        """Record a failed call. A later success for the same call replaces it (a re-collection)."""
        self._ops(account, region, service, operation).pop(key, None)
        call = (account, region_of(service, region), service, operation, key)
        self._failed.pop(call, None)  # a repeated failure moves to the end, as the latest
        self._record(call, code, message[:500])

    def _record(self, call: Call, code: str, message: str) -> None:
        account, region, service, operation, key = call
        self._failed[call] = {"account": account, "region": region, "service": service, "operation": operation,
                              "key": key, "code": code, "message": message,
                              "permission": permission(service, operation)}  # fmt: skip

    def clear(self, account: str, region: str, service: str) -> None:
        """Forget one service's data in one place before collecting it again."""
        reg = region_of(service, region)
        self.accounts[account]["data"].get(reg, {}).pop(service, None)
        for call in [c for c in self._failed if c[:3] == (account, reg, service)]:
            del self._failed[call]

    def _ops(self, account: str, region: str, service: str, operation: str) -> dict[str, Any]:
        data = self.accounts[account]["data"]
        ops: dict[str, Any] = data.setdefault(region_of(service, region), {}).setdefault(service, {})
        out: dict[str, Any] = ops.setdefault(operation, {})
        return out

    # -- reading (checks, through CheckContext) --------------------------------------------------
    def get(self, account: str, region: str, service: str, operation: str, key: str = "") -> Any:
        """The recorded answer; ``None`` when the setting does not exist; MissingData when the call failed."""
        reg = region_of(service, region)
        ops = self.accounts.get(account, {}).get("data", {}).get(reg, {}).get(service, {}).get(operation, {})
        if key in ops:
            return ops[key]
        raise MissingData(service, operation, key, self.error(account, region, service, operation, key))

    def error(
        self, account: str, region: str, service: str, operation: str, key: str = ""
    ) -> dict[str, Any] | None:
        """The record of the call's failure; ``None`` when it answered or was never made."""
        return self._failed.get((account, region_of(service, region), service, operation, key))

    def keys(self, account: str, region: str, service: str, operation: str) -> list[str]:
        reg = region_of(service, region)
        ops = self.accounts.get(account, {}).get("data", {}).get(reg, {}).get(service, {}).get(operation, {})
        return sorted(ops)

    # -- files ---------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "id": self.id, "started": self.started, "finished": self.finished,
                "regions": self.regions, "accounts": self.accounts, "errors": self.errors}  # fmt: skip

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Inventory:
        if doc.get("schema") != SCHEMA:
            raise CloudSOCError(f"inventory schema {doc.get('schema')!r} is not {SCHEMA}")
        inv = cls(id=doc["id"], started=doc["started"], finished=doc.get("finished", ""),
                  regions=list(doc.get("regions", [])), accounts=doc["accounts"])  # fmt: skip
        for e in doc["errors"]:
            inv._record(
                (e["account"], e["region"], e["service"], e["operation"], e["key"]), e["code"], e["message"]
            )
        return inv

    def save(self, path: Path) -> str:
        """Write as gzipped JSON; return the SHA-256 of the file (the audit bundle lists it)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        body = gzip.compress(orjson.dumps(self.to_dict(), option=orjson.OPT_SORT_KEYS), mtime=0)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(body)
        tmp.replace(path)
        return hashlib.sha256(body).hexdigest()

    @classmethod
    def load(cls, path: Path) -> Inventory:
        return cls.from_bytes(path.read_bytes())

    @classmethod
    def from_bytes(cls, raw: bytes) -> Inventory:
        """An inventory file's bytes (gzipped, as ``save`` writes them, or plain JSON)."""
        return cls.from_dict(orjson.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw))
