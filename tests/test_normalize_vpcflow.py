"""VPC Flow Logs parser: default and header formats, nulls, raw JSON, identities, issues."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import orjson
import pytest

from cloudsoc.core.errors import InputError
from cloudsoc.normalize import formats, vpcflow
from cloudsoc.normalize.schema import SCHEMAS

V2 = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
V5 = (
    V2 + " vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id"
    " sublocation-type sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path"
)
ACCEPT = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK"
REJECT = "2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK"
NODATA = "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA"
V5_LINE = (
    "5 123456789010 eni-0a1b2c3d4e5f67890 10.0.1.5 52.95.128.1 39812 443 6 12 4312 1700000000 1700000060 ACCEPT OK"
    " vpc-0abc1234 subnet-0def5678 i-0123456789abcdef0 19 IPv4 10.0.1.5 52.95.128.1 us-east-1 use1-az1"
    " - - - S3 egress 8"
)


def lines(*records: str, header: str | None = None, end: str = "\n") -> bytes:
    rows = [header, *records] if header else list(records)
    return (end.join(rows) + end).encode()


def test_default_format_hot_columns() -> None:
    data = lines(ACCEPT, REJECT)
    assert formats.sniff("eni.log", data) == "vpcflow"
    parsed = vpcflow.parse(data, "vpcflow")
    assert parsed.source == "vpcflow" and parsed.issues == []
    assert parsed.table.schema == SCHEMAS["vpcflow"]
    row = parsed.table.to_pylist()[0]
    start = datetime(2014, 12, 14, 4, 6, 50, tzinfo=UTC)
    assert (row["event_time"], row["start_time"]) == (start, start)
    assert row["end_time"] == datetime(2014, 12, 14, 4, 7, 50, tzinfo=UTC)
    assert (row["account_id"], row["interface_id"]) == ("123456789010", "eni-1235b8ca123456789")
    assert (row["src_addr"], row["dst_addr"], row["src_port"], row["dst_port"]) == (
        "172.31.16.139",
        "172.31.16.21",
        20641,
        22,
    )
    assert (row["protocol"], row["packets"], row["bytes"]) == (6, 20, 4249)
    assert (row["action"], row["log_status"], row["region"]) == ("ACCEPT", "OK", None)
    assert parsed.table.column("action").to_pylist() == ["ACCEPT", "REJECT"]


def test_raw_is_the_record_as_json_by_field_name() -> None:
    parsed = vpcflow.parse(lines(ACCEPT), "vpcflow")
    raw = parsed.table.column("raw")[0].as_py()
    assert raw == orjson.dumps(dict(zip(V2.split(), ACCEPT.split(), strict=True))).decode()
    assert json.loads(raw)["log-status"] == "OK"


def test_dash_is_null_in_columns_and_kept_in_raw() -> None:
    row = vpcflow.parse(lines(NODATA), "vpcflow").table.to_pylist()[0]
    for column in ("src_addr", "dst_addr", "src_port", "dst_port", "protocol", "packets", "bytes", "action"):
        assert row[column] is None, column
    assert row["log_status"] == "NODATA"
    assert row["start_time"] == datetime(2015, 5, 10, 18, 1, 16, tzinfo=UTC)
    assert json.loads(row["raw"])["srcaddr"] == "-"


def test_header_with_v5_fields() -> None:
    data = lines(V5_LINE, header=V5)
    assert formats.sniff("x.log", data) == "vpcflow"
    parsed = vpcflow.parse(data, "vpcflow")
    assert parsed.issues == []
    row = parsed.table.to_pylist()[0]
    assert row["region"] == "us-east-1"
    assert (row["src_port"], row["dst_port"], row["bytes"]) == (39812, 443, 4312)
    assert row["event_time"] == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    raw = json.loads(row["raw"])
    assert list(raw) == V5.split()
    assert (raw["tcp-flags"], raw["flow-direction"], raw["pkt-dst-aws-service"], raw["sublocation-id"]) == (
        "19",
        "egress",
        "S3",
        "-",
    )


def test_header_with_custom_field_order() -> None:
    header = "start end srcaddr dstaddr srcport dstport protocol action interface-id account-id region"
    record = "1418530010 1418530070 172.31.16.139 172.31.16.21 20641 22 6 ACCEPT eni-1235b8ca123456789 123456789010 -"
    data = lines(record, header=header)
    assert formats.sniff("custom.log", data) == "vpcflow"
    row = vpcflow.parse(data, "vpcflow").table.to_pylist()[0]
    assert (row["src_addr"], row["dst_port"], row["action"]) == ("172.31.16.139", 22, "ACCEPT")
    assert (row["packets"], row["bytes"], row["log_status"], row["region"]) == (None, None, None, None)
    assert list(json.loads(row["raw"])) == header.split()
    # The identity covers the same fields in any order, so it matches the default format's.
    assert row["event_id"] == vpcflow.parse(lines(ACCEPT), "vpcflow").table.column("event_id")[0].as_py()


def test_event_id_is_stable_and_tells_records_apart() -> None:
    data = lines(ACCEPT, REJECT, NODATA)
    first = vpcflow.parse(data, "vpcflow").table.column("event_id").to_pylist()
    assert vpcflow.parse(data, "vpcflow").table.column("event_id").to_pylist() == first
    assert len(set(first)) == 3
    later = ACCEPT.replace("1418530070 ACCEPT", "1418530071 ACCEPT")
    assert vpcflow.parse(lines(later), "vpcflow").table.column("event_id")[0].as_py() != first[0]
    # Packets and bytes are counters of the flow, not part of its identity.
    recount = ACCEPT.replace(" 20 4249 ", " 21 5000 ")
    assert vpcflow.parse(lines(recount), "vpcflow").table.column("event_id")[0].as_py() == first[0]


def test_bad_records_are_issues_with_their_line_and_the_rest_kept() -> None:
    short = "2 123456789010 eni-1235b8ca123456789 172.31.16.139"
    no_start = ACCEPT.replace("1418530010", "soon")
    dash_start = ACCEPT.replace("1418530010", "-")
    data = lines(ACCEPT, short, "", no_start, REJECT, ACCEPT + " extra", dash_start, NODATA, header=V2)
    parsed = vpcflow.parse(data, "vpcflow")
    assert parsed.table.column("action").to_pylist() == ["ACCEPT", "REJECT", None]
    assert [i.index for i in parsed.issues] == [1, 3, 5, 6]
    assert [i.raw for i in parsed.issues] == [short, no_start, ACCEPT + " extra", dash_start]
    assert "14 fields" in parsed.issues[0].reason and "'soon'" in parsed.issues[1].reason
    assert all(i.reason.startswith(f"record {i.index}:") for i in parsed.issues)


def test_line_numbers_across_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vpcflow, "_BLOCK", 1024)  # many small batches
    records = [ACCEPT.replace("20641", str(1000 + i)) for i in range(300)]
    records[7] = "2 short"
    records[150] = records[150].replace("1418530010", "x")
    records[299] = "2 short"
    parsed = vpcflow.parse(lines(*records), "vpcflow")
    assert parsed.table.num_rows == 297
    assert [i.index for i in parsed.issues] == [7, 150, 299]
    assert parsed.table.column("src_port").to_pylist()[:8] == [1000, 1001, 1002, 1003, 1004, 1005, 1006, 1008]


def test_non_numeric_counters_become_null_not_issues() -> None:
    odd = ACCEPT.replace(" 20641 22 6 20 4249 ", " 99999999999 ssh 6 20 4249 ")
    parsed = vpcflow.parse(lines(odd), "vpcflow")
    assert parsed.issues == []
    row = parsed.table.to_pylist()[0]
    assert (row["src_port"], row["dst_port"], row["protocol"]) == (None, None, 6)


def test_values_needing_json_escapes() -> None:
    odd = ACCEPT.replace("eni-1235b8ca123456789", 'eni-"quoted"\\x\tz')
    row = vpcflow.parse(lines(ACCEPT, odd), "vpcflow").table.to_pylist()[1]
    assert row["raw"] == orjson.dumps(dict(zip(V2.split(), odd.split(" "), strict=True))).decode()
    assert json.loads(row["raw"])["interface-id"] == 'eni-"quoted"\\x\tz'


def test_invalid_utf8_line_is_an_issue() -> None:
    data = (
        lines(ACCEPT, REJECT).replace(b"eni-1235b8ca123456789 172.31.9.69", b"eni-\xff 172.31.9.69")
        + (NODATA + "\n").encode()
    )
    parsed = vpcflow.parse(data, "vpcflow")
    assert parsed.table.column("log_status").to_pylist() == ["OK", "NODATA"]
    assert [(i.index, "UTF-8" in i.reason) for i in parsed.issues] == [(1, True)]


def test_crlf_line_ends() -> None:
    parsed = vpcflow.parse(lines(ACCEPT, NODATA, header=V2, end="\r\n"), "vpcflow")
    assert parsed.issues == []
    assert parsed.table.column("log_status").to_pylist() == ["OK", "NODATA"]


def test_concatenated_files_repeat_the_header() -> None:
    data = lines(ACCEPT, header=V2) + lines(REJECT, header=V2)
    parsed = vpcflow.parse(data, "vpcflow")
    assert parsed.issues == []
    assert parsed.table.column("action").to_pylist() == ["ACCEPT", "REJECT"]


def test_header_only_and_bad_headers() -> None:
    assert vpcflow.parse((V2 + "\n").encode(), "vpcflow").table.num_rows == 0
    with pytest.raises(InputError):
        vpcflow.parse(
            b"version account-id interface-id srcaddr dstaddr\n2 1 eni-1 1.1.1.1 2.2.2.2\n", "vpcflow"
        )
    with pytest.raises(InputError):
        vpcflow.parse(b"version start start end\n2 1 1 2\n", "vpcflow")
