"""Where the evidence locker keeps its bytes: a local folder, or an S3 bucket with Object Lock.

Every backend holds, per incident, the same three things: artifacts named by their SHA-256, the
manifest entries in order, and the signed head (``head.json``); so does an export, read back by
``cloudsoc.respond.evidence_export``. Backends only store and list; what the bytes mean, and whether
they were tampered with, is ``cloudsoc.respond.evidence``'s and ``evidence_verify``'s business.

Layout (the S3 keys sit under the configured prefix)::

    <incident>/manifest.jsonl            local: one entry per line, appended
    incidents/<incident>/entries/<seq>   S3: one write-once object per entry
    .../head.json                        the signed head of the chain
    .../artifacts/<sha256>               the artifacts, content-addressed
"""

from __future__ import annotations

import fcntl
import os
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from cloudsoc.aws.api import BLOCK_ALL_PUBLIC_ACCESS, error_code
from cloudsoc.aws.session import client
from cloudsoc.core.errors import CloudSOCError
from cloudsoc.core.timeutil import utcnow
from cloudsoc.respond.actions._aws import is_not_found

MANIFEST = "manifest.jsonl"
HEAD = "head.json"
ARTIFACTS = "artifacts"


class EvidenceError(CloudSOCError):
    """The evidence locker cannot store, read or trust something."""


class EntryConflict(EvidenceError):
    """Another writer took this sequence number first: reload the chain and retry."""


class EvidenceSource(ABC):
    """What verification reads: one incident's entries, head and artifacts."""

    location: str

    @abstractmethod
    def get_artifact(self, incident: int, sha256: str) -> bytes | None: ...

    @abstractmethod
    def artifact_names(self, incident: int) -> list[str]:
        """Every stored artifact name, listed in the manifest or not."""

    @abstractmethod
    def entry_lines(self, incident: int, start: int = 0) -> list[bytes]:
        """The stored entries in manifest order, from position ``start`` (0-based) on."""

    @abstractmethod
    def get_head(self, incident: int) -> bytes | None: ...

    def where(self, incident: int) -> str:
        """Where one incident's evidence is, for people."""
        return self.location

    def extra_files(self, incident: int) -> list[str]:
        """Files beside the evidence that no part of the locker wrote."""
        return []

    def integrity_problems(self, incident: int) -> list[str]:
        """What the backend itself can tell about tampering (S3: overwritten or hidden versions)."""
        return []


class EvidenceStore(EvidenceSource):
    """Storage of one locker; every method takes the incident it concerns."""

    @abstractmethod
    def lock(self, incident: int) -> AbstractContextManager[None]:
        """Exclusive access to an incident's chain while an entry is appended."""

    @abstractmethod
    def put_artifact(self, incident: int, sha256: str, data: bytes) -> None:
        """Store bytes under their hash; a no-op when they are already there."""

    @abstractmethod
    def append_entry(self, incident: int, seq: int, line: bytes) -> None:
        """Add entry ``seq`` (1-based); raises ``EntryConflict`` when it already exists."""

    @abstractmethod
    def put_head(self, incident: int, data: bytes) -> None: ...

    @abstractmethod
    def incidents(self) -> list[int]: ...


# ---- local folder ---------------------------------------------------------------------------------------


