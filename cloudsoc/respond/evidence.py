"""The evidence locker: every artifact of an incident, content-addressed, in a hash chain that is signed.

Each incident has a manifest: an ordered list of entries, one per event of custody - ``add`` (an
artifact stored), ``read`` (an artifact handed to someone) and ``export`` (the incident's evidence
copied out). An entry holds ``seq``, ``prev_hash`` (the hash of the entry before it; the first one
links to a genesis value derived from the incident id), ``op``, ``incident``, the artifact's
``kind``, ``name``, ``sha256``, ``size`` and ``media_type``, ``at``, ``actor``, ``reason`` and
``detail``. Its ``hash`` is the SHA-256 of its canonical JSON (keys sorted, no whitespace, UTF-8,
without ``hash`` and ``sig``), so the custody log is as tamper-evident as the artifacts themselves.

Signing (Ed25519, key in ``<home>/keys/evidence-ed25519.pem``) happens twice, on purpose:

* every entry carries ``sig``, a signature of its own hash. An entry is thereby authentic on its own:
  a writer that crashed between appending an entry and re-signing the head leaves a tail the next
  writer can adopt without ever signing bytes it did not write itself, and an entry forged or
  replayed from elsewhere fails on its own.
* ``head.json`` signs the number of entries and the last entry's hash, rewritten on each append. Entry
  signatures alone cannot show that entries were cut off the end (a prefix of a signed chain is still
  a signed chain); the head fixes the length.

Any edit, removal, insertion or reordering of entries breaks a hash, a link, a position or the head;
any change to an artifact breaks its content address; a file nobody listed is reported; a signature
made with another key fails against the home's key. What a local folder cannot show is a rollback of
the manifest and head together to an earlier signed state: the S3 backend (Object Lock, COMPLIANCE)
is the answer to that, since no locked version can be deleted or shortened.

The checks live in ``evidence_verify``, the storage backends in ``evidence_store``, and exports (written
here, read back and verified on their own) in ``evidence_export``.
"""

from __future__ import annotations

import base64
import getpass
import json
import mimetypes
import os
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import BaseModel, ValidationError

from cloudsoc.core.errors import ConfigError
from cloudsoc.core.timeutil import utcnow
from cloudsoc.respond.evidence_export import PUBLIC_KEY, README, check_destination, readme, write_export
from cloudsoc.respond.evidence_store import (
    ARTIFACTS,
    HEAD,
    MANIFEST,
    EntryConflict,
    EvidenceError,
    EvidenceStore,
    LocalStore,
    S3Store,
    ensure_bucket,
)
from cloudsoc.respond.evidence_verify import (
    ENTRY_DOMAIN,
    HEAD_DOMAIN,
    Entry,
    Verification,
    canonical,
    check,
    check_head,
    entry_problems,
    fingerprint,
    genesis,
    parse_object,
    public_pem,
    sha256_hex,
)

if TYPE_CHECKING:
    import boto3

    from cloudsoc.core.config import Home

KEY_FILE = Path("keys") / "evidence-ed25519.pem"


class Artifact(BaseModel):
    sha256: str
    size: int
    name: str
    kind: str
    media_type: str
    seq: int
    at: datetime
    actor: str
    reason: str

    @classmethod
    def of(cls, e: Entry) -> Artifact:
        return cls(sha256=e.sha256 or "", size=e.size or 0, name=e.name, kind=e.kind,
                   media_type=e.media_type or "", seq=e.seq, at=e.at, actor=e.actor, reason=e.reason)  # fmt: skip


# ---- the key ------------------------------------------------------------------------------------------


