"""CloudTrail records: delivery files, JSON arrays, JSON Lines and EventBridge envelopes.

The hot columns are decoded by msgspec straight from the bytes (unknown fields skipped in C);
the raw record is kept as the exact bytes CloudTrail wrote.
"""

from __future__ import annotations

import bisect
import hashlib

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from cloudsoc.core.errors import InputError
from cloudsoc.normalize.formats import BATCHES, PARSERS, Order
from cloudsoc.normalize.schema import (
    SCHEMAS,
    Parsed,
    RecordIssue,
    is_utf8,
    text_column,
    to_timestamps,
    to_utf8,
)

Scalar = str | int | float | bool | None


class _Issuer(msgspec.Struct, gc=False):
    type: Scalar = None
    arn: Scalar = None


class _Attributes(msgspec.Struct, gc=False):
    mfaAuthenticated: Scalar = None


class _Session(msgspec.Struct, gc=False):
    sessionIssuer: _Issuer | Scalar | list[object] = None
    attributes: _Attributes | Scalar | list[object] = None
    ec2RoleDelivery: Scalar = None


class _Identity(msgspec.Struct, gc=False):
    type: Scalar = None
    arn: Scalar = None
    accountId: Scalar = None
    userName: Scalar = None
    accessKeyId: Scalar = None
    invokedBy: Scalar = None
    sessionContext: _Session | Scalar | list[object] = None


class _Hot(msgspec.Struct, gc=False):
    eventTime: Scalar = None
    eventID: Scalar = None
    eventSource: Scalar = None
    eventName: Scalar = None
    eventType: Scalar = None
    awsRegion: Scalar = None
    recipientAccountId: Scalar = None
    userIdentity: _Identity | Scalar | list[object] = None
    sourceIPAddress: Scalar = None
    userAgent: Scalar = None
    errorCode: Scalar = None
    readOnly: Scalar = None
    vpcEndpointId: Scalar = None


_NO_IDENTITY = _Identity()
_NO_SESSION = _Session()
_NO_ISSUER = _Issuer()
_NO_ATTRIBUTES = _Attributes()
_EMPTY = SCHEMAS["cloudtrail"].empty_table()
_HOT_SCHEMA = SCHEMAS["cloudtrail"].remove(SCHEMAS["cloudtrail"].get_field_index("raw"))
_TEXT = pa.string()
# The hot fields with the JSON types CloudTrail writes, for Arrow's JSON reader: a record with any
# other type there (a number, a list, a duplicated key) fails the read and takes the slow path.
_JSON_SCHEMA = pa.schema(
    [
        *((name, _TEXT) for name in ("eventTime", "eventID", "eventSource", "eventName", "eventType")),
        ("awsRegion", _TEXT),
        ("recipientAccountId", _TEXT),
        ("userIdentity", pa.struct([
            *((name, _TEXT) for name in ("type", "arn", "accountId", "userName", "accessKeyId", "invokedBy")),
            ("sessionContext", pa.struct([
                ("sessionIssuer", pa.struct([("type", _TEXT), ("arn", _TEXT)])),
                ("attributes", pa.struct([("mfaAuthenticated", _TEXT)])),
                ("ec2RoleDelivery", _TEXT),
            ])),
        ])),
        *((name, _TEXT) for name in ("sourceIPAddress", "userAgent", "errorCode")),
        ("readOnly", pa.bool_()),
        ("vpcEndpointId", _TEXT),
    ]
)  # fmt: skip
_JSON_PARSE = pj.ParseOptions(
    explicit_schema=_JSON_SCHEMA, unexpected_field_behavior="ignore", newlines_in_values=True
)


class _Delivery(msgspec.Struct):
    Records: list[msgspec.Raw]


_raw_list = msgspec.json.Decoder(list[msgspec.Raw])
_delivery = msgspec.json.Decoder(_Delivery)
_hot = msgspec.json.Decoder(_Hot)
_probe = msgspec.json.Decoder(dict[str, msgspec.Raw])


def _text(v: Scalar) -> str | None:
    if v is None or isinstance(v, str):
        return v
    return str(v).lower() if isinstance(v, bool) else str(v)


def _flag(v: Scalar) -> bool | None:
    if isinstance(v, bool) or v is None:
        return v
    return str(v).strip().lower() == "true"


