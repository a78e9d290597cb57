"""CloudTrail columns: Arrow's JSON reader (the fast path) and record-by-record decoding agree.

The fast path only takes pieces where every record is a plain JSON object with hot fields of
the JSON types CloudTrail writes; anything else must fall back to decoding each record, which
names what is wrong. Both must build exactly the same columns.
"""

from __future__ import annotations

import random
from typing import Any

import msgspec
import orjson
import pytest

from cloudsoc.normalize import cloudtrail
from tests.conftest import record


def _raws(records: list[Any]) -> list[msgspec.Raw]:
    return cloudtrail.split_records(orjson.dumps({"Records": records}), "cloudtrail")


def _variants() -> list[dict[str, Any]]:
    """Records the fast path accepts, covering every rule of the columns."""
    session = {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::1:role/r", "x": [1]}, "attributes": {},
               "ec2RoleDelivery": "2.0"}  # fmt: skip
    identities: list[Any] = [
        None,
        {},
        {"type": "AssumedRole", "accountId": "444455556666", "sessionContext": session},
        {"type": "Root", "sessionContext": None, "invokedBy": "ec2.amazonaws.com"},
        {"type": "X", "sessionContext": {"sessionIssuer": None, "attributes": {"mfaAuthenticated": "true"}}},
    ]
    times = ["2026-11-20T10:00:00Z", "2026-11-20 10:00:00.5", "2026-11-20T12:00:00+02:00"]
    out = []
    for i in range(60):
        rec = record(i, userIdentity=identities[i % len(identities)], readOnly=[True, False, None][i % 3])
        rec["recipientAccountId"] = ["111122223333", "", None][i % 3]
        rec["eventTime"] = times[i % 3]
        if i % 7 == 0:
            rec["eventID"] = ["", None][i % 2]
        if i % 11 == 0:
            del rec["eventID"]
        if i % 5 == 0:
            rec["vpcEndpointId"] = "vpce-0fcfe3fb2c3ea9359"
        if i % 13 == 0:
            rec["userAgent"] = 'ünïcødé \x00 "quoted" \\ / \U0001f600'
        if i % 17 == 0:
            rec["requestParameters"] = {"eventTime": 5, "userIdentity": [1], "big": 2**63 - 1}
        out.append(rec)
    out[5]["eventTime"] = "not a time"  # an unreadable time is a bad row on both paths
    return out


def test_fast_path_builds_the_same_columns_as_decoding_each_record() -> None:
    raws = _raws(_variants())
    fast = cloudtrail._fast_table(raws)
    assert fast is not None
    rejected: dict[int, str] = {}
    table, bad, kept = cloudtrail._slow_table(raws, rejected, 0)
    assert (rejected, kept) == ({}, list(range(len(raws))))
    assert fast[0].equals(table)
    assert fast[1] == bad == {5: "unreadable eventTime 'not a time'"}


def test_escaped_keys_are_read_as_their_names() -> None:
    data = orjson.dumps({"Records": [record(1)]}).replace(b'"awsRegion"', b'"aws\\u0052egion"')
    raws = cloudtrail.split_records(data, "cloudtrail")
    fast = cloudtrail._fast_table(raws)
    assert fast is not None and fast[0]["region"].to_pylist() == ["us-east-1"]


@pytest.mark.parametrize(
    "odd",
    [
        None,  # Arrow's reader crashes on a null record: it must never see one
        "a string",
        record(2, readOnly="true"),
        record(3, awsRegion=5),
        record(4, userIdentity="root"),
        record(5, userIdentity=[{"type": "Root"}]),
        {k: v for k, v in record(6).items() if k != "eventTime"},
        record(7, eventTime=None),
    ],
)
def test_records_the_reader_cannot_take_go_record_by_record(odd: Any) -> None:
    raws = _raws([record(1), odd, record(8)])
    assert cloudtrail._fast_table(raws) is None
    rejected: dict[int, str] = {}
    table, bad, _ = cloudtrail._slow_table(raws, rejected, 0)
    assert table.num_rows + len(rejected) == 3 and not bad


