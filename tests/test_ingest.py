"""Ingestion: formats, exactly-once, quarantine with reasons, odd real-world values."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest

from cloudsoc.core.config import Home
from cloudsoc.lake.ingest import ingest
from cloudsoc.lake.store import Lake
from cloudsoc.normalize.schema import SCHEMAS
from tests.conftest import record, trail_dir, write_trail


def _count(home: Home) -> tuple[int, int]:
    con = Lake(home.lake).connect()
    n, distinct = con.execute("SELECT count(*), count(DISTINCT event_id) FROM cloudtrail").fetchall()[0]
    return n, distinct


def test_layout_is_ingested_once(home: Home, tmp_path: Path) -> None:
    src = trail_dir(tmp_path / "in", files=12, per_file=50)
    first = ingest(home, [str(src)], workers=2)
    assert (first.events_ingested, first.duplicates_skipped, first.partial) == (600, 0, False)
    again = ingest(home, [str(src)])
    assert again.files_skipped == 12 and again.events_ingested == 0
    assert _count(home) == (600, 600)


def test_copies_of_the_same_events_are_dropped(home: Home, tmp_path: Path) -> None:
    recs = [record(i) for i in range(30)]
    write_trail(tmp_path / "a" / "one.json.gz", recs)
    write_trail(tmp_path / "a" / "copy.json.gz", recs + recs[:5])  # also repeated inside one file
    summary = ingest(home, [str(tmp_path / "a")])
    assert summary.events_ingested == 30 and summary.duplicates_skipped == 35
    assert _count(home) == (30, 30)


def test_bad_inputs_are_quarantined_and_the_rest_ingested(home: Home, tmp_path: Path) -> None:
    d = tmp_path / "in"
    write_trail(d / "good.json.gz", [record(i) for i in range(10)])
    (d / "corrupt.json.gz").write_bytes(gzip.compress(orjson.dumps({"Records": [record(99)]}))[:40])
    (d / "truncated.json").write_bytes(orjson.dumps({"Records": [record(98)]})[:-20])
    (d / "other.json").write_bytes(b'{"hello": "world"}')
    bad_utf8 = orjson.dumps({"Records": [record(50), record(51, userAgent="X")]}).replace(
        b'"X"', b'"\xff\xfe"'
    )
    (d / "mixed.json").write_bytes(bad_utf8)
    write_trail(d / "notime.json.gz", [record(60), {k: v for k, v in record(61).items() if k != "eventTime"}])
    summary = ingest(home, [str(d)])
    assert summary.partial
    reasons = {(Path(q.uri).name, q.record_index): q.reason for q in summary.quarantined}
    assert "gzip" in reasons[("corrupt.json.gz", None)]
    assert "truncated" in reasons[("truncated.json", None)]
    assert "not CloudTrail" in reasons[("other.json", None)]
    assert "UTF-8" in reasons[("mixed.json", 1)]
    assert "eventTime" in reasons[("notime.json.gz", 1)]
    assert summary.events_ingested == 10 + 1 + 1
    for q in summary.quarantined:
        assert Path(q.stored_path).exists()


def test_real_world_oddities_are_accepted(home: Home, tmp_path: Path) -> None:
    recs = [
        record(1, eventTime="2026-11-20 10:00:00.123456789"),
        record(2, requestParameters=None, userAgent="[aws-sdk-go/1.44 (go1.20; linux)]"),
        record(3, sourceIPAddress="not-an-ip.example", awsRegion="xx-future-9"),
    ]
    write_trail(tmp_path / "odd.json", recs, gz=False)
    assert ingest(home, [str(tmp_path / "odd.json")]).events_ingested == 3
    con = Lake(home.lake).connect()
    rows = dict(con.execute("SELECT event_id, user_agent FROM cloudtrail").fetchall())
    assert rows[recs[1]["eventID"]] == "[aws-sdk-go/1.44 (go1.20; linux)]"  # hot columns copy values exactly
    t = con.execute(
        "SELECT strftime(event_time, '%H:%M:%S.%f') FROM cloudtrail WHERE event_id = ?", [recs[0]["eventID"]]
    )
    assert t.fetchall()[0][0] == "10:00:00.123456"
    raw = con.execute("SELECT raw FROM cloudtrail WHERE event_id = ?", [recs[2]["eventID"]]).fetchall()[0][0]
    assert orjson.loads(raw) == recs[2]  # the raw record is kept untouched


def test_arrays_json_lines_and_digests(home: Home, tmp_path: Path) -> None:
    (tmp_path / "arr.json").write_bytes(orjson.dumps([record(1), record(2)]))
    (tmp_path / "lines.jsonl").write_bytes(b"\n".join(orjson.dumps(record(i)) for i in (3, 4, 5)))
    digest = {"awsAccountId": "111122223333", "digestStartTime": "2026-11-20T10:00:00Z", "logFiles": []}
    (tmp_path / "111122223333_CloudTrail-Digest_us-east-1_x.json.gz").write_bytes(
        gzip.compress(orjson.dumps(digest))
    )
    summary = ingest(home, [str(tmp_path)])
    assert summary.events_ingested == 5 and summary.files_ignored == 1 and not summary.partial


def test_s3_prefix_through_a_moto_server(home: Home, tmp_path: Path, moto_endpoint: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import boto3

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="org-trail")
    src = trail_dir(tmp_path / "in", files=3, per_file=20)
    for f in src.rglob("*.json.gz"):
        s3.put_object(Bucket="org-trail", Key=str(f.relative_to(src)), Body=f.read_bytes())
    s3.put_object(Bucket="org-trail", Key="AWSLogs/broken.json.gz", Body=b"\x1f\x8bnot really")
    summary = ingest(home, ["s3://org-trail/AWSLogs/"])
    assert summary.events_ingested == 60
    assert [q.uri for q in summary.quarantined] == ["s3://org-trail/AWSLogs/broken.json.gz"]
    assert ingest(home, ["s3://org-trail/AWSLogs/"]).files_skipped == 4


def test_duckdb_catalog_file_sees_the_lake(home: Home, tmp_path: Path) -> None:
    import duckdb

    write_trail(tmp_path / "in" / "a.json", [record(i) for i in range(7)])
    ingest(home, [str(tmp_path / "in")])
    con = duckdb.connect(str(home.lake / "catalog.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM cloudtrail").fetchall() == [(7,)]
    con.close()
    write_trail(tmp_path / "in" / "b.json", [record(i) for i in range(7, 10)])
    ingest(home, [str(tmp_path / "in")])
    con = duckdb.connect(str(home.lake / "catalog.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM cloudtrail").fetchall() == [(10,)]


def test_copies_are_dropped_after_their_partition_left_memory(
    home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("cloudsoc.lake.store.SEEN_IDS", 10)  # keep one partition's ids at a time
    home.settings.ingest.chunk_kb = 1  # one file per chunk, so each partition is committed apart
    a = [record(i, recipientAccountId="111111111111") for i in range(22)]
    b = [record(i, recipientAccountId="222222222222") for i in range(100, 120)]
    write_trail(tmp_path / "in" / "1-a.json.gz", a[:20])
    write_trail(tmp_path / "in" / "2-b.json.gz", b)
    write_trail(tmp_path / "in" / "3-a-again.json.gz", a[5:])  # 15 copies, 2 new
    summary = ingest(home, [str(tmp_path / "in")], workers=1)
    assert (summary.events_ingested, summary.duplicates_skipped) == (42, 15)
    assert _count(home) == (42, 42)


def test_files_of_an_older_lake_get_the_new_columns_once(home: Home, tmp_path: Path) -> None:
    """A lake written before a hot column existed is upgraded when it is opened: the column is read
    from the raw records, every event stays once, and an upgraded lake is not rewritten again."""
    import pyarrow.parquet as pq

    events = [record(i) for i in range(6)]
    events[1]["vpcEndpointId"] = "vpce-1"
    events[2]["userIdentity"] = {"type": "AssumedRole", "sessionContext": {"ec2RoleDelivery": "2.0"}}
    write_trail(tmp_path / "in" / "a.json", events)
    ingest(home, [str(tmp_path / "in")])
    (path,) = home.lake.glob("cloudtrail/*/*/*.parquet")
    old = pq.read_table(path).drop_columns(["vpc_endpoint_id", "ec2_role_delivery"])
    pq.write_table(old, path)
    (home.lake / ".format").unlink()

    rows = (
        Lake(home.lake)
        .connect()
        .execute("SELECT event_id, vpc_endpoint_id, ec2_role_delivery FROM cloudtrail ORDER BY event_id")
    )
    got = {e: (v, d) for e, v, d in rows.fetchall()}
    assert len(got) == 6
    assert got[events[1]["eventID"]] == ("vpce-1", None)
    assert got[events[2]["eventID"]] == (None, "2.0")
    assert pq.read_schema(path).names == SCHEMAS["cloudtrail"].names
    upgraded = path.stat().st_mtime_ns
    Lake(home.lake).connect()
    assert path.stat().st_mtime_ns == upgraded
    assert _count(home) == (6, 6)


def test_an_older_lake_that_cannot_be_written_is_a_clear_error(
    home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from contextlib import contextmanager

    from cloudsoc.core.errors import ConfigError

    write_trail(tmp_path / "in" / "a.json", [record(i) for i in range(3)])
    ingest(home, [str(tmp_path / "in")])
    (home.lake / ".format").unlink()

    @contextmanager
    def read_only(self: Lake):  # type: ignore[no-untyped-def]
        raise PermissionError(13, "Read-only file system")
        yield

    monkeypatch.setattr(Lake, "writer", read_only)
    with pytest.raises(ConfigError, match="older cloudsoc"):
        Lake(home.lake).connect()
