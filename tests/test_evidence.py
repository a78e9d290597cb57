"""The evidence locker: every way of tampering is caught; custody, exports, S3 Object Lock, event extracts."""

from __future__ import annotations

import base64
import io
import json
import shutil
import stat
import tarfile
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from cloudsoc.aws.sandbox import Sandbox
from cloudsoc.aws.session import client
from cloudsoc.cli.main import app
from cloudsoc.core.config import EvidenceSettings, Home, Settings
from cloudsoc.lake.ingest import ingest
from cloudsoc.respond.evidence import Locker, Signer
from cloudsoc.respond.evidence_export import verify_export
from cloudsoc.respond.evidence_store import EvidenceError, ensure_bucket
from cloudsoc.respond.evidence_verify import (
    ENTRY_DOMAIN,
    HEAD_DOMAIN,
    canonical,
    fingerprint,
    public_pem,
    sha256_hex,
)
from cloudsoc.respond.extract import event_extract
from tests.conftest import record, write_trail

INCIDENT = 42
EXTRACT = b'{"eventName":"CreateAccessKey"}\n{"eventName":"PutUserPolicy"}\n'
CONSOLE = b"Linux ip-10-0-1-5 5.10.0 #1 SMP\nlogin: \n"
WHO = {"actor": "analyst@soc", "reason": "incident triage"}


def _fill(locker: Locker, incident: int = INCIDENT) -> dict[str, str]:
    """An incident's worth of artifacts (one of each kind the playbooks make), plus one read."""
    shas = {
        "extract": locker.add(incident, "event-extract", "events.jsonl", EXTRACT, **WHO).sha256,
        "snapshot": locker.add(incident, "snapshot", "snap-0abc.json",
                               {"SnapshotId": "snap-0abc", "VolumeId": "vol-1", "State": "completed"}, **WHO).sha256,
        "console": locker.add(incident, "console-output", "i-0abc-console.txt", CONSOLE, **WHO).sha256,
        "before": locker.add(incident, "iam-state", "alice-before.json", {"AccessKeys": ["AKIAX"], "Status": "Active"},
                             actor="playbook:contain-key", reason="state before DeactivateAccessKey").sha256,
        "action": locker.add(incident, "action", "deactivate-key.json", [{"action": "iam.deactivate_key"}],
                             actor="playbook:contain-key", reason="action record").sha256,
    }  # fmt: skip
    locker.read(incident, shas["console"], actor="lead@soc", reason="review console output")
    return shas


@pytest.fixture
def filled(home: Home) -> tuple[Locker, dict[str, str], Path]:
    locker = Locker.open(home)
    return locker, _fill(locker), home.evidence / str(INCIDENT)


def _problems(locker: Locker, incident: int = INCIDENT) -> str:
    result = locker.verify(incident)
    assert not result.ok
    return "\n".join(result.problems)


def _lines(folder: Path) -> list[bytes]:
    return (folder / "manifest.jsonl").read_bytes().splitlines()


def _write_lines(folder: Path, lines: list[bytes]) -> None:
    (folder / "manifest.jsonl").write_bytes(b"".join(line + b"\n" for line in lines))


def _resign(folder: Path, key: Ed25519PrivateKey, edit: Callable[[list[dict[str, Any]]], None]) -> None:
    """Rewrite a whole chain the way a forger with their own key would: consistent hashes, links,
    entry signatures and head, all signed with ``key``."""
    entries = [json.loads(line) for line in _lines(folder)]
    edit(entries)
    prev = entries[0]["prev_hash"]
    out = []
    for seq, e in enumerate(entries, 1):
        body = {k: v for k, v in e.items() if k not in ("hash", "sig")} | {"seq": seq, "prev_hash": prev}
        prev = sha256_hex(canonical(body))
        sig = base64.b64encode(key.sign(ENTRY_DOMAIN + prev.encode())).decode()
        out.append(canonical(body | {"hash": prev, "sig": sig}))
    _write_lines(folder, out)
    head = json.loads((folder / "head.json").read_bytes())
    signed = {k: v for k, v in head.items() if k != "signature"} | {"entries": len(out), "head": prev,
                                                                    "key": fingerprint(key.public_key())}  # fmt: skip
    sig = base64.b64encode(key.sign(HEAD_DOMAIN + canonical(signed))).decode()
    (folder / "head.json").write_bytes(canonical(signed | {"signature": sig}))


