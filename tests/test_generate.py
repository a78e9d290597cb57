"""The CloudTrail day generator: S3 layout, record shapes, determinism, the intrusion and its twins."""

from __future__ import annotations

import gzip
import hashlib
import re
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest

from cloudsoc.core.errors import ConfigError
from cloudsoc.normalize.cloudtrail import parse
from cloudsoc.normalize.formats import sniff
from cloudsoc.simulate.catalog import OUTSIDE_ACCOUNT
from cloudsoc.simulate.generate import GenerateResult, generate_day, main

EVENTS = 5000
ORG = "o-exampleorg1"
LOG = re.compile(
    rf"AWSLogs/{ORG}/(\d{{12}})/CloudTrail/([a-z]{{2}}-[a-z]+-\d)/2026/11/20/"
    r"\1_CloudTrail_\2_20261120T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz"
)
DIGEST = re.compile(
    rf"AWSLogs/{ORG}/(\d{{12}})/CloudTrail-Digest/([a-z]{{2}}-[a-z]+-\d)/2026/11/20/"
    r"\1_CloudTrail-Digest_\2_org-trail_\2_20261120T\d{6}Z\.json\.gz"
)
UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
Record = dict[str, Any]


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _records(files: dict[str, bytes]) -> list[tuple[str, Record]]:
    out = []
    for name, data in files.items():
        if "/CloudTrail/" in name:
            out += [(name, rec) for rec in orjson.loads(gzip.decompress(data))["Records"]]
    return out


def _where(name: str) -> tuple[str, str]:
    """Account and region of a log file, from its key."""
    found = LOG.fullmatch(name)
    assert found, name
    return found.group(1), found.group(2)


def _seconds(rec: Record) -> int:
    t = rec["eventTime"]
    return int(t[11:13]) * 3600 + int(t[14:16]) * 60 + int(t[17:19])


def _max_in_window(times: list[int], window: int) -> int:
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while times[lo] < t - window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


