"""The audit bundle of a scan: its reports, the raw inventory they were computed from, and hashes.

One ``.tar.gz`` holding ``report.html``, ``report.json``, ``results.csv``, ``findings.ocsf.json``,
``inventory/<file>`` (byte for byte the file the scan recorded, checked against the scan's SHA-256),
``manifest.json`` (files, sizes, hashes, scan id, creation time) and ``SHA256SUMS`` (``sha256sum -c``
format, covering every other file). ``verify_bundle`` finds a changed, missing or added file.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection

from cloudsoc.core.errors import CloudSOCError
from cloudsoc.core.timeutil import utcnow
from cloudsoc.posture import report

SUMS, MANIFEST = "SHA256SUMS", "manifest.json"
FORMAT = "cloudsoc.posture.bundle/1"


class BundleError(CloudSOCError):
    pass


def write_bundle(conn: Connection, scan_id: str, out: Path) -> dict[str, Any]:
    """Write the bundle of ``scan_id`` to ``out``; return its manifest plus the bundle's own path and
    SHA-256 (keep that hash elsewhere: it is what proves the bundle was not rebuilt)."""
    doc = report.build(conn, scan_id)
    files: dict[str, bytes] = {
        "report.html": report.render(doc, "html"),
        "report.json": report.render(doc, "json"),
        "results.csv": report.render(doc, "csv"),
        "findings.ocsf.json": report.render(doc, "ocsf"),
    }
    inv = doc["scan"]["inventory"]
    if inv["path"]:
        raw = _inventory_bytes(Path(inv["path"]), inv["sha256"])
        files[f"inventory/{Path(inv['path']).name}"] = raw
    created = utcnow()
    manifest = {
        "format": FORMAT, "scan": scan_id, "created": created.isoformat(),
        "inventory": {"path": inv["path"], "sha256": inv["sha256"]},
        "files": {n: {"size": len(b), "sha256": _sha(b)} for n, b in sorted(files.items())},
    }  # fmt: skip
    files[MANIFEST] = orjson.dumps(manifest, option=orjson.OPT_INDENT_2)
    files[SUMS] = "".join(f"{_sha(b)}  {n}\n" for n, b in sorted(files.items())).encode()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with tarfile.open(tmp, "w:gz", compresslevel=6) as tar:
        for name, body in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(body), int(created.timestamp()), 0o644
            tar.addfile(info, io.BytesIO(body))
    tmp.replace(out)
    return manifest | {"bundle": str(out), "bundle_sha256": _sha(out.read_bytes())}


def verify_bundle(path: Path) -> list[str]:
    """The bundle's problems (empty: intact): a file whose hash changed, a listed file that is missing,
    a file nobody listed, a manifest that disagrees with SHA256SUMS."""
    try:
        files = _read(path)
    except (OSError, tarfile.TarError, BundleError) as exc:
        return [f"cannot read {path}: {exc}"]
    if SUMS not in files:
        return [f"{SUMS} is missing"]
    problems: list[str] = []
    listed = _parse_sums(files[SUMS], problems)
    for name, digest in sorted(listed.items()):
        if name not in files:
            problems.append(f"{name}: missing")
        elif _sha(files[name]) != digest:
            problems.append(f"{name}: content changed (SHA-256 {_sha(files[name])}, listed {digest})")
    problems += [f"{name}: not listed in {SUMS}" for name in sorted(files.keys() - listed.keys() - {SUMS})]
    problems += _check_manifest(files, listed)
    return problems


def _inventory_bytes(path: Path, sha256: str | None) -> bytes:
    if not path.is_file():
        raise BundleError(f"the scan's inventory {path} is gone: the bundle would not hold its source data")
    raw = path.read_bytes()
    if sha256 and _sha(raw) != sha256:
        raise BundleError(f"the inventory {path} changed since the scan (SHA-256 {_sha(raw)}, scan {sha256})")
    return raw


def _read(path: Path) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    with tarfile.open(path, "r:gz") as tar:
        for m in tar.getmembers():
            if not m.isfile():
                raise BundleError(f"{m.name} is not a regular file")
            if m.name in out:
                raise BundleError(f"{m.name} appears twice")
            f = tar.extractfile(m)
            out[m.name] = f.read() if f else b""
    return out


def _parse_sums(body: bytes, problems: list[str]) -> dict[str, str]:
    listed: dict[str, str] = {}
    for n, line in enumerate(body.decode("utf-8", "replace").splitlines(), 1):
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64:
            problems.append(f"{SUMS} line {n} is malformed")
            continue
        listed[name] = digest
    return listed


def _check_manifest(files: dict[str, bytes], listed: dict[str, str]) -> list[str]:
    if MANIFEST not in files:
        return []  # reported as missing or unlisted above
    try:
        manifest = orjson.loads(files[MANIFEST])
        entries = manifest["files"]
    except (ValueError, KeyError, TypeError):
        return [f"{MANIFEST} is not a bundle manifest"]
    wanted = {n: e.get("sha256") for n, e in entries.items()}
    expected = {n: d for n, d in listed.items() if n not in (MANIFEST, SUMS)}
    out = [] if wanted == expected else [f"{MANIFEST} and {SUMS} list different files or hashes"]
    recorded = (manifest.get("inventory") or {}).get("sha256")
    out += [f"{n}: not the inventory the scan recorded (SHA-256 {recorded})"
            for n, body in files.items() if n.startswith("inventory/") and recorded and _sha(body) != recorded]  # fmt: skip
    return out


def _sha(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()