# ---- the locker and every way to tamper with it -----------------------------------------------------------


def test_untouched_evidence_verifies(filled: tuple[Locker, dict[str, str], Path]) -> None:
    locker, shas, folder = filled
    result = locker.verify(INCIDENT)
    assert result.ok, result.problems
    assert (result.entries, result.artifacts) == (6, 5)
    assert result.key_fingerprint == result.signed_by == locker.key_fingerprint
    assert sorted(p.name for p in (folder / "artifacts").iterdir()) == sorted(shas.values())
    # content-addressed: each file is named by the hash of its bytes
    assert all(sha256_hex(p.read_bytes()) == p.name for p in (folder / "artifacts").iterdir())


def _edit_byte(folder: Path, shas: dict[str, str]) -> str:
    path = folder / "artifacts" / shas["console"]
    path.chmod(0o644)  # stored read-only, so an accident cannot change it; a deliberate edit can
    path.write_bytes(path.read_bytes().replace(b"login", b"LOGIN"))
    return f"artifact 'i-0abc-console.txt' ({shas['console']}): changed"


def _delete_artifact(folder: Path, shas: dict[str, str]) -> str:
    (folder / "artifacts" / shas["snapshot"]).unlink()
    return f"artifact 'snap-0abc.json' ({shas['snapshot']}): missing"


def _add_unlisted(folder: Path, shas: dict[str, str]) -> str:
    planted = sha256_hex(b"planted")
    (folder / "artifacts" / planted).write_bytes(b"planted")
    return f"unlisted artifact file artifacts/{planted}"


def _reorder(folder: Path, shas: dict[str, str]) -> str:
    lines = _lines(folder)
    lines[1], lines[2] = lines[2], lines[1]
    _write_lines(folder, lines)
    return "entry 3 (add console-output 'i-0abc-console.txt'): found at position 2"


def _edit_entry(folder: Path, shas: dict[str, str]) -> str:
    lines = _lines(folder)
    lines[3] = lines[3].replace(b'"actor":"playbook:contain-key"', b'"actor":"someone-else"')
    _write_lines(folder, lines)
    return "entry 4 (add iam-state 'alice-before.json'): edited"


def _edit_reason_and_rehash(folder: Path, shas: dict[str, str]) -> str:
    # a forger without the key recomputes the hash: the entry's own signature still gives it away
    lines = _lines(folder)
    entry = json.loads(lines[1])
    entry["reason"] = "routine backup"
    body = {k: v for k, v in entry.items() if k not in ("hash", "sig")}
    lines[1] = canonical(body | {"hash": sha256_hex(canonical(body)), "sig": entry["sig"]})
    _write_lines(folder, lines)
    return "entry 2 (add snapshot 'snap-0abc.json'): its signature does not match"


def _delete_entry(folder: Path, shas: dict[str, str]) -> str:
    lines = _lines(folder)
    del lines[2]
    _write_lines(folder, lines)
    return "entry 4 (add iam-state 'alice-before.json'): found at position 3"


def _truncate(folder: Path, shas: dict[str, str]) -> str:
    _write_lines(folder, _lines(folder)[:-2])
    return "chain truncated: the signed head covers 6 entries, the manifest holds 4"


def _replace_signature(folder: Path, shas: dict[str, str]) -> str:
    head = json.loads((folder / "head.json").read_bytes())
    head["signature"] = base64.b64encode(Ed25519PrivateKey.generate().sign(b"something else")).decode()
    (folder / "head.json").write_bytes(canonical(head))
    return "head.json: the head signature does not match the key"


def _other_key(folder: Path, shas: dict[str, str]) -> str:
    def drop_read(entries: list[dict[str, Any]]) -> None:
        del entries[-1]  # hide that someone read the console output

    _resign(folder, Ed25519PrivateKey.generate(), drop_read)
    return "entry 1 (add event-extract 'events.jsonl'): its signature does not match the key"


def _delete_head(folder: Path, shas: dict[str, str]) -> str:
    (folder / "head.json").unlink()
    return "head.json is missing"


def _delete_everything(folder: Path, shas: dict[str, str]) -> str:
    shutil.rmtree(folder)
    return f"no evidence of incident {INCIDENT} at {folder}"


