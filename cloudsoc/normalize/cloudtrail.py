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

from cloudsoc.core.errors import InputError
from cloudsoc.normalize.formats import BATCHES, PARSERS, Order
from cloudsoc.normalize.schema import SCHEMAS, Parsed, RecordIssue, to_timestamps, to_utf8

Scalar = str | int | float | bool | None


class _Issuer(msgspec.Struct, gc=False):
    type: Scalar = None
    arn: Scalar = None


class _Attributes(msgspec.Struct, gc=False):
    mfaAuthenticated: Scalar = None


class _Session(msgspec.Struct, gc=False):
    sessionIssuer: _Issuer | Scalar | list[object] = None
    attributes: _Attributes | Scalar | list[object] = None


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


_NO_IDENTITY = _Identity()
_NO_SESSION = _Session()
_NO_ISSUER = _Issuer()
_NO_ATTRIBUTES = _Attributes()
_EMPTY = SCHEMAS["cloudtrail"].empty_table()
_HOT_SCHEMA = SCHEMAS["cloudtrail"].remove(SCHEMAS["cloudtrail"].get_field_index("raw"))


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

    Hot columns are built a few thousand records at a time (saving the fixed cost of small
    delivery files, and freeing the decoded values early). The raw column is built once, at
    the end, straight in the final row order: the large text is copied once, never re-sorted.
    """

    PIECE = 8192

    def __init__(self) -> None:
        self._hots: list[_Hot] = []  # decoded, columns not built yet
        self._raws: list[msgspec.Raw] = []  # every decoded record, in row order
        self._pieces: list[pa.Table] = []
        self._bad: dict[int, str] = {}  # row -> why it cannot be kept, found when building columns
        self._objects: list[Parsed] = []
        self._starts: list[int] = []  # the first row of each handle
        self._kept: dict[int, list[int]] = {}  # record index of each row, for handles that lost some

    def add(self, data: bytes, kind: str) -> int:
        records = split_records(data, kind)
        handle = len(self._objects)
        hots, kept, issues = _decode_each(records)
        if issues:
            records = [records[i] for i in kept]
            self._kept[handle] = kept
        self._starts.append(len(self._raws))
        self._hots += hots
        self._raws += records
        self._objects.append(Parsed("cloudtrail", _EMPTY, issues, len(hots)))
        if len(self._hots) >= self.PIECE:
            self._build()
        return handle

    def _build(self) -> None:
        first = len(self._raws) - len(self._hots)
        table, bad = _table(self._hots, self._raws[first:])
        self._bad.update({first + row: reason for row, reason in bad.items()})
        self._pieces.append(table)
        self._hots = []

    def finish(self, order: Order | None = None) -> tuple[pa.Table, dict[int, Parsed]]:
        if self._hots or not self._pieces:
            self._build()
        table = pa.concat_tables(self._pieces).combine_chunks()
        rows = np.arange(table.num_rows)  # the row of self._raws behind each table row
        if self._bad:
            table, rows = _drop(table, rows, list(self._bad))
        if order is not None:
            at = order(table)
            table, rows = table.take(at), rows[at.to_numpy()]
        raw, bad_text = to_utf8([self._raws[r] for r in rows.tolist()])
        table = table.append_column("raw", raw)
        if bad_text:
            self._bad.update({int(rows[i]): "record is not valid UTF-8" for i in bad_text})
            table, _ = _drop(table, rows, bad_text)
        self._report_bad()
        return table, dict(enumerate(self._objects))

    def _report_bad(self) -> None:
        """Each bad row as an issue of its object, at the record's index in that object."""
        for row, reason in sorted(self._bad.items()):
            handle = bisect.bisect_right(self._starts, row) - 1
            i = row - self._starts[handle]
            i = self._kept[handle][i] if handle in self._kept else i
            raw = bytes(self._raws[row]).decode("utf-8", "replace")
            self._objects[handle].issues.append(RecordIssue(i, f"record {i}: {reason}", raw))
            self._objects[handle].records -= 1
        self._bad = {}


def _drop(table: pa.Table, rows: np.ndarray, positions: list[int]) -> tuple[pa.Table, np.ndarray]:
    keep = np.ones(table.num_rows, dtype=bool)
    keep[positions] = False
    return table.filter(keep), rows[keep]


def _decode_each(records: list[msgspec.Raw]) -> tuple[list[_Hot], list[int], list[RecordIssue]]:
    """The hot fields of the good records, their indexes, and an issue for every other record."""
    hots: list[_Hot] = []
    kept: list[int] = []
    issues: list[RecordIssue] = []
    for i, raw in enumerate(records):
        try:
            hot = _hot.decode(raw)
            reason = "" if isinstance(hot.eventTime, str) else "no eventTime"
        except UnicodeDecodeError:
            reason = "record is not valid UTF-8"
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            reason = str(exc)
        if reason:
            issues.append(RecordIssue(i, f"record {i}: {reason}", bytes(raw).decode("utf-8", "replace")))
            continue
        hots.append(hot)
        kept.append(i)
    return hots, kept, issues


def parse(data: bytes, kind: str = "cloudtrail") -> Parsed:
    batch = CloudTrailBatch()
    batch.add(data, kind)
    table, parsed = batch.finish()
    return Parsed("cloudtrail", table, parsed[0].issues)


def _event_id(hot: _Hot, raw: msgspec.Raw) -> str:
    # A record without eventID still gets a stable identity, so re-ingesting it adds nothing.
    return _text(hot.eventID) or "sha256:" + hashlib.sha256(raw).hexdigest()


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
        "source_ip": _col([h.sourceIPAddress for h in hots]),
        "user_agent": _col([h.userAgent for h in hots]),
        "error_code": _col([h.errorCode for h in hots]),
        "read_only": [_flag(h.readOnly) for h in hots],
    }
    return pa.table(cols, schema=_HOT_SCHEMA), bad


for _kind in ("cloudtrail", "cloudtrail-array", "cloudtrail-jsonl", "cloudtrail-eventbridge"):
    PARSERS.register(_kind)(parse)
BATCHES.register("cloudtrail")(CloudTrailBatch)