class LocalStore(EvidenceStore):
    """``<root>/<incident>/``: the manifest appended line by line, artifacts read-only files."""

    _KNOWN = frozenset({MANIFEST, HEAD, ARTIFACTS, ".lock"})

    def __init__(self, root: Path) -> None:
        self.root = root
        self.location = str(root)
        self._threads = threading.Lock()

    def _dir(self, incident: int) -> Path:
        return self.root / str(int(incident))

    def where(self, incident: int) -> str:
        return str(self._dir(incident))

    @contextmanager
    def lock(self, incident: int) -> Iterator[None]:
        path = self._dir(incident)
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        # flock serializes processes; the thread lock covers threads sharing this store object
        with self._threads, open(path / ".lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def put_artifact(self, incident: int, sha256: str, data: bytes) -> None:
        final = self._dir(incident) / ARTIFACTS / sha256
        if final.exists():
            return
        final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._write_atomic(final, data, mode=0o444)  # read-only: an accidental edit needs a chmod first

    def get_artifact(self, incident: int, sha256: str) -> bytes | None:
        path = self._dir(incident) / ARTIFACTS / sha256
        return path.read_bytes() if path.is_file() else None

    def artifact_names(self, incident: int) -> list[str]:
        folder = self._dir(incident) / ARTIFACTS
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []

    def append_entry(self, incident: int, seq: int, line: bytes) -> None:
        path = self._dir(incident) / MANIFEST
        if len(self.entry_lines(incident)) >= seq:
            raise EntryConflict(f"incident {incident}: entry {seq} already exists")
        with open(path, "ab") as fh:
            fh.write(line + b"\n")
            fh.flush()
            os.fsync(fh.fileno())

    def entry_lines(self, incident: int, start: int = 0) -> list[bytes]:
        path = self._dir(incident) / MANIFEST
        return split_lines(path.read_bytes())[start:] if path.exists() else []

    def put_head(self, incident: int, data: bytes) -> None:
        self._write_atomic(self._dir(incident) / HEAD, data, mode=0o644)

    def get_head(self, incident: int) -> bytes | None:
        path = self._dir(incident) / HEAD
        return path.read_bytes() if path.is_file() else None

    def incidents(self) -> list[int]:
        if not self.root.is_dir():
            return []
        return sorted(int(p.name) for p in self.root.iterdir() if p.is_dir() and p.name.isdigit())

    def extra_files(self, incident: int) -> list[str]:
        folder = self._dir(incident)
        if not folder.is_dir():
            return []
        extra = [p.name for p in folder.iterdir() if p.name not in self._KNOWN]
        arts = folder / ARTIFACTS
        if arts.is_dir():
            extra += [f"{ARTIFACTS}/{p.name}/" for p in arts.iterdir() if p.is_dir()]
        return sorted(extra)

    def _write_atomic(self, final: Path, data: bytes, *, mode: int) -> None:
        # written beside the locker, then renamed: a reader never sees half an artifact
        tmp_dir = self.root / ".tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = tmp_dir / uuid.uuid4().hex
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.chmod(mode)
        tmp.replace(final)


# ---- S3 with Object Lock --------------------------------------------------------------------------------


def ensure_bucket(session: boto3.Session, name: str, *, retention_days: int = 365) -> None:
    """Create (or check) an evidence bucket: Object Lock in COMPLIANCE mode with a default retention,
    versioning, every public access blocked, encryption at rest.

    Object Lock can only be chosen when a bucket is created, so an existing bucket without it is an
    error rather than something to repair. On an existing bucket only what differs is written, so a
    locker that opens it every time needs read permissions only.
    """
    s3: Any = client("s3", session=session)
    created = _create(s3, name)
    try:
        lock = s3.get_object_lock_configuration(Bucket=name)["ObjectLockConfiguration"]
    except ClientError as exc:
        raise EvidenceError(f"evidence bucket {name} exists without Object Lock; use a new bucket") from exc
    if lock.get("ObjectLockEnabled") != "Enabled":
        raise EvidenceError(f"evidence bucket {name} exists without Object Lock; use a new bucket")
    if created or s3.get_bucket_versioning(Bucket=name).get("Status") != "Enabled":
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    rule = lock.get("Rule", {}).get("DefaultRetention", {})
    if (rule.get("Mode"), rule.get("Days"), rule.get("Years") or 0) != ("COMPLIANCE", retention_days, 0):
        wanted = {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": retention_days}}
        s3.put_object_lock_configuration(
            Bucket=name, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": wanted}
        )
    block = BLOCK_ALL_PUBLIC_ACCESS
    if (
        created
        or _read(lambda: s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]) != block
    ):
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=block)
    if created or not _read(
        lambda: s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]
    ):
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})  # fmt: skip


def _create(s3: Any, name: str) -> bool:
    """Whether the bucket had to be created (with Object Lock, which only creation can turn on)."""
    try:
        s3.head_bucket(Bucket=name)
        return False
    except ClientError as exc:
        if error_code(exc) not in {"404", "NoSuchBucket", "NotFound"}:
            raise EvidenceError(f"evidence bucket {name}: {exc}") from exc
    region = s3.meta.region_name
    where = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True, **where)
    return True


def _read(get: Callable[[], Any]) -> Any:
    """A bucket setting, or None when it was never set (a refusal to read it is raised)."""
    try:
        return get()
    except ClientError as exc:
        if is_not_found(exc):
            return None
        raise