@pytest.mark.parametrize(
    "tamper",
    [
        _edit_byte,
        _delete_artifact,
        _add_unlisted,
        _reorder,
        _edit_entry,
        _edit_reason_and_rehash,
        _delete_entry,
        _truncate,
        _replace_signature,
        _other_key,
        _delete_head,
        _delete_everything,
    ],
)
def test_every_tampering_fails_verification_naming_what(
    filled: tuple[Locker, dict[str, str], Path], tamper: Callable[[Path, dict[str, str]], str]
) -> None:
    locker, shas, folder = filled
    expected = tamper(folder, shas)
    assert expected in _problems(locker)
    # a fresh process (no cached chain) sees it too, and will not append on top of it
    fresh = Locker.open(Home.open(folder.parent.parent))
    assert expected in _problems(fresh)
    if tamper not in (_edit_byte, _delete_artifact, _add_unlisted, _delete_everything):
        with pytest.raises(EvidenceError, match="refusing to append"):
            fresh.add(INCIDENT, "note", "late.txt", b"late", **WHO)


def test_the_home_key_is_private_and_stable(home: Home) -> None:
    first = Locker.open(home)
    path = home.root / "keys" / "evidence-ed25519.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Locker.open(home).key_fingerprint == first.key_fingerprint == Signer.load(path).fingerprint


def test_reading_records_custody_and_refuses_changed_bytes(
    filled: tuple[Locker, dict[str, str], Path],
) -> None:
    locker, shas, folder = filled
    assert (
        locker.read(INCIDENT, shas["extract"], actor="lawyer@customer", reason="discovery request") == EXTRACT
    )
    last = locker.custody(INCIDENT)[-1]
    assert (last.op, last.sha256, last.name, last.actor, last.reason) == (
        "read", shas["extract"], "events.jsonl", "lawyer@customer", "discovery request")  # fmt: skip
    _edit_byte(folder, shas)
    with pytest.raises(EvidenceError, match="was changed"):
        locker.read(INCIDENT, shas["console"], **WHO)
    with pytest.raises(EvidenceError, match="no artifact"):
        locker.read(INCIDENT, "0" * 64, **WHO)


def test_add_is_idempotent_across_processes(filled: tuple[Locker, dict[str, str], Path]) -> None:
    locker, shas, folder = filled
    before = locker.custody(INCIDENT)
    again = locker.add(INCIDENT, "event-extract", "events.jsonl", EXTRACT, actor="someone", reason="resumed")
    resumed = Locker.open(Home.open(folder.parent.parent))  # a playbook resumed by another worker
    snap = resumed.add(INCIDENT, "snapshot", "snap-0abc.json",
                       {"State": "completed", "VolumeId": "vol-1", "SnapshotId": "snap-0abc"}, **WHO)  # fmt: skip
    assert (again.seq, again.actor, snap.seq) == (1, "analyst@soc", 2)
    assert resumed.custody(INCIDENT) == before
    renamed = resumed.add(INCIDENT, "event-extract", "events-copy.jsonl", EXTRACT, **WHO)
    assert renamed.seq == len(before) + 1 and renamed.sha256 == shas["extract"]
    assert len(list((folder / "artifacts").iterdir())) == 5  # same bytes, one file
    assert resumed.verify(INCIDENT).ok


def test_custody_needs_who_and_why(home: Home) -> None:
    with pytest.raises(EvidenceError, match="actor and a reason"):
        Locker.open(home).add(1, "note", "n.txt", b"x", actor="analyst", reason=" ")


def test_concurrent_writers_keep_one_chain(home: Home) -> None:
    lockers = [Locker.open(home), Locker.open(home)]

    def write(i: int) -> None:
        lockers[i % 2].add(7, "note", f"note-{i}.txt", f"note {i}".encode(), **WHO)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write, range(24)))
    result = Locker.open(home).verify(7)
    assert result.ok, result.problems
    assert result.entries == 24