def split_records(data: bytes, kind: str) -> list[msgspec.Raw]:
    """The raw bytes of every record of a CloudTrail object, for any accepted layout."""
    try:
        if kind == "cloudtrail":
            return _delivery.decode(data).Records
        if kind == "cloudtrail-array":
            return _raw_list.decode(data)
        if kind == "cloudtrail-eventbridge":
            return [_probe.decode(line)["detail"] for line in _lines(data)]
        return list(_lines(data))
    except UnicodeDecodeError as exc:
        raise InputError("not valid UTF-8", offset=exc.start) from exc
    except (msgspec.DecodeError, msgspec.ValidationError, KeyError) as exc:
        offset = len(data) if "truncated" in str(exc) else _offset(exc)
        raise InputError(f"not valid CloudTrail JSON: {exc}", offset=offset) from exc


def _lines(data: bytes) -> list[msgspec.Raw]:
    out = []
    for line in data.splitlines():
        line = line.strip()
        if line:
            _probe.decode(line)  # validates the line is one JSON object
            out.append(msgspec.Raw(line))
    return out


def _offset(exc: Exception) -> int | None:
    text = str(exc)
    marker = "byte "
    if marker in text:
        digits = text.split(marker, 1)[1].split()[0].rstrip(")")
        if digits.isdigit():
            return int(digits)
    return None


class CloudTrailBatch:
    """Records of many objects, turned into one table in the order the caller asks for.

    Hot columns are built a few thousand records at a time: by Arrow's JSON reader when every
    record of the piece is plainly well-formed (the common case; no Python object per value),
    else record by record, which says what is wrong with each bad record.
    The raw column is built once, at the end, straight in the final row order: the large text
    is copied once, never re-sorted.
    """

    PIECE = 8192

    def __init__(self) -> None:
        self._raws: list[msgspec.Raw] = []  # every record, in row order
        self._built = 0  # records before this row have their hot columns in a piece
        self._pieces: list[pa.Table] = []
        self._rows: list[np.ndarray] = []  # per piece, the row behind each of its table rows
        self._rejected: dict[int, str] = {}  # row -> why the record cannot be decoded
        self._bad: dict[int, str] = {}  # row -> why a decoded record cannot be kept
        self._objects: list[Parsed] = []
        self._starts: list[int] = []  # the first row of each handle

    def add(self, data: bytes, kind: str) -> int:
        records = split_records(data, kind)
        self._starts.append(len(self._raws))
        self._raws += records
        self._objects.append(Parsed("cloudtrail", _EMPTY, [], len(records)))
        if len(self._raws) - self._built >= self.PIECE:
            self._build()
        return len(self._objects) - 1

    def _build(self) -> None:
        first, raws = self._built, self._raws[self._built :]
        fast = _fast_table(raws)
        if fast is not None:
            table, bad = fast
            rows = np.arange(first, first + len(raws))
        else:
            table, bad, kept = _slow_table(raws, self._rejected, first)
            rows = first + np.array(kept, dtype=np.int64)
        self._bad.update({int(rows[i]): reason for i, reason in bad.items()})
        self._pieces.append(table)
        self._rows.append(rows)
        self._built = len(self._raws)

    def finish(self, order: Order | None = None) -> tuple[pa.Table, dict[int, Parsed]]:
        if self._built < len(self._raws) or not self._pieces:
            self._build()
        table = pa.concat_tables(self._pieces).combine_chunks()
        rows = np.concatenate(self._rows)
        if self._bad:
            keep = ~np.isin(rows, list(self._bad))
            table, rows = table.filter(keep), rows[keep]
        if order is not None:
            at = order(table)
            table, rows = table.take(at), rows[at.to_numpy()]
        table = table.append_column("raw", text_column([self._raws[r] for r in rows.tolist()]))
        self._report(self._rejected)
        self._report(self._bad)
        return table, dict(enumerate(self._objects))

    def _report(self, reasons: dict[int, str]) -> None:
        """Each row left out as an issue of its object, at the record's index in that object."""
        for row, reason in sorted(reasons.items()):
            handle = bisect.bisect_right(self._starts, row) - 1
            i = row - self._starts[handle]
            raw = bytes(self._raws[row]).decode("utf-8", "replace")
            self._objects[handle].issues.append(RecordIssue(i, f"record {i}: {reason}", raw))
            self._objects[handle].records -= 1