def test_records_over_several_lines_are_read_alike() -> None:
    raws = cloudtrail.split_records(
        orjson.dumps({"Records": _variants()}, option=orjson.OPT_INDENT_2), "cloudtrail"
    )
    fast = cloudtrail._fast_table(raws)
    assert fast is not None and fast[0].equals(cloudtrail._slow_table(raws, {}, 0)[0])


@pytest.mark.parametrize(
    "data",
    [
        orjson.dumps({"Records": [record(1), record(2, userAgent="X")]}).replace(b'"X"', b'"\xff"'),
        b'{"Records":[' + orjson.dumps(record(1))[:-1] + b',"eventName":"Again"}]}',  # a repeated key
    ],
)
def test_other_oddities_go_record_by_record(data: bytes) -> None:
    assert cloudtrail._fast_table(cloudtrail.split_records(data, "cloudtrail")) is None


def test_a_null_record_is_reported_and_the_others_kept() -> None:
    batch = cloudtrail.CloudTrailBatch()
    handle = batch.add(orjson.dumps({"Records": [record(1), None, record(2)]}), "cloudtrail")
    table, parsed = batch.finish()
    assert table.num_rows == 2
    assert [(i.index, i.raw) for i in parsed[handle].issues] == [(1, "null")]


def _random_record(rng: random.Random) -> dict[str, Any]:
    """A record with hot fields of the JSON types the fast path takes, each rule varied at random."""

    def text() -> str | None:
        return rng.choice(
            [None, "", "x", "arn:aws:iam::1:role/r", '\x00"\\/\n\U0001f600é', "a" * rng.choice([12, 13, 300])]
        )

    def identity() -> dict[str, Any] | None:
        if rng.random() < 0.1:
            return None
        keys = ("type", "arn", "accountId", "userName", "accessKeyId", "invokedBy", "principalId")
        out: dict[str, Any] = {k: text() for k in keys if rng.random() < 0.7}
        if rng.random() < 0.6:
            issuer = (
                None
                if rng.random() < 0.2
                else {k: text() for k in ("type", "arn", "x") if rng.random() < 0.8}
            )
            attributes = None if rng.random() < 0.2 else {"mfaAuthenticated": text()}
            out["sessionContext"] = (
                None
                if rng.random() < 0.1
                else {"sessionIssuer": issuer, "attributes": attributes, "ec2RoleDelivery": text()}
            )
        return out

    times = [
        "2026-11-20T10:00:00Z",
        "2026-11-21 01:02:03.5",
        "2026-11-20T12:00:00+02:00",
        "2026-11-20T10:00:00",
        "bad",
    ]
    rec: dict[str, Any] = {"eventTime": rng.choice(times)}
    hot = ("eventID", "eventSource", "eventName", "eventType", "awsRegion", "recipientAccountId", "sourceIPAddress",
           "userAgent", "errorCode", "vpcEndpointId")  # fmt: skip
    rec.update({k: text() for k in hot if rng.random() < 0.85})
    if rng.random() < 0.9:
        rec["userIdentity"] = identity()
    if rng.random() < 0.8:
        rec["readOnly"] = rng.choice([True, False, None])
    if rng.random() < 0.5:
        rec["requestParameters"] = {"eventTime": 5, "userIdentity": [1, {"a": None}], "n": -1.5e300}
    return rec


def test_fast_and_slow_paths_agree_on_random_records() -> None:
    rng = random.Random(7)
    for _ in range(40):
        raws = _raws([_random_record(rng) for _ in range(rng.randint(1, 60))])
        fast = cloudtrail._fast_table(raws)
        assert fast is not None
        rejected: dict[int, str] = {}
        table, bad, _ = cloudtrail._slow_table(raws, rejected, 0)
        assert not rejected and fast[0].equals(table) and fast[1] == bad