class S3Store(EvidenceStore):
    """One write-once object per artifact and per manifest entry, each under COMPLIANCE retention.

    Entries are separate objects (not one growing manifest) so that nothing is ever rewritten: a new
    entry is a conditional put (``If-None-Match: *``), which is also how two writers on different
    machines agree on sequence numbers. Only ``head.json`` gets new versions, and Object Lock keeps
    every one of them.
    """

    def __init__(self, session: boto3.Session, bucket: str, prefix: str = "evidence/",
                 retention_days: int = 365) -> None:  # fmt: skip
        self.s3: Any = client("s3", session=session)
        self.bucket = bucket
        self.prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        self.retention_days = retention_days
        self.location = f"s3://{bucket}/{self.prefix}"
        self._threads = threading.Lock()

    def key(self, incident: int, *parts: str) -> str:
        return f"{self.prefix}incidents/{int(incident)}/" + "/".join(parts)

    def where(self, incident: int) -> str:
        return f"s3://{self.bucket}/{self.key(incident)}"

    @contextmanager
    def lock(self, incident: int) -> Iterator[None]:
        # across machines the conditional put of each entry is the arbiter; this covers threads
        with self._threads:
            yield

    def _put(self, key: str, data: bytes, **extra: Any) -> None:
        until = utcnow() + timedelta(days=self.retention_days)
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=data, ObjectLockMode="COMPLIANCE",
                           ObjectLockRetainUntilDate=until, ServerSideEncryption="AES256",
                           ChecksumAlgorithm="SHA256", **extra)  # fmt: skip

    def _get(self, key: str) -> bytes | None:
        try:
            body: bytes = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if error_code(exc) in {"NoSuchKey", "404"}:
                return None
            raise
        return body

    def _keys(self, prefix: str) -> list[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return sorted(o["Key"] for page in pages for o in page.get("Contents", []))

    def put_artifact(self, incident: int, sha256: str, data: bytes) -> None:
        key = self.key(incident, ARTIFACTS, sha256)
        try:
            self._put(key, data, IfNoneMatch="*")
        except ClientError as exc:
            if error_code(exc) not in {"PreconditionFailed", "412"}:
                raise

    def get_artifact(self, incident: int, sha256: str) -> bytes | None:
        return self._get(self.key(incident, ARTIFACTS, sha256))

    def artifact_names(self, incident: int) -> list[str]:
        base = self.key(incident, ARTIFACTS, "")
        return [k[len(base) :] for k in self._keys(base)]

    def append_entry(self, incident: int, seq: int, line: bytes) -> None:
        try:
            self._put(self.key(incident, "entries", f"{seq:08d}.json"), line, IfNoneMatch="*")
        except ClientError as exc:
            if error_code(exc) in {"PreconditionFailed", "412"}:
                raise EntryConflict(f"incident {incident}: entry {seq} already exists") from exc
            raise

    def entry_lines(self, incident: int, start: int = 0) -> list[bytes]:
        keys = self._keys(self.key(incident, "entries", ""))
        return [self._get(k) or b"" for k in keys[start:]]

    def put_head(self, incident: int, data: bytes) -> None:
        self._put(self.key(incident, HEAD), data)

    def get_head(self, incident: int) -> bytes | None:
        return self._get(self.key(incident, HEAD))

    def incidents(self) -> list[int]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}incidents/", Delimiter="/"
        )
        names = [p["Prefix"].rstrip("/").rsplit("/", 1)[-1] for page in pages
                 for p in page.get("CommonPrefixes", [])]  # fmt: skip
        return sorted(int(n) for n in names if n.isdigit())

    def extra_files(self, incident: int) -> list[str]:
        base = self.key(incident, "")
        known = (f"{ARTIFACTS}/", "entries/")
        return [k[len(base) :] for k in self._keys(base) if k[len(base) :] != HEAD
                and not k[len(base) :].startswith(known)]  # fmt: skip

    def integrity_problems(self, incident: int) -> list[str]:
        """Write-once objects with more than one version were overwritten; a delete marker on top hides
        a version that Object Lock still retains."""
        pages = self.s3.get_paginator("list_object_versions").paginate(
            Bucket=self.bucket, Prefix=self.key(incident, "")
        )
        versions: dict[str, int] = {}
        hidden: set[str] = set()
        for page in pages:
            for v in page.get("Versions", []):
                versions[v["Key"]] = versions.get(v["Key"], 0) + 1
            hidden |= {m["Key"] for m in page.get("DeleteMarkers", []) if m.get("IsLatest")}
        base = self.key(incident, "")
        problems = [f"s3 object {k[len(base):]} was overwritten: {n} versions of a write-once object"
                    for k, n in sorted(versions.items()) if n > 1 and not k.endswith(HEAD)]  # fmt: skip
        problems += [f"s3 object {k[len(base):]} was deleted (a delete marker hides its retained version)"
                     for k in sorted(hidden)]  # fmt: skip
        return problems


def split_lines(data: bytes) -> list[bytes]:
    """Lines of a manifest; the final newline ends the last line rather than starting an empty one."""
    if not data:
        return []
    return (data[:-1] if data.endswith(b"\n") else data).split(b"\n")