def _fast_table(raws: list[msgspec.Raw]) -> tuple[pa.Table, dict[int, str]] | None:
    """The hot columns read by Arrow from the records one after the other, and the rows with an
    unreadable eventTime; None unless every record is a UTF-8 object with an eventTime and hot
    fields of the JSON types CloudTrail writes (anything else takes the slow path)."""
    lengths = np.fromiter(map(len, raws), dtype=np.int64, count=len(raws))
    data = b"\n".join(raws)
    starts = np.cumsum(lengths + 1) - lengths - 1
    # Arrow's reader crashes on a record that is not an object (JSON null)
    objects = bool(len(raws)) and bool((np.frombuffer(data, np.uint8)[starts] == ord("{")).all())
    if not objects or not is_utf8(data):
        return None
    try:
        read = pj.read_json(pa.BufferReader(data), _json_read_options(len(data)), _JSON_PARSE)
    except (pa.ArrowException, ValueError):
        return None  # a hot field of another JSON type, a repeated key, ...
    if read.num_rows != len(raws) or read["eventTime"].null_count:
        return None
    return _fast_columns(read.combine_chunks(), raws)


def _json_read_options(size: int) -> pj.ReadOptions:
    return pj.ReadOptions(use_threads=False, block_size=size + 1)  # one block: the whole piece


def _fast_columns(read: pa.Table, raws: list[msgspec.Raw]) -> tuple[pa.Table, dict[int, str]]:
    """The same columns as ``_table`` builds from decoded records."""
    who = read["userIdentity"]
    session = pc.struct_field(who, "sessionContext")
    recipient = read["recipientAccountId"]
    times, bad_times = to_timestamps(read["eventTime"].chunk(0))
    bad = {i: f"unreadable eventTime {read['eventTime'][i].as_py()!r}" for i in bad_times}
    cols = {
        "event_time": times,
        "event_id": _fast_event_ids(read["eventID"], raws),
        "account_id": pc.if_else(pc.fill_null(pc.not_equal(recipient, ""), False), recipient,
                                 pc.struct_field(who, "accountId")),
        "region": read["awsRegion"],
        "event_source": read["eventSource"],
        "event_name": read["eventName"],
        "event_type": read["eventType"],
        "recipient_account_id": recipient,
        "principal_arn": pc.struct_field(who, "arn"),
        "principal_type": pc.struct_field(who, "type"),
        "user_name": pc.struct_field(who, "userName"),
        "access_key_id": pc.struct_field(who, "accessKeyId"),
        "invoked_by": pc.struct_field(who, "invokedBy"),
        "session_issuer_type": pc.struct_field(session, ["sessionIssuer", "type"]),
        "session_issuer_arn": pc.struct_field(session, ["sessionIssuer", "arn"]),
        "mfa_authenticated": pc.struct_field(session, ["attributes", "mfaAuthenticated"]),
        "ec2_role_delivery": pc.struct_field(session, "ec2RoleDelivery"),
        "source_ip": read["sourceIPAddress"],
        "user_agent": read["userAgent"],
        "error_code": read["errorCode"],
        "read_only": read["readOnly"],
        "vpc_endpoint_id": read["vpcEndpointId"],
    }  # fmt: skip
    return pa.table(cols, schema=_HOT_SCHEMA), bad


def _fast_event_ids(ids: pa.ChunkedArray, raws: list[msgspec.Raw]) -> pa.ChunkedArray | list[str]:
    """eventID, or the record's hash where it has none (as ``_event_id``)."""
    missing = pc.fill_null(pc.equal(ids, ""), True)
    if not pc.any(missing).as_py():
        return ids
    out = ids.to_pylist()
    for i in np.flatnonzero(missing.to_numpy(zero_copy_only=False)).tolist():
        out[i] = _record_id(raws[i])
    return out


def _slow_table(
    raws: list[msgspec.Raw], rejected: dict[int, str], first: int
) -> tuple[pa.Table, dict[int, str], list[int]]:
    """Record by record: the records that cannot be decoded go to ``rejected`` (by row); the
    table of the others, their bad rows (by table row) and their positions in ``raws``."""
    hots, kept, reasons = _decode_each(raws)
    rejected.update({first + i: reason for i, reason in reasons.items()})
    good = [raws[i] for i in kept]
    table, bad = _table(hots, good)
    _, bad_text = to_utf8(good)
    bad.update({i: "record is not valid UTF-8" for i in bad_text})
    return table, bad, kept


