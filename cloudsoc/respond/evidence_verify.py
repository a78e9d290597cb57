"""What makes an incident's evidence trustworthy: the canonical bytes that entries and heads are hashed
and signed over, the Ed25519 public-key helpers, and the checks that verify a chain against a key.

The locker (``cloudsoc.respond.evidence``) writes chains that pass these checks and runs them before
it appends; an export is checked with them alone (``cloudsoc.respond.evidence_export``). The format
itself is described in the locker's module documentation.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, Field, ValidationError, computed_field

from cloudsoc.respond.evidence_store import ARTIFACTS, HEAD, EvidenceError, EvidenceSource

ENTRY_DOMAIN = b"cloudsoc-evidence-entry:"  # signatures of entries and heads can never be swapped
HEAD_DOMAIN = b"cloudsoc-evidence-head:"
Op = Literal["add", "read", "export"]


class Entry(BaseModel):
    """One link of an incident's chain."""

    seq: int
    prev_hash: str
    op: Op
    incident: int
    kind: str
    name: str
    sha256: str | None = None
    size: int | None = None
    media_type: str | None = None
    at: datetime
    actor: str
    reason: str
    detail: dict[str, Any] = Field(default_factory=dict)
    hash: str
    sig: str


class Verification(BaseModel):
    incident_id: int
    location: str
    problems: list[str] = Field(default_factory=list)
    entries: int = 0
    artifacts: int = 0
    key_fingerprint: str  # the key the signatures were checked against
    signed_by: str | None = None  # the fingerprint the head names

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


# ---- keys and canonical bytes ---------------------------------------------------------------------------


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def genesis(incident: int) -> str:
    """What the first entry links to: binds a chain to its incident."""
    return sha256_hex(f"cloudsoc-evidence:incident:{int(incident)}".encode())