@pytest.fixture(scope="module")
def day(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[GenerateResult, dict[str, bytes], list[tuple[str, Record]]]:
    root = tmp_path_factory.mktemp("day")
    result = generate_day(root, events=EVENTS)
    files = _files(root)
    return result, files, _records(files)


def test_layout_and_names_are_cloudtrails(day: Any) -> None:
    result, files, _ = day
    logs = [n for n in files if "/CloudTrail/" in n]
    digests = [n for n in files if "/CloudTrail-Digest/" in n]
    assert len(logs) + len(digests) == len(files)
    assert all(LOG.fullmatch(n) for n in logs), [n for n in logs if not LOG.fullmatch(n)][:3]
    assert all(DIGEST.fullmatch(n) for n in digests), [n for n in digests if not DIGEST.fullmatch(n)][:3]
    assert result.files == len(logs) and result.digests == len(digests) > 0
    assert result.bytes == sum(len(files[n]) for n in logs)
    assert len({_where(n)[0] for n in logs}) == 6
    assert {_where(n)[1] for n in logs} == {"us-east-1", "eu-west-1", "us-west-2"}


def test_every_file_is_a_gzip_delivery_and_the_total_is_exact(day: Any) -> None:
    result, files, records = day
    for name, data in files.items():
        assert data[:2] == b"\x1f\x8b"
        body = gzip.decompress(data)
        if "/CloudTrail/" in name:
            assert body.startswith(b'{"Records":[')
            assert sniff(name, body) == "cloudtrail"
            assert 1 <= len(orjson.loads(body)["Records"]) <= 1000
        else:
            assert sniff(name, body) == "cloudtrail-digest"
    # ``events`` counts every record, the attack campaign included.
    assert len(records) == result.events == EVENTS
    assert result.json_bytes == sum(len(gzip.decompress(files[n])) for n in files if "/CloudTrail/" in n)


def test_records_look_like_cloudtrail(day: Any) -> None:
    _, files, records = day
    ids = [rec["eventID"] for _, rec in records]
    assert len(set(ids)) == len(ids) and all(UUID4.fullmatch(i) for i in ids)
    for name, rec in records:
        account, region = _where(name)
        assert rec["recipientAccountId"] == account and rec["awsRegion"] == region
        assert rec["eventVersion"] in {"1.08", "1.09", "1.10", "1.11"}
        assert re.fullmatch(r"2026-11-20T\d\d:\d\d:\d\dZ", rec["eventTime"])
        assert rec["eventSource"].endswith(".amazonaws.com")
        assert rec["eventType"] in {"AwsApiCall", "AwsConsoleSignIn", "AwsServiceEvent"}
        assert rec["eventCategory"] == ("Management" if rec["managementEvent"] else "Data")
        assert {"requestParameters", "responseElements", "requestID", "readOnly", "userAgent"} <= rec.keys()
    sample = next(n for n in files if "/CloudTrail/" in n)
    parsed = parse(gzip.decompress(files[sample]))
    assert not parsed.issues and parsed.table.num_rows == len(
        orjson.loads(gzip.decompress(files[sample]))["Records"]
    )


def test_variety_of_identities_agents_and_errors(day: Any) -> None:
    _, _, records = day
    recs = [rec for _, rec in records]
    types = Counter(rec["userIdentity"].get("type") for rec in recs)
    assert {"IAMUser", "AssumedRole", "AWSService", "Root", "FederatedUser"} <= types.keys()
    assumed = next(r["userIdentity"] for r in recs if r["userIdentity"].get("type") == "AssumedRole")
    assert {"mfaAuthenticated", "creationDate"} <= assumed["sessionContext"]["attributes"].keys()
    assert assumed["sessionContext"]["sessionIssuer"]["type"] == "Role"
    agents = " ".join(r["userAgent"] for r in recs)
    for agent in (
        "aws-cli/2.",
        "Boto3/1.",
        "console.amazonaws.com",
        "Terraform",
        "aws-sdk-go",
        "AWS Internal",
    ):
        assert agent in agents
    ips = {r["sourceIPAddress"] for r in recs}
    assert "ec2.amazonaws.com" in ips and "AWS Internal" in ips
    errors = Counter(r.get("errorCode") for r in recs if "errorCode" in r)
    assert {"AccessDenied", "Client.UnauthorizedOperation"} <= errors.keys()
    assert 0.01 < sum(errors.values()) / len(recs) < 0.06
    assert any(r.get("sessionCredentialFromConsole") == "true" for r in recs)
    assert any("tlsDetails" in r for r in recs) and any("resources" in r for r in recs)
    logins = [r for r in recs if r["eventName"] == "ConsoleLogin"]
    assert all({"MFAUsed", "LoginTo", "MobileVersion"} <= r["additionalEventData"].keys() for r in logins)
    hours = Counter(_seconds(r) // 3600 for r in recs)
    assert hours[16] > 2 * hours[4]  # busier in working hours


def test_average_record_size(day: Any) -> None:
    result, _, records = day
    average = sum(len(orjson.dumps(rec)) for _, rec in records) / len(records)
    assert 1100 <= average <= 1500
    assert 1100 <= result.json_bytes / result.events <= 1600  # includes the {"Records":[...]} wrapping


def test_attack_events_are_present_and_listed(day: Any) -> None:
    result, _, records = day
    by_id = {rec["eventID"]: rec for _, rec in records}
    assert 50 <= len(result.attacks) <= 300
    for attack in result.attacks:
        rec = by_id[attack["event_id"]]
        assert rec["eventName"] == attack["event_name"] and rec["recipientAccountId"] == attack["account_id"]
    names = {a["name"] for a in result.attacks}
    assert {
        "console-login-no-mfa", "root-console-login", "iam-create-user", "iam-create-access-key",
        "iam-create-login-profile", "iam-attach-admin-policy", "iam-create-access-key-other-user",
        "sg-open-ssh-world", "snapshot-shared-external", "ami-shared-external", "bucket-policy-public",
        "cloudtrail-stop-logging", "cloudtrail-delete-trail", "cloudtrail-event-selectors-no-management",
        "cloudtrail-bucket-lifecycle-expire", "vpc-flow-logs-deleted", "guardduty-detector-deleted",
        "guardduty-detector-disabled", "config-recorder-stopped", "secrets-burst", "access-denied-burst",
    } <= names  # fmt: skip
    assert len({a["account_id"] for a in result.attacks}) == 2


def _attack(result: GenerateResult, records: list[tuple[str, Record]], name: str) -> list[Record]:
    ids = {a["event_id"] for a in result.attacks if a["name"] == name}
    return [rec for _, rec in records if rec["eventID"] in ids]


def test_attack_shapes_are_the_ones_aws_writes(day: Any) -> None:
    result, _, records = day
    (login,) = _attack(result, records, "console-login-no-mfa")
    assert (
        login["additionalEventData"]["MFAUsed"] == "No"
        and login["responseElements"]["ConsoleLogin"] == "Success"
    )
    (ssh,) = _attack(result, records, "sg-open-ssh-world")
    perm = ssh["requestParameters"]["ipPermissions"]["items"][0]
    assert perm["fromPort"] == 22 and perm["ipRanges"]["items"][0]["cidrIp"] == "0.0.0.0/0"
    (snap,) = _attack(result, records, "snapshot-shared-external")
    assert snap["requestParameters"]["createVolumePermission"]["add"]["items"] == [
        {"userId": OUTSIDE_ACCOUNT}
    ]
    (ami,) = _attack(result, records, "ami-shared-external")
    assert ami["requestParameters"]["launchPermission"]["add"]["items"] == [{"userId": OUTSIDE_ACCOUNT}]
    (policy,) = _attack(result, records, "bucket-policy-public")
    assert policy["requestParameters"]["bucketPolicy"]["Statement"][0]["Principal"] == "*"
    (selectors,) = _attack(result, records, "cloudtrail-event-selectors-no-management")
    assert selectors["requestParameters"]["eventSelectors"][0]["includeManagementEvents"] is False
    (expire,) = _attack(result, records, "cloudtrail-bucket-lifecycle-expire")
    assert expire["requestParameters"]["LifecycleConfiguration"]["Rule"]["Expiration"]["Days"] == 1
    (disabled,) = _attack(result, records, "guardduty-detector-disabled")
    assert disabled["requestParameters"]["enable"] is False
    (root,) = _attack(result, records, "root-console-login")
    assert root["userIdentity"]["type"] == "Root"
    secrets = _attack(result, records, "secrets-burst")
    assert len({r["userIdentity"]["arn"] for r in secrets}) == 1
    assert _max_in_window([_seconds(r) for r in secrets], 120) >= 20
    denied = _attack(result, records, "access-denied-burst")
    assert len({r["userIdentity"]["arn"] for r in denied}) == 1
    assert _max_in_window([_seconds(r) for r in denied if r["errorCode"] == "AccessDenied"], 300) >= 30


def test_benign_twins_are_present_and_not_listed(day: Any) -> None:
    result, _, records = day
    listed = {a["event_id"] for a in result.attacks}
    benign = [rec for _, rec in records if rec["eventID"] not in listed]
    names = Counter(r["eventName"] for r in benign)
    for name in ("AuthorizeSecurityGroupIngress", "PutBucketPolicy", "CreateAccessKey", "UpdateTrail",
                 "ModifySnapshotAttribute", "PutEventSelectors", "PutBucketLifecycle", "UpdateDetector"):  # fmt: skip
        assert names[name] >= 1, name
    mfa = [
        r for r in benign if r["eventName"] == "ConsoleLogin" and r["additionalEventData"]["MFAUsed"] == "Yes"
    ]
    assert mfa
    for r in benign:
        req = r["requestParameters"] or {}
        assert r["userIdentity"].get("type") != "Root"
        assert r["eventName"] not in {"StopLogging", "DeleteTrail", "DeleteDetector", "DeleteFlowLogs"}
        if r["eventName"] == "AuthorizeSecurityGroupIngress":
            perm = req["ipPermissions"]["items"][0]
            assert not (perm["fromPort"] == 22 and perm["ipRanges"]["items"][0]["cidrIp"] == "0.0.0.0/0")
        if r["eventName"] == "ModifySnapshotAttribute":
            assert req["createVolumePermission"]["add"]["items"][0]["userId"] != OUTSIDE_ACCOUNT
        if r["eventName"] == "CreateAccessKey":
            assert req["userName"] in r["userIdentity"]["arn"]
        if r["eventName"] == "ConsoleLogin" and r["responseElements"]["ConsoleLogin"] == "Success":
            assert r["additionalEventData"]["MFAUsed"] == "Yes"
    secrets: dict[str, list[int]] = defaultdict(list)
    for r in benign:
        if r["eventName"] == "GetSecretValue":
            secrets[r["userIdentity"]["arn"]].append(_seconds(r))
    assert max(_max_in_window(t, 120) for t in secrets.values()) < 10


def test_digests_chain_and_hash_the_log_files(day: Any) -> None:
    _, files, _ = day
    digests = [orjson.loads(gzip.decompress(files[n])) for n in files if "/CloudTrail-Digest/" in n]
    listed = [f for d in digests for f in d["logFiles"]]
    assert listed
    for d in digests:
        assert {"awsAccountId", "digestStartTime", "digestEndTime", "digestS3Bucket", "digestS3Object",
                "digestPublicKeyFingerprint", "digestSignatureAlgorithm", "previousDigestS3Object",
                "previousDigestHashValue", "logFiles"} <= d.keys()  # fmt: skip
        assert d["digestSignatureAlgorithm"] == "SHA256withRSA" and d["digestS3Object"] in files
    for f in listed[:20]:
        assert hashlib.sha256(gzip.decompress(files[f["s3Object"]])).hexdigest() == f["hashValue"]
    objects = {d["digestS3Object"]: files[d["digestS3Object"]] for d in digests}
    chained = [d for d in digests if d["previousDigestS3Object"] in objects]
    assert chained
    for d in chained:
        previous = gzip.decompress(objects[d["previousDigestS3Object"]])
        assert hashlib.sha256(previous).hexdigest() == d["previousDigestHashValue"]


def test_same_arguments_give_the_same_bytes_whatever_the_workers(tmp_path: Path) -> None:
    one = generate_day(tmp_path / "one", events=3000, accounts=3, seed=11)
    two = generate_day(tmp_path / "two", events=3000, accounts=3, seed=11, workers=2)
    assert one == two
    assert _files(tmp_path / "one") == _files(tmp_path / "two")
    generate_day(tmp_path / "other", events=3000, accounts=3, seed=12)
    assert _files(tmp_path / "other").keys() != _files(tmp_path / "one").keys()


def test_without_attacks(tmp_path: Path) -> None:
    result = generate_day(tmp_path, events=2000, accounts=2, attacks=False, day=date(2026, 3, 1))
    assert result.attacks == [] and result.events == 2000
    records = _records(_files(tmp_path))
    assert len(records) == 2000
    assert all(rec["eventTime"].startswith("2026-03-01T") for _, rec in records)
    assert not any(rec["userIdentity"].get("type") == "Root" for _, rec in records)


def test_too_few_events_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        generate_day(tmp_path, events=10)
    with pytest.raises(ConfigError):
        generate_day(tmp_path, events=1000, accounts=0)


def test_a_larger_day_has_the_variety(tmp_path: Path) -> None:
    result = generate_day(tmp_path, events=50_000, attacks=False, workers=2)
    records = _records(_files(tmp_path))
    assert len(records) == result.events == 50_000
    names = Counter(rec["eventName"] for _, rec in records)
    assert len(names) >= 120
    assert len({rec["eventSource"] for _, rec in records}) >= 20
    top = [n for n, _ in names.most_common(6)]
    assert "AssumeRole" in top and "Decrypt" in top
    sizes = Counter(
        len(orjson.loads(gzip.decompress(p.read_bytes()))["Records"]) for p in tmp_path.rglob("*T*Z_*")
    )
    assert sizes and max(sizes) <= 1000


def test_cli_prints_the_result(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path), "--events", "1500", "--accounts", "2", "--no-attacks"]) == 0
    out = orjson.loads(capsys.readouterr().out)
    assert out["events"] == 1500 and out["attacks"] == [] and out["files"] > 0