class Signer:
    """The home's evidence key, made on first use (0600, in a 0700 folder)."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self.private = private
        self.public = private.public_key()
        self.fingerprint = fingerprint(self.public)

    @classmethod
    def load(cls, path: Path) -> Signer:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            pem = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            try:  # O_EXCL: of two processes making the key at once, one wins and both use its key
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(pem)
            except FileExistsError:
                pass
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise EvidenceError(f"{path}: not an Ed25519 private key")
        return cls(key)

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self.private.sign(message)).decode()


# ---- the locker -----------------------------------------------------------------------------------------


class Locker:
    """One home's evidence. Writers (add, read, export) first check the chain they append to and refuse
    to extend one that fails verification: custody recorded on top of a tampered chain would be signed
    as if it were sound. ``verify`` then says what happened."""

    def __init__(self, store: EvidenceStore, signer: Signer) -> None:
        self.store = store
        self.signer = signer
        self._chains: dict[int, list[dict[str, Any]]] = {}  # entries already read from the store

    @classmethod
    def open(cls, home: Home, session: boto3.Session | None = None) -> Locker:
        """The locker the home's settings choose; ``session`` reaches the S3 bucket (default: the
        sandbox's cloudsoc identity when the home runs one, else the ambient AWS credentials)."""
        cfg = home.settings.evidence
        signer = Signer.load(home.root / KEY_FILE)
        if cfg.backend == "local":
            return cls(LocalStore(home.evidence), signer)
        if cfg.backend != "s3":
            raise ConfigError(f"evidence.backend {cfg.backend!r}: use local or s3")
        if not cfg.bucket:
            raise ConfigError("evidence.backend s3 needs evidence.bucket")
        sess = session or _default_session(home)
        ensure_bucket(sess, cfg.bucket, retention_days=cfg.retention_days)
        return cls(S3Store(sess, cfg.bucket, cfg.prefix, cfg.retention_days), signer)

    @property
    def key_fingerprint(self) -> str:
        return self.signer.fingerprint

    def add(self, incident_id: int, kind: str, name: str, data: bytes | dict[str, Any] | list[Any], *,
            actor: str, reason: str, media_type: str | None = None) -> Artifact:  # fmt: skip
        """Store an artifact; adding the same bytes under the same name again returns the first entry."""
        body, media = encode(data, name, media_type)
        sha = sha256_hex(body)
        self.store.put_artifact(incident_id, sha, body)  # first: no entry ever points at missing bytes
        fields = {"op": "add", "kind": kind, "name": name, "sha256": sha, "size": len(body),
                  "media_type": media, "detail": {}}  # fmt: skip
        entry = self._append(incident_id, fields, actor, reason, same=lambda e: _same_add(e, sha, name))
        return Artifact.of(Entry.model_validate(entry))

    def read(self, incident_id: int, sha256: str, *, actor: str, reason: str) -> bytes:
        """An artifact's bytes, checked against their address; the read is recorded in the custody log."""
        added = next((a for a in self.artifacts(incident_id) if a.sha256 == sha256), None)
        if added is None:
            raise EvidenceError(f"incident {incident_id} has no artifact {sha256}")
        data = self.store.get_artifact(incident_id, sha256)
        if data is None:
            raise EvidenceError(f"artifact {added.name!r} ({sha256}) is missing from {self.store.location}")
        if sha256_hex(data) != sha256:
            raise EvidenceError(f"artifact {added.name!r} ({sha256}) was changed: its bytes no longer match")
        fields = {"op": "read", "kind": added.kind, "name": added.name, "sha256": sha256, "size": len(data),
                  "media_type": added.media_type, "detail": {}}  # fmt: skip
        self._append(incident_id, fields, actor, reason)
        return data

    def artifacts(self, incident_id: int) -> list[Artifact]:
        return [Artifact.of(e) for e in self.custody(incident_id) if e.op == "add"]

    def custody(self, incident_id: int) -> list[Entry]:
        """Every entry of the incident's chain, in order (as stored: ``verify`` says whether to trust it)."""
        try:
            return [Entry.model_validate_json(line) for line in self.store.entry_lines(incident_id)]
        except ValidationError as exc:
            raise EvidenceError(f"incident {incident_id}: the manifest is damaged; verify it") from exc

    def incidents(self) -> list[int]:
        return self.store.incidents()

    def export(self, incident_id: int, dest: Path, *, actor: str, reason: str) -> Path:
        """Copy the incident's evidence out: a folder, or a .tar.gz when ``dest`` ends so. The export
        entry is appended first, so the copy carries the record of its own making."""
        dest = Path(dest)
        if not self.store.entry_lines(incident_id):
            raise EvidenceError(f"incident {incident_id} has no evidence")
        check_destination(dest)
        fields = {"op": "export", "kind": "export", "name": dest.name, "detail": {"to": str(dest.resolve())}}
        self._append(incident_id, fields, actor, reason)
        write_export(dest, incident_id, self._bundle(incident_id))
        return dest

    def verify(self, incident_id: int) -> Verification:
        """Check the incident's evidence where it is stored, against the home's key."""
        return check(incident_id, self.store, self.signer.public)

    # ---- appending ------------------------------------------------------------------------------------
    def _append(self, incident: int, fields: dict[str, Any], actor: str, reason: str,
                same: Callable[[dict[str, Any]], bool] | None = None) -> dict[str, Any]:  # fmt: skip
        if not actor.strip() or not reason.strip():
            raise EvidenceError("custody needs an actor and a reason")
        for _ in range(8):
            with self.store.lock(incident):
                chain = self._chain(incident)
                if same is not None and (found := next((e for e in chain if same(e)), None)):
                    return found
                prev = chain[-1]["hash"] if chain else genesis(incident)
                entry = self._seal({"seq": len(chain) + 1, "prev_hash": prev, "incident": int(incident),
                                    "at": utcnow().isoformat(), "actor": actor, "reason": reason, **fields})  # fmt: skip
                try:
                    self.store.append_entry(incident, entry["seq"], canonical(entry))
                except EntryConflict:  # another writer appended first: read its entries and retry
                    continue
                chain.append(entry)
                self.store.put_head(incident, self._head(incident, chain))
                return entry
        raise EvidenceError(f"incident {incident}: could not append to the evidence chain (busy)")

    def _seal(self, body: dict[str, Any]) -> dict[str, Any]:
        digest = sha256_hex(canonical(body))
        return {**body, "hash": digest, "sig": self.signer.sign(ENTRY_DOMAIN + digest.encode())}

    def _head(self, incident: int, chain: list[dict[str, Any]]) -> bytes:
        head = {"incident": int(incident), "entries": len(chain), "head": chain[-1]["hash"],
                "key": self.signer.fingerprint, "signed_at": utcnow().isoformat()}  # fmt: skip
        return canonical({**head, "signature": self.signer.sign(HEAD_DOMAIN + canonical(head))})

    def _chain(self, incident: int) -> list[dict[str, Any]]:
        """The chain to append to: entries already checked plus any new ones, checked now.

        Appending on top of a chain that fails its checks would sign over a forgery or a truncation,
        so that is refused. Entries past the signed head (a writer that stopped between appending and
        re-signing) are adopted: each carries the home's own signature. No head at all is adopted only
        for a first entry (a writer stopped before its first head); past that, a missing head would let
        a cut-off chain be signed as whole."""
        raw = self.store.get_head(incident)  # before the entries: they only grow, so it cannot be ahead
        chain = self._chains.setdefault(incident, [])
        problems: list[str] = []
        prev = chain[-1]["hash"] if chain else genesis(incident)
        for pos, line in enumerate(self.store.entry_lines(incident, start=len(chain)), len(chain) + 1):
            entry = parse_object(line)
            if entry is None:
                problems.append(f"manifest line {pos}: not a manifest entry")
                break
            problems += entry_problems(incident, pos, entry, prev, self.signer.public)
            chain.append(entry)
            prev = str(entry.get("hash"))
        if raw is not None or len(chain) > 1:
            check_head(incident, raw, list(chain), self.signer.public, problems)
        if problems:
            self._chains.pop(incident, None)
            raise EvidenceError(f"incident {incident}: refusing to append to evidence that fails verification: "
                                + "; ".join(problems))  # fmt: skip
        return chain

    def _bundle(self, incident: int) -> dict[str, bytes]:
        head = self.store.get_head(incident) or b""  # first: a writer elsewhere may append meanwhile
        lines = self.store.entry_lines(incident)
        files = {MANIFEST: b"".join(line + b"\n" for line in lines), HEAD: head,
                 PUBLIC_KEY: public_pem(self.signer.public)}  # fmt: skip
        for art in self.artifacts(incident):
            data = self.store.get_artifact(incident, art.sha256)
            if data is not None:
                files[f"{ARTIFACTS}/{art.sha256}"] = data
        files[README] = readme(incident, self.signer.fingerprint, len(lines)).encode()
        return files


