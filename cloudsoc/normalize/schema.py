"""Arrow schemas of the lake, one per source, and the shared result of every parser."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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
            ("event_type", pa.string()),
            ("recipient_account_id", pa.string()),
            ("principal_arn", pa.string()),
            ("principal_type", pa.string()),
            ("user_name", pa.string()),
            ("access_key_id", pa.string()),
            ("invoked_by", pa.string()),
            ("session_issuer_type", pa.string()),
            ("session_issuer_arn", pa.string()),
            ("mfa_authenticated", pa.string()),
            ("ec2_role_delivery", pa.string()),
            ("source_ip", pa.string()),
            ("user_agent", pa.string()),
            ("error_code", pa.string()),
            ("read_only", pa.bool_()),
            ("vpc_endpoint_id", pa.string()),
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
    records: int = -1  # records kept, when the table is shared with other objects (a batch)

    @property
    def kept(self) -> int:
        return self.records if self.records >= 0 else self.table.num_rows


def empty(source: str) -> pa.Table:
    return SCHEMAS[source].empty_table()


def to_timestamps(values: pa.Array) -> tuple[pa.Array, list[int]]:
    """Parse time strings column-wise; returns the timestamps and the indexes that did not parse.

    Accepts ISO-8601 with ``T`` or a space, any fraction up to nanoseconds, ``Z``, an offset, or
    no zone at all (taken as UTC, as CloudTrail means it).
    """
    # Fast path: CloudTrail's own "2026-11-20T10:00:00Z" in one vectorized call.
    quick = pc.strptime(values, format="%Y-%m-%dT%H:%M:%SZ", unit="us", error_is_null=True)
    if quick.null_count == values.null_count:
        return quick.cast(TIME), []
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


def to_utf8(raws: Sequence[bytes | msgspec.Raw]) -> tuple[pa.Array, list[int]]:
    """The raw records as one text column built from a single buffer; records that are not valid
    UTF-8 are blanked and reported by position."""
    arr = _large_text(raws)
    try:
        arr.validate(full=True)
        return arr.cast(pa.string()), []
    except pa.ArrowInvalid:
        bad = []
        for i, r in enumerate(raws):
            try:
                bytes(r).decode("utf-8")
            except UnicodeDecodeError:
                bad.append(i)
        skip = set(bad)
        return pa.array([b"" if i in skip else bytes(r) for i, r in enumerate(raws)], pa.binary()).cast(
            pa.string()
        ), bad


def text_column(raws: Sequence[bytes | msgspec.Raw]) -> pa.Array:
    """The records as one text column built from a single buffer, for records known to be UTF-8."""
    return _large_text(raws).cast(pa.string())


def is_utf8(data: bytes) -> bool:
    """Whether ``data`` is valid UTF-8 (checked by Arrow, without decoding it)."""
    try:
        _large_text([data]).validate(full=True)
        return True
    except pa.ArrowInvalid:
        return False


def _large_text(raws: Sequence[bytes | msgspec.Raw]) -> pa.Array:
    data = b"".join(raws)
    offsets = np.zeros(len(raws) + 1, dtype=np.int64)
    np.cumsum(np.fromiter((len(r) for r in raws), dtype=np.int64, count=len(raws)), out=offsets[1:])
    return pa.Array.from_buffers(
        pa.large_string(), len(raws), [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )
