"""Arrow schemas of the lake, one per source, and the shared result of every parser."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from cloudsoc.core.errors import InputError

TIME = pa.timestamp("us", tz="UTC")

COMMON = [
    ("event_time", TIME),
    ("event_id", pa.string()),  # the dedup identity within a source
    ("account_id", pa.string()),
    ("region", pa.string()),
]

SCHEMAS: dict[str, pa.Schema] = {
    "cloudtrail": pa.schema(
        [
            *COMMON,
            ("event_source", pa.string()),
            ("event_name", pa.string()),
            ("principal_arn", pa.string()),
            ("principal_type", pa.string()),
            ("source_ip", pa.string()),
            ("user_agent", pa.string()),
            ("error_code", pa.string()),
            ("read_only", pa.bool_()),
            ("raw", pa.string()),
        ]
    ),
    "guardduty": pa.schema(
        [
            *COMMON,
            ("finding_id", pa.string()),
            ("finding_type", pa.string()),
            ("title", pa.string()),
            ("severity", pa.float64()),
            ("resource_type", pa.string()),
            ("principal_arn", pa.string()),
            ("source_ip", pa.string()),
            ("raw", pa.string()),
        ]
    ),
    "securityhub": pa.schema(
        [
            *COMMON,
            ("finding_id", pa.string()),
            ("product_name", pa.string()),
            ("generator_id", pa.string()),
            ("title", pa.string()),
            ("severity_label", pa.string()),
            ("resource_type", pa.string()),
            ("resource_id", pa.string()),
            ("compliance_status", pa.string()),
            ("workflow_status", pa.string()),
            ("record_state", pa.string()),
            ("raw", pa.string()),
        ]
    ),
    "vpcflow": pa.schema(
        [
            *COMMON,
            ("interface_id", pa.string()),
            ("src_addr", pa.string()),
            ("dst_addr", pa.string()),
            ("src_port", pa.int32()),
            ("dst_port", pa.int32()),
            ("protocol", pa.int32()),
            ("packets", pa.int64()),
            ("bytes", pa.int64()),
            ("start_time", TIME),
            ("end_time", TIME),
            ("action", pa.string()),
            ("log_status", pa.string()),
            ("raw", pa.string()),
        ]
    ),
}

SOURCES = tuple(SCHEMAS)


@dataclass
class RecordIssue:
    """A record left out of a file that was otherwise ingested."""

    index: int
    reason: str
    raw: str


@dataclass
class Parsed:
    """What a parser made of one input object."""

    source: str
    table: pa.Table
    issues: list[RecordIssue] = field(default_factory=list)


def empty(source: str) -> pa.Table:
    return SCHEMAS[source].empty_table()


def to_timestamps(values: pa.Array) -> tuple[pa.Array, list[int]]:
    """Parse time strings column-wise; returns the timestamps and the indexes that did not parse.

    Accepts ISO-8601 with ``T`` or a space, any fraction up to nanoseconds, ``Z``, an offset, or
    no zone at all (taken as UTC, as CloudTrail means it).
    """
    text = pc.utf8_trim_whitespace(values.cast(pa.string()))
    text = pc.replace_substring_regex(text, r"^(\d{4}-\d\d-\d\d) ", r"\1T")
    text = pc.replace_substring_regex(text, r"^([^Z+]*T[\d:.]+)$", r"\1Z")
    try:
        return pc.cast(text, pa.timestamp("ns", tz="UTC")).cast(TIME, safe=False), []
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    out: list[object] = []
    bad: list[int] = []
    for i, item in enumerate(text.to_pylist()):
        try:
            out.append(None if item is None else pc.cast(pa.scalar(item), pa.timestamp("ns", tz="UTC")))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            out.append(None)
            bad.append(i)
    arr = pa.array([None if v is None else v.value for v in out], pa.timestamp("ns", tz="UTC"))  # type: ignore[attr-defined]
    return arr.cast(TIME, safe=False), bad


def to_utf8(raws: list[bytes]) -> tuple[pa.Array, list[int]]:
    """The raw records as text; invalid UTF-8 records are blanked and reported by position."""
    try:
        return pa.array(raws, pa.binary()).cast(pa.string()), []
    except pa.ArrowInvalid:
        bad = []
        for i, r in enumerate(raws):
            try:
                r.decode("utf-8")
            except UnicodeDecodeError:
                bad.append(i)
        skip = set(bad)
        clean = [b"" if i in skip else r for i, r in enumerate(raws)]
        return pa.array(clean, pa.binary()).cast(pa.string()), bad


def require_records(data: object, key: str) -> list[object]:
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        raise InputError(f"expected a JSON object with a {key!r} list")
    return data[key]  # type: ignore[no-any-return]