def test_a_writer_stopped_before_signing_the_head_leaves_an_adoptable_tail(
    filled: tuple[Locker, dict[str, str], Path],
) -> None:
    locker, _, folder = filled
    old_head = (folder / "head.json").read_bytes()
    locker.add(INCIDENT, "note", "n.txt", b"n", **WHO)
    (folder / "head.json").write_bytes(old_head)  # as if the process died between the two writes
    assert locker.verify(INCIDENT).ok  # the tail entry carries the home's signature
    Locker.open(Home.open(folder.parent.parent)).add(INCIDENT, "note", "m.txt", b"m", **WHO)
    head = json.loads((folder / "head.json").read_bytes())
    assert head["entries"] == 8 and locker.verify(INCIDENT).ok
    # stopped before the first head of an incident: the lone entry is adopted too
    locker.add(5, "note", "first.txt", b"first", **WHO)
    (folder.parent / "5" / "head.json").unlink()
    Locker.open(Home.open(folder.parent.parent)).add(5, "note", "second.txt", b"second", **WHO)
    assert locker.verify(5).ok and locker.verify(5).entries == 2


# ---- exports ----------------------------------------------------------------------------------------------


def test_exports_verify_on_their_own_and_record_custody(
    filled: tuple[Locker, dict[str, str], Path], tmp_path: Path
) -> None:
    locker, shas, _ = filled
    tarball = locker.export(
        INCIDENT, tmp_path / "case-42.tar.gz", actor="lead@soc", reason="handover to legal"
    )
    folder = locker.export(INCIDENT, tmp_path / "case-42", actor="lead@soc", reason="customer copy")
    for path, entries in ((tarball, 7), (folder, 8)):
        result = verify_export(path, expected_key=locker.key_fingerprint)
        assert result.ok, result.problems
        assert (result.entries, result.artifacts, result.key_fingerprint) == (
            entries,
            5,
            locker.key_fingerprint,
        )
    ops = [(e.op, e.actor, e.reason) for e in locker.custody(INCIDENT)]
    assert [op for op, _, _ in ops] == ["add"] * 5 + ["read", "export", "export"]
    assert ops[6] == ("export", "lead@soc", "handover to legal") and ops[5][1:] == (
        "lead@soc",
        "review console output",
    )
    assert (folder / "public-key.pem").read_bytes() == public_pem(locker.signer.public)
    assert "cloudsoc evidence verify --export" in (folder / "README.md").read_text()
    with tarfile.open(tarball) as tar:
        assert f"incident-42-evidence/artifacts/{shas['extract']}" in tar.getnames()
    with pytest.raises(EvidenceError, match="already exists"):
        locker.export(INCIDENT, folder, **WHO)


def test_tampered_exports_fail(filled: tuple[Locker, dict[str, str], Path], tmp_path: Path) -> None:
    locker, shas, _ = filled
    base = locker.export(INCIDENT, tmp_path / "base", **WHO)

    def copy(name: str) -> Path:
        return Path(shutil.copytree(base, tmp_path / name))

    changed = copy("changed")
    (changed / "artifacts" / shas["extract"]).write_bytes(b"{}\n")
    assert f"artifact 'events.jsonl' ({shas['extract']}): changed" in verify_export(changed).problems[0]

    swapped = copy("swapped")  # another key dropped in, nothing re-signed
    (swapped / "public-key.pem").write_bytes(public_pem(Ed25519PrivateKey.generate().public_key()))
    assert "head.json: the head signature does not match" in "\n".join(verify_export(swapped).problems)

    forged = copy("forged")  # rewritten, re-signed and shipped with the forger's key
    forger = Ed25519PrivateKey.generate()
    _resign(forged, forger, lambda entries: entries[3].update(reason="routine"))
    (forged / "public-key.pem").write_bytes(public_pem(forger.public_key()))
    alone = verify_export(forged)
    assert alone.ok and alone.key_fingerprint == fingerprint(forger.public_key()) != locker.key_fingerprint
    pinned = verify_export(forged, expected_key=locker.key_fingerprint)
    assert not pinned.ok and "the key was replaced" in pinned.problems[0]

    extra = copy("extra")
    (extra / "notes.txt").write_text("added later")
    assert verify_export(extra).problems == ["unexpected file notes.txt"]


def test_tampered_tarball_fails(filled: tuple[Locker, dict[str, str], Path], tmp_path: Path) -> None:
    locker, _, _ = filled
    original = locker.export(INCIDENT, tmp_path / "e.tar.gz", **WHO)
    forged = tmp_path / "forged.tar.gz"
    with tarfile.open(original) as src, tarfile.open(forged, "w:gz") as dst:
        for member in src.getmembers():
            data = (src.extractfile(member) or io.BytesIO()).read()
            if member.name.endswith("manifest.jsonl"):
                lines = data.splitlines()
                data = b"\n".join([lines[0], lines[2], lines[1], *lines[3:]]) + b"\n"
                member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    problems = "\n".join(verify_export(forged).problems)
    assert "entry 3 (add console-output 'i-0abc-console.txt'): found at position 2" in problems


# ---- command line ----------------------------------------------------------------------------------------


def test_cli_list_export_verify(filled: tuple[Locker, dict[str, str], Path], tmp_path: Path) -> None:
    locker, shas, folder = filled
    run = CliRunner().invoke
    home = ["--home", str(folder.parent.parent)]
    listed = run(app, ["evidence", "list", str(INCIDENT), *home, "-o", "json"])
    assert listed.exit_code == 0 and [a["sha256"] for a in orjson.loads(listed.stdout)] == list(shas.values())
    out = tmp_path / "x.tar.gz"
    exported = run(app, ["evidence", "export", str(INCIDENT), "--to", str(out), "--reason", "court", "--actor",
                         "cli-user", *home, "-o", "json"])  # fmt: skip
    assert exported.exit_code == 0, exported.output
    assert locker.custody(INCIDENT)[-1].actor == "cli-user"
    custody = run(app, ["evidence", "custody", str(INCIDENT), *home, "-o", "json"])
    assert [e["op"] for e in orjson.loads(custody.stdout)][-2:] == ["read", "export"]
    ok = run(app, ["evidence", "verify", str(INCIDENT), *home, "-o", "json"])
    assert ok.exit_code == 0 and orjson.loads(ok.stdout)["ok"] is True
    ok = run(app, ["evidence", "verify", "--export", str(out), "--expect-key", locker.key_fingerprint])
    assert ok.exit_code == 0, ok.output
    _delete_artifact(folder, shas)
    bad = run(app, ["evidence", "verify", str(INCIDENT), *home])
    assert bad.exit_code == 1 and "snap-0abc.json" in bad.output and "missing" in bad.output
    bad_json = run(app, ["evidence", "verify", str(INCIDENT), *home, "-o", "json"])
    assert bad_json.exit_code == 1 and orjson.loads(bad_json.stdout)["ok"] is False


# ---- S3 with Object Lock, in the sandbox --------------------------------------------------------------------


def test_s3_locker_in_the_sandbox(sandbox_home: Home, tmp_path: Path) -> None:
    """One test (one sandbox per worker): bucket settings, retention, verification, locked deletes."""
    bucket = f"evidence-{uuid.uuid4().hex[:12]}"
    home = Home(
        sandbox_home.root, Settings(evidence=EvidenceSettings(backend="s3", bucket=bucket, retention_days=3))
    )
    state = Sandbox(home.root).state()
    Locker.open(home)  # no session given: the sandbox's cloudsoc identity; the bucket is made on first use
    locker = Locker.open(home, Sandbox.soc_session(state))  # the bucket exists now: only checked
    s3 = client("s3", session=Sandbox.soc_session(state))
    _check_bucket(s3, bucket, client("s3", session=Sandbox.account_admin(state, "prod")))
    s3.create_bucket(Bucket=f"{bucket}-plain")
    with pytest.raises(EvidenceError, match="without Object Lock"):
        ensure_bucket(Sandbox.soc_session(state), f"{bucket}-plain")

    shas = _fill(locker, 9)
    assert locker.verify(9).ok, locker.verify(9).problems
    assert locker.incidents() == [9]
    # the objects' retention headers (moto has no GetObjectRetention; HeadObject carries the same fields)
    for key in (
        f"evidence/incidents/9/artifacts/{shas['console']}",
        "evidence/incidents/9/entries/00000001.json",
    ):
        head = s3.head_object(Bucket=bucket, Key=key)
        assert (head["ObjectLockMode"], head["ServerSideEncryption"]) == ("COMPLIANCE", "AES256")
        assert (
            datetime.now(UTC) + timedelta(days=2)
            < head["ObjectLockRetainUntilDate"]
            < datetime.now(UTC) + timedelta(days=4)
        )
    exported = locker.export(9, tmp_path / "exports" / "from-s3.tar.gz", **WHO)
    assert verify_export(exported, expected_key=locker.key_fingerprint).ok

    key = f"evidence/incidents/9/artifacts/{shas['snapshot']}"
    version = s3.head_object(Bucket=bucket, Key=key)["VersionId"]
    with pytest.raises(ClientError) as refused:  # moto enforces COMPLIANCE retention on version deletes
        s3.delete_object(Bucket=bucket, Key=key, VersionId=version)
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    s3.delete_object(Bucket=bucket, Key=key)  # allowed: only a delete marker, the version stays
    s3.put_object(Bucket=bucket, Key="evidence/incidents/9/entries/00000004.json", Body=b'{"forged":true}')
    problems = "\n".join(locker.verify(9).problems)
    assert f"artifact 'snap-0abc.json' ({shas['snapshot']}): missing" in problems
    assert (
        f"s3 object artifacts/{shas['snapshot']} was deleted (a delete marker hides its retained version)"
        in problems
    )
    assert "s3 object entries/00000004.json was overwritten: 2 versions" in problems
    assert "manifest line 4: edited" in problems and "entry 5 (add action" in problems


