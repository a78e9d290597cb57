"""An incident's evidence copied out of the locker, and checked on its own.

An export is a folder, or a .tar.gz holding one folder, with the manifest, the signed head, the public
key that signed them, the artifacts and a README that says how to verify it by hand. ``verify_export``
checks one against the key it carries (or the fingerprint the SOC publishes) with nothing else.
"""

from __future__ import annotations

import io
import tarfile
import uuid
from pathlib import Path

from cloudsoc.core.timeutil import utcnow
from cloudsoc.respond.evidence_store import (
    ARTIFACTS,
    HEAD,
    MANIFEST,
    EvidenceError,
    EvidenceSource,
    split_lines,
)
from cloudsoc.respond.evidence_verify import Verification, check, load_public, parse_object

PUBLIC_KEY = "public-key.pem"
README = "README.md"


def check_destination(dest: Path) -> None:
    """Refuse to export over anything that exists (an empty folder may take the export)."""
    if dest.exists() and (not dest.is_dir() or _tarball(dest) or any(dest.iterdir())):
        raise EvidenceError(f"{dest} already exists")


def write_export(dest: Path, incident: int, files: dict[str, bytes]) -> None:
    """``files`` (relative name -> bytes) as the folder ``dest``, or a .tar.gz when ``dest`` ends so."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if _tarball(dest):
        _write_tar(dest, f"incident-{incident}-evidence", files)
        return
    for rel, data in files.items():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_bytes(data)


def _tarball(dest: Path) -> bool:
    return dest.name.endswith((".tar.gz", ".tgz"))


def verify_export(path: Path, *, expected_key: str | None = None) -> Verification:
    """Check an export on its own, against the public key it carries (its fingerprint is reported:
    compare it with the one the SOC publishes, or pass it as ``expected_key``)."""
    source = ExportStore(Path(path))
    pem = source.public_key()
    if pem is None:
        raise EvidenceError(f"{path}: the export has no {PUBLIC_KEY}")
    key = load_public(pem)
    head = parse_object(source.get_head(0) or b"") or {}
    first = parse_object((source.entry_lines(0)[:1] or [b""])[0]) or {}
    incident = head.get("incident", first.get("incident", 0))
    result = check(int(incident) if isinstance(incident, int) else 0, source, key)
    if expected_key and result.key_fingerprint != expected_key:
        result.problems.insert(0, f"{PUBLIC_KEY} has fingerprint {result.key_fingerprint}, expected {expected_key}"
                               " (the key was replaced)")  # fmt: skip
    return result


# ---- reading an export -------------------------------------------------------------------------------


class ExportStore(EvidenceSource):
    """A read-only view of an exported incident: a folder, or a .tar.gz with one folder inside."""

    _KNOWN = frozenset({MANIFEST, HEAD, PUBLIC_KEY, README})

    def __init__(self, path: Path) -> None:
        self.location = str(path)
        self.files: dict[str, bytes] = _read_tar(path) if path.is_file() else _read_folder(path)

    def public_key(self) -> bytes | None:
        return self.files.get(PUBLIC_KEY)

    def get_artifact(self, incident: int, sha256: str) -> bytes | None:
        return self.files.get(f"{ARTIFACTS}/{sha256}")

    def artifact_names(self, incident: int) -> list[str]:
        return sorted(n.split("/", 1)[1] for n in self.files if n.startswith(f"{ARTIFACTS}/"))

    def entry_lines(self, incident: int, start: int = 0) -> list[bytes]:
        return split_lines(self.files.get(MANIFEST, b""))[start:]

    def get_head(self, incident: int) -> bytes | None:
        return self.files.get(HEAD)

    def extra_files(self, incident: int) -> list[str]:
        return sorted(n for n in self.files if n not in self._KNOWN and not n.startswith(f"{ARTIFACTS}/"))


def _read_folder(root: Path) -> dict[str, bytes]:
    if not root.is_dir():
        raise EvidenceError(f"{root}: no such export")
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _read_tar(path: Path) -> dict[str, bytes]:
    """Regular files of the archive relative to its one top folder, read in memory (never extracted)."""
    try:
        with tarfile.open(path, "r:gz") as tar:
            members = [m for m in tar.getmembers() if m.isfile()]
            raw = {m.name: (tar.extractfile(m) or io.BytesIO()).read() for m in members}
    except (tarfile.TarError, OSError) as exc:
        raise EvidenceError(f"{path}: not a readable .tar.gz export: {exc}") from exc
    tops = {name.split("/", 1)[0] for name in raw}
    if len(tops) != 1 or any("/" not in n for n in raw):
        raise EvidenceError(f"{path}: an export archive holds exactly one folder")
    return {name.split("/", 1)[1]: data for name, data in raw.items()}


def _write_tar(path: Path, top: str, files: dict[str, bytes]) -> None:
    """A .tar.gz of ``files`` under the folder ``top``, with fixed metadata."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    with tarfile.open(tmp, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(data)
            info.mode = 0o444
            info.mtime = int(utcnow().timestamp())
            tar.addfile(info, io.BytesIO(data))
    tmp.replace(path)


def readme(incident: int, key_fp: str, entries: int) -> str:
    return f"""# Evidence of incident {incident}

Exported by cloudsoc at {utcnow().isoformat()} ({entries} manifest entries).
Signing key fingerprint: `{key_fp}` (SHA-256 of the raw Ed25519 public key). Compare it with the
fingerprint your SOC publishes: an export that was rewritten and signed again with another key
verifies against its own key, but not against this fingerprint.

## Contents

- `{MANIFEST}`: the custody chain, one JSON entry per line (op add, read or export; who, when, why).
- `{HEAD}`: the signed head: number of entries and the last entry's hash.
- `{PUBLIC_KEY}`: the Ed25519 public key that signed the entries and the head.
- `{ARTIFACTS}/<sha256>`: each artifact, named by the SHA-256 of its bytes.

## Verify

    cloudsoc evidence verify --export <this folder or .tar.gz> --expect-key {key_fp}

By hand: for each line of `{MANIFEST}` (position i from 1), remove `hash` and `sig`, serialize the rest
as JSON with sorted keys, no whitespace, UTF-8; its SHA-256 (hex) must equal `hash`; `seq` must be i;
`prev_hash` must be the previous line's `hash` (line 1: SHA-256 of `cloudsoc-evidence:incident:{incident}`);
`sig` (base64) must be an Ed25519 signature of `cloudsoc-evidence-entry:` + `hash`. In `{HEAD}`,
`signature` must sign `cloudsoc-evidence-head:` + the canonical JSON of the other fields; `entries`
must be at most the number of lines and `head` the `hash` of that line. Every `add` entry's artifact
must exist and hash to its name; no other file may be in `{ARTIFACTS}/`.
"""