def _same_add(entry: dict[str, Any], sha: str, name: str) -> bool:
    return entry.get("op") == "add" and entry.get("sha256") == sha and entry.get("name") == name


def _default_session(home: Home) -> boto3.Session:
    import boto3

    from cloudsoc.aws.sandbox import Sandbox

    sb = Sandbox(home.root)
    return sb.soc_session(sb.state()) if sb.status().get("running") else boto3.Session()


def encode(data: bytes | dict[str, Any] | list[Any], name: str, media_type: str | None) -> tuple[bytes, str]:
    """The bytes to store: JSON documents in one deterministic form, so re-adding one is recognised."""
    if isinstance(data, bytes | bytearray):
        guessed = "application/x-ndjson" if name.endswith(".jsonl") else mimetypes.guess_type(name)[0]
        return bytes(data), media_type or guessed or "application/octet-stream"
    text = json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False, default=_json_default)
    return text.encode() + b"\n", media_type or "application/json"


def _json_default(obj: object) -> object:
    if isinstance(obj, datetime | date):
        return obj.isoformat()
    if isinstance(obj, bytes):
        return base64.b64encode(obj).decode()
    if isinstance(obj, set | frozenset | tuple):
        return sorted(obj, key=str)
    return str(obj)


def default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid:{os.getuid()}"
