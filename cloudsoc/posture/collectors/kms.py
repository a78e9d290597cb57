"""KMS: the keys, each described (filed under its key id), and the rotation status of the keys that
can rotate automatically: customer-managed, symmetric, key material from KMS, enabled."""

from __future__ import annotations

from typing import Any

from cloudsoc.posture.collector import CollectContext, collector, names


@collector("kms")
def collect(c: CollectContext) -> None:
    keys = c.pages("ListKeys")
    for key in names(keys and keys.get("Keys"), "KeyId"):
        if not c.wanted(key):
            continue
        described = c.call("DescribeKey", key, KeyId=key)
        if described and rotatable(described["KeyMetadata"]):
            c.call("GetKeyRotationStatus", key, KeyId=key)


def rotatable(meta: dict[str, Any]) -> bool:
    """Automatic rotation applies to this key (AWS-managed keys rotate on their own; asymmetric, HMAC
    and imported keys cannot; a disabled key's status is not asked for)."""
    spec = meta.get("KeySpec") or meta.get("CustomerMasterKeySpec")
    return (
        meta.get("KeyManager") == "CUSTOMER"
        and spec == "SYMMETRIC_DEFAULT"
        and meta.get("Origin", "AWS_KMS") == "AWS_KMS"
        and meta.get("KeyState") == "Enabled"
    )
