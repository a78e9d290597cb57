"""CloudTrail records: delivery files, JSON arrays, JSON Lines and EventBridge envelopes.

The hot columns are decoded by msgspec straight from the bytes (unknown fields skipped in C);
the raw record is kept as the exact bytes CloudTrail wrote.
"""

from __future__ import annotations

import hashlib

import msgspec
import pyarrow as pa

from cloudsoc.core.errors import InputError
from cloudsoc.normalize.formats import PARSERS
from cloudsoc.normalize.schema import SCHEMAS, Parsed, RecordIssue, to_timestamps, to_utf8

Scalar = str | int | float | bool | None


class _Identity(msgspec.Struct):
    type: Scalar = None
    arn: Scalar = None
    accountId: Scalar = None
    principalId: Scalar = None


class _Hot(msgspec.Struct):
    eventTime: Scalar = None
    eventID: Scalar = None
    eventSource: Scalar = None
    eventName: Scalar = None
    awsRegion: Scalar = None
    recipientAccountId: Scalar = None
    userIdentity: _Identity | Scalar | list[object] = None
    sourceIPAddress: Scalar = None
    userAgent: Scalar = None
    errorCode: Scalar = None
    readOnly: Scalar = None


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


def _agent(v: Scalar) -> str | None:
    s = _text(v)
    # Some services wrap the user agent in brackets: "[aws-cli/2.0 ...]".
    if s and s.startswith("[") and s.endswith("]"):
        return s[1:-1]
    return s


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


def parse(data: bytes, kind: str = "cloudtrail") -> Parsed:
    records = split_records(data, kind)
    hots: list[_Hot] = []
    raws: list[bytes] = []
    index: list[int] = []
    issues: list[RecordIssue] = []
    for i, raw in enumerate(records):
        try:
            hot = _hot.decode(raw)
        except UnicodeDecodeError:
            issues.append(
                RecordIssue(
                    i, f"record {i}: record is not valid UTF-8", bytes(raw).decode("utf-8", "replace")
                )
            )
            continue
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            issues.append(RecordIssue(i, f"record {i}: {exc}", bytes(raw).decode("utf-8", "replace")))
            continue
        if not isinstance(hot.eventTime, str):
            issues.append(RecordIssue(i, f"record {i}: no eventTime", bytes(raw).decode("utf-8", "replace")))
            continue
        hots.append(hot)
        raws.append(bytes(raw))
        index.append(i)
    return Parsed("cloudtrail", _table(hots, raws, index, issues), issues)


def _event_id(hot: _Hot, raw: bytes) -> str:
    # A record without eventID still gets a stable identity, so re-ingesting it adds nothing.
    return _text(hot.eventID) or "sha256:" + hashlib.sha256(raw).hexdigest()


def _table(hots: list[_Hot], raws: list[bytes], index: list[int], issues: list[RecordIssue]) -> pa.Table:
    ids = [h.userIdentity if isinstance(h.userIdentity, _Identity) else _Identity() for h in hots]
    times, bad_times = to_timestamps(pa.array([h.eventTime for h in hots], pa.string()))
    bad = {i: f"unreadable eventTime {hots[i].eventTime!r}" for i in bad_times}
    raw_col, bad_text = to_utf8(raws)
    bad.update({i: "record is not valid UTF-8" for i in bad_text})
    cols = {
        "event_time": times,
        "event_id": [_event_id(h, r) for h, r in zip(hots, raws, strict=True)],
        "account_id": [_text(h.recipientAccountId or u.accountId) for h, u in zip(hots, ids, strict=True)],
        "region": [_text(h.awsRegion) for h in hots],
        "event_source": [_text(h.eventSource) for h in hots],
        "event_name": [_text(h.eventName) for h in hots],
        "principal_arn": [_text(u.arn) for u in ids],
        "principal_type": [_text(u.type) for u in ids],
        "source_ip": [_text(h.sourceIPAddress) for h in hots],
        "user_agent": [_agent(h.userAgent) for h in hots],
        "error_code": [_text(h.errorCode) for h in hots],
        "read_only": [_flag(h.readOnly) for h in hots],
        "raw": raw_col,
    }
    table = pa.table(cols, schema=SCHEMAS["cloudtrail"])
    if not bad:
        return table
    for i, reason in sorted(bad.items()):
        issues.append(
            RecordIssue(index[i], f"record {index[i]}: {reason}", raws[i].decode("utf-8", "replace"))
        )
    return table.filter(pa.array([i not in bad for i in range(len(hots))]))


for _kind in ("cloudtrail", "cloudtrail-array", "cloudtrail-jsonl", "cloudtrail-eventbridge"):
    PARSERS.register(_kind)(parse)