def _check_bucket(s3: Any, bucket: str, other_account: Any) -> None:
    lock = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    assert lock["ObjectLockEnabled"] == "Enabled"
    assert (lock["Rule"]["DefaultRetention"]["Mode"], lock["Rule"]["DefaultRetention"]["Days"]) == (
        "COMPLIANCE",
        3,
    )
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    # in the security account, not in a workload account
    assert bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert bucket not in [b["Name"] for b in other_account.list_buckets()["Buckets"]]


# ---- event extracts ------------------------------------------------------------------------------------------


def test_event_extract_picks_the_incidents_records_in_time_order(home: Home, tmp_path: Path) -> None:
    mallory = "arn:aws:iam::111122223333:user/mallory"
    role = "arn:aws:iam::111122223333:role/deploy"
    ident = {"type": "IAMUser", "arn": mallory, "accountId": "111122223333", "userName": "mallory",
             "accessKeyId": "AKIAMALLORY"}  # fmt: skip
    assumed = {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/deploy/ci",
               "accountId": "111122223333", "accessKeyId": "ASIAROLE",
               "sessionContext": {"sessionIssuer": {"type": "Role", "arn": role, "userName": "deploy"}}}  # fmt: skip
    recs = [record(i) for i in range(10)]
    recs[7].update(userIdentity=ident, eventName="CreateAccessKey")
    recs[2].update(userIdentity=ident)
    recs[4].update(requestParameters={"instanceId": "i-0abc"})
    recs[5].update(userIdentity=assumed)
    recs[6].update(
        requestParameters={"accessKeyId": "AKIAMALLORY", "status": "Inactive"}, eventName="UpdateAccessKey"
    )
    recs[8].update(userIdentity=ident, recipientAccountId="999988887777")
    recs[9].update(userIdentity=ident, eventTime="2026-11-21T10:00:00Z")  # outside the window
    ingest(home, [str(write_trail(tmp_path / "trail.json.gz", recs))])
    window = {"start": datetime(2026, 11, 20, 9, tzinfo=UTC), "end": datetime(2026, 11, 20, 12, tzinfo=UTC)}

    def ids(**kw: Any) -> list[int]:
        args = (
            {"principals": [], "access_keys": [], "resources": [], "account_id": "111122223333"} | window | kw
        )
        out = event_extract(home, **args)
        return [int(json.loads(line)["eventID"].split("-")[-1]) for line in out.splitlines()]

    assert ids(principals=[mallory]) == [2, 7]
    assert ids(principals=[mallory], account_id=None) == [2, 7, 8]
    assert ids(principals=[role]) == [5]
    assert ids(access_keys=["AKIAMALLORY"]) == [2, 6, 7]
    assert ids(resources=["i-0abc"], principals=[mallory]) == [2, 4, 7]
    assert ids(resources=["i-0abc"], principals=[mallory], limit=2) == [2, 4]
    assert ids() == []
    extract = event_extract(
        home, principals=[mallory], access_keys=[], resources=[], account_id=None, **window
    )
    assert json.loads(extract.splitlines()[1]) == recs[7]  # the raw record, untouched
    locker = Locker.open(home)
    art = locker.add(3, "event-extract", "cloudtrail.jsonl", extract, **WHO)
    assert art.media_type == "application/x-ndjson" and locker.verify(3).ok