def fingerprint(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "SHA256:" + sha256_hex(raw)


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_public(pem: bytes) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as exc:
        raise EvidenceError(f"not a PEM public key: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise EvidenceError("the public key is not an Ed25519 key")
    return key


def signature_ok(key: Ed25519PublicKey, sig: object, message: bytes) -> bool:
    try:
        key.verify(base64.b64decode(str(sig), validate=True), message)
    except (InvalidSignature, ValueError):
        return False
    return True


# ---- the checks -----------------------------------------------------------------------------------------


def check(incident: int, source: EvidenceSource, key: Ed25519PublicKey) -> Verification:
    """Every problem of one incident's evidence in ``source``, checked against ``key``."""
    problems: list[str] = []
    lines = source.entry_lines(incident)
    if not lines and source.get_head(incident) is None:
        problems.append(f"no evidence of incident {incident} at {source.where(incident)}")
    entries = _check_entries(incident, lines, key, problems)
    signed_by = check_head(incident, source.get_head(incident), entries, key, problems)
    listed = _check_artifacts(incident, source, entries, problems)
    problems += [f"unexpected file {name}" for name in source.extra_files(incident)]
    problems += source.integrity_problems(incident)
    return Verification(incident_id=incident, location=source.where(incident), problems=problems, entries=len(entries),
                        artifacts=listed, key_fingerprint=fingerprint(key), signed_by=signed_by)  # fmt: skip


def parse_object(raw: bytes) -> dict[str, Any] | None:
    """A JSON object, or None for anything else."""
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _label(entry: dict[str, Any], pos: int | None = None) -> str:
    if pos is not None and not isinstance(entry.get("seq"), int):
        return f"manifest line {pos}"
    return f"entry {entry.get('seq')} ({entry.get('op')} {entry.get('kind')} {entry.get('name')!r})"


def _check_entries(incident: int, lines: list[bytes], key: Ed25519PublicKey,
                   problems: list[str]) -> list[dict[str, Any] | None]:  # fmt: skip
    out: list[dict[str, Any] | None] = []
    prev: str | None = genesis(incident)
    for pos, line in enumerate(lines, 1):
        entry = parse_object(line)
        if entry is None:
            problems.append(f"manifest line {pos}: not a manifest entry")
            prev = None  # the next entry cannot be linked to anything known
        else:
            problems += entry_problems(incident, pos, entry, prev, key)
            prev = str(entry.get("hash"))
        out.append(entry)
    return out


def entry_problems(incident: int, pos: int, entry: dict[str, Any], prev: str | None,
                    key: Ed25519PublicKey) -> list[str]:  # fmt: skip
    label, out = _label(entry, pos), []
    body = {k: v for k, v in entry.items() if k not in ("hash", "sig")}
    digest = sha256_hex(canonical(body))
    if digest != entry.get("hash"):
        out.append(f"{label}: edited (its content no longer matches its recorded hash)")
    elif not signature_ok(key, entry.get("sig"), ENTRY_DOMAIN + digest.encode()):
        out.append(f"{label}: its signature does not match the key {fingerprint(key)}")
    if body.get("seq") != pos:
        out.append(f"{label}: found at position {pos} (entries removed, inserted or reordered)")
    if prev is not None and body.get("prev_hash") != prev:
        out.append(f"{label}: does not link to the entry before it (removed, inserted or reordered)")
    if body.get("incident") != incident:
        out.append(f"{label}: belongs to incident {body.get('incident')}, not {incident}")
    try:
        Entry.model_validate(entry)
    except ValidationError as exc:
        out.append(f"{label}: malformed ({exc.error_count()} invalid fields)")
    return out


def check_head(incident: int, raw: bytes | None, entries: list[dict[str, Any] | None],
                key: Ed25519PublicKey, problems: list[str]) -> str | None:  # fmt: skip
    if raw is None:
        if entries:
            problems.append(f"{HEAD} is missing: nothing signs the chain's length")
        return None
    head = parse_object(raw)
    if head is None:
        problems.append(f"{HEAD} is not readable")
        return None
    fp, signed = fingerprint(key), {k: v for k, v in head.items() if k != "signature"}
    if not signature_ok(key, head.get("signature"), HEAD_DOMAIN + canonical(signed)):
        problems.append(f"{HEAD}: the head signature does not match the key {fp} (replaced, or made with "
                        f"another key: it names {head.get('key')})")  # fmt: skip
    elif head.get("key") != fp:
        problems.append(f"{HEAD}: names signing key {head.get('key')}, checked against {fp}")
    if head.get("incident") != incident:
        problems.append(f"{HEAD}: belongs to incident {head.get('incident')}, not {incident}")
    n = head.get("entries")
    if not isinstance(n, int) or n < 0:
        problems.append(f"{HEAD}: no entry count")
    elif n > len(entries):
        problems.append(
            f"chain truncated: the signed head covers {n} entries, the manifest holds {len(entries)}"
        )
    elif n and (entries[n - 1] or {}).get("hash") != head.get("head"):
        problems.append(f"entry {n}: its hash is not the signed head's (the chain before it was changed)")
    return str(head.get("key")) if head.get("key") else None


def _check_artifacts(incident: int, source: EvidenceSource, entries: list[dict[str, Any] | None],
                     problems: list[str]) -> int:  # fmt: skip
    listed: dict[str, dict[str, Any]] = {}
    for e in entries:
        if e is not None and e.get("op") == "add":
            listed.setdefault(str(e.get("sha256")), e)
        elif e is not None and e.get("op") == "read" and e.get("sha256") not in listed:
            problems.append(f"{_label(e)}: reads an artifact no earlier entry added")
    present = set(source.artifact_names(incident))
    for sha, e in listed.items():
        what = f"artifact {e.get('name')!r} ({sha})"
        data = source.get_artifact(incident, sha) if sha in present else None
        if data is None:
            problems.append(f"{what}: missing")
        elif (digest := sha256_hex(data)) != sha:
            problems.append(f"{what}: changed (its bytes now hash to {digest})")
        elif len(data) != e.get("size"):
            problems.append(f"{what}: {len(data)} bytes, the manifest says {e.get('size')}")
    problems += [f"unlisted artifact file {ARTIFACTS}/{name}" for name in sorted(present - listed.keys())]
    return len(listed)
