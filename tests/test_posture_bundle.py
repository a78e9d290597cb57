"""The audit bundle: what it holds, and that a changed, missing or added file is found."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine

from cloudsoc.posture import bundle, store
from tests import posture_reports_fixtures as fx
from tests.posture_reports_fixtures import SCAN

own_content, engine, stored = fx.own_content, fx.engine, fx.stored  # the fixtures

FILES = {"report.html", "report.json", "results.csv", "findings.ocsf.json", "inventory/inv-test.json.gz",
         "manifest.json", "SHA256SUMS"}  # fmt: skip


def _write(engine: Engine, out: Path) -> dict[str, object]:
    with engine.connect() as conn:
        return bundle.write_bundle(conn, SCAN, out)


def _members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]


def _repack(path: Path, files: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, body in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))


def test_bundle_holds_reports_raw_inventory_and_hashes(
    engine: Engine, stored: store.Scan, tmp_path: Path
) -> None:
    out = tmp_path / "audit" / "bundle.tar.gz"
    manifest = _write(engine, out)
    files = _members(out)
    assert set(files) == FILES
    assert files["inventory/inv-test.json.gz"] == Path(str(stored.inventory_path)).read_bytes()
    assert hashlib.sha256(files["inventory/inv-test.json.gz"]).hexdigest() == stored.inventory_sha256
    assert orjson.loads(gzip.decompress(files["inventory/inv-test.json.gz"]))["id"] == "inv-test"
    sums = dict(reversed(line.split("  ")) for line in files["SHA256SUMS"].decode().splitlines())
    assert set(sums) == FILES - {"SHA256SUMS"}
    assert all(hashlib.sha256(files[n]).hexdigest() == d for n, d in sums.items())
    listed = orjson.loads(files["manifest.json"])
    assert listed["scan"] == SCAN and listed["files"]["report.json"]["size"] == len(files["report.json"])
    assert manifest["bundle_sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert orjson.loads(files["report.json"])["scan"]["id"] == SCAN
    assert len(orjson.loads(files["findings.ocsf.json"])) == 6
    assert bundle.verify_bundle(out) == []


@pytest.mark.parametrize("change", ["tamper", "remove", "add", "tamper_and_relist"])
def test_a_changed_bundle_fails_verification(
    engine: Engine, stored: store.Scan, tmp_path: Path, change: str
) -> None:
    out = tmp_path / "bundle.tar.gz"
    _write(engine, out)
    files = _members(out)
    if change == "tamper":
        files["results.csv"] = files["results.csv"].replace(b"FAIL", b"PASS")
    elif change == "remove":
        del files["report.html"]
    elif change == "add":
        files["extra.txt"] = b"slipped in"
    else:  # the forger also rewrites SHA256SUMS, but not the manifest
        files["results.csv"] = b"check,status\n"
        sums = files["SHA256SUMS"].decode().splitlines()
        files["SHA256SUMS"] = "".join(
            (f"{hashlib.sha256(files['results.csv']).hexdigest()}  results.csv" if ln.endswith("  results.csv")
             else ln) + "\n" for ln in sums).encode()  # fmt: skip
    _repack(out, files)
    problems = bundle.verify_bundle(out)
    expected = {"tamper": "results.csv: content changed", "remove": "report.html: missing",
                "add": "extra.txt: not listed", "tamper_and_relist": "manifest.json and SHA256SUMS"}[change]  # fmt: skip
    assert any(p.startswith(expected) for p in problems), problems


def test_not_a_bundle(tmp_path: Path) -> None:
    (tmp_path / "x.tar.gz").write_bytes(b"nothing")
    [problem] = bundle.verify_bundle(tmp_path / "x.tar.gz")
    assert problem.startswith("cannot read")


def test_no_bundle_from_an_inventory_changed_since_the_scan(
    engine: Engine, stored: store.Scan, tmp_path: Path
) -> None:
    Path(str(stored.inventory_path)).write_bytes(b"rewritten")
    with pytest.raises(bundle.BundleError, match="changed since the scan"):
        _write(engine, tmp_path / "b.tar.gz")
    Path(str(stored.inventory_path)).unlink()
    with pytest.raises(bundle.BundleError, match="is gone"):
        _write(engine, tmp_path / "b.tar.gz")
    assert not (tmp_path / "b.tar.gz").exists()