def _decode_each(records: list[msgspec.Raw]) -> tuple[list[_Hot], list[int], dict[int, str]]:
    """The hot fields of the good records, their positions, and why each other record is bad."""
    hots: list[_Hot] = []
    kept: list[int] = []
    reasons: dict[int, str] = {}
    for i, raw in enumerate(records):
        try:
            hot = _hot.decode(raw)
            reason = "" if isinstance(hot.eventTime, str) else "no eventTime"
        except UnicodeDecodeError:
            reason = "record is not valid UTF-8"
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            reason = str(exc)
        if reason:
            reasons[i] = reason
            continue
        hots.append(hot)
        kept.append(i)
    return hots, kept, reasons


def parse(data: bytes, kind: str = "cloudtrail") -> Parsed:
    batch = CloudTrailBatch()
    batch.add(data, kind)
    table, parsed = batch.finish()
    return Parsed("cloudtrail", table, parsed[0].issues)


def _event_id(hot: _Hot, raw: msgspec.Raw) -> str:
    return _text(hot.eventID) or _record_id(raw)


def _record_id(raw: msgspec.Raw) -> str:
    """The identity of a record without eventID: stable, so re-ingesting it adds nothing."""
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _col(values: list[Scalar]) -> pa.Array:
    """A string column; values that are not text (numbers, booleans) are written as JSON writes them."""
    try:
        return pa.array(values, pa.string())
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return pa.array([_text(v) for v in values], pa.string())


def _table(hots: list[_Hot], raws: list[msgspec.Raw]) -> tuple[pa.Table, dict[int, str]]:
    """The hot columns of decoded records, and the rows that cannot be kept with the reason."""
    # inline type checks: a helper call per nested object costs more than the decoding
    ids = [u if type(u := h.userIdentity) is _Identity else _NO_IDENTITY for h in hots]
    sessions = [c if type(c := u.sessionContext) is _Session else _NO_SESSION for u in ids]
    issuers = [i if type(i := s.sessionIssuer) is _Issuer else _NO_ISSUER for s in sessions]
    attributes = [a if type(a := s.attributes) is _Attributes else _NO_ATTRIBUTES for s in sessions]
    times, bad_times = to_timestamps(pa.array([h.eventTime for h in hots], pa.string()))
    bad = {i: f"unreadable eventTime {hots[i].eventTime!r}" for i in bad_times}
    cols = {
        "event_time": times,
        "event_id": [
            e if type(e := h.eventID) is str and e else _event_id(h, r)
            for h, r in zip(hots, raws, strict=True)
        ],
        "account_id": _col([h.recipientAccountId or u.accountId for h, u in zip(hots, ids, strict=True)]),
        "region": _col([h.awsRegion for h in hots]),
        "event_source": _col([h.eventSource for h in hots]),
        "event_name": _col([h.eventName for h in hots]),
        "event_type": _col([h.eventType for h in hots]),
        "recipient_account_id": _col([h.recipientAccountId for h in hots]),
        "principal_arn": _col([u.arn for u in ids]),
        "principal_type": _col([u.type for u in ids]),
        "user_name": _col([u.userName for u in ids]),
        "access_key_id": _col([u.accessKeyId for u in ids]),
        "invoked_by": _col([u.invokedBy for u in ids]),
        "session_issuer_type": _col([i.type for i in issuers]),
        "session_issuer_arn": _col([i.arn for i in issuers]),
        "mfa_authenticated": _col([a.mfaAuthenticated for a in attributes]),
        "ec2_role_delivery": _col([s.ec2RoleDelivery for s in sessions]),
        "source_ip": _col([h.sourceIPAddress for h in hots]),
        "user_agent": _col([h.userAgent for h in hots]),
        "error_code": _col([h.errorCode for h in hots]),
        "read_only": [_flag(h.readOnly) for h in hots],
        "vpc_endpoint_id": _col([h.vpcEndpointId for h in hots]),
    }
    return pa.table(cols, schema=_HOT_SCHEMA), bad


for _kind in ("cloudtrail", "cloudtrail-array", "cloudtrail-jsonl", "cloudtrail-eventbridge"):
    PARSERS.register(_kind)(parse)
BATCHES.register("cloudtrail")(CloudTrailBatch)
