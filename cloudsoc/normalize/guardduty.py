"""GuardDuty findings: GetFindings responses, bare arrays and EventBridge events.

The helpers for the finding layouts (listing, EventBridge envelopes, the table with its issues)
are shared with the Security Hub parser. The hot columns are decoded by msgspec straight from the
bytes; the raw finding is kept as the exact bytes of the input.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import msgspec
import pyarrow as pa

from cloudsoc.core.errors import InputError
from cloudsoc.normalize.formats import PARSERS
from cloudsoc.normalize.schema import SCHEMAS, Parsed, RecordIssue, to_timestamps, to_utf8

Scalar = str | int | float | bool | None
H = TypeVar("H")
Columns = dict[str, Sequence[object]]


class _Listing(msgspec.Struct):
    Findings: list[msgspec.Raw]


_listing = msgspec.json.Decoder(_Listing)
_array = msgspec.json.Decoder(list[msgspec.Raw])
_one = msgspec.json.Decoder(msgspec.Raw)
_object = msgspec.json.Decoder(dict[str, msgspec.Raw])
_BYTE = re.compile(r"\(byte (\d+)\)")
_JSON_ERRORS = (msgspec.DecodeError, UnicodeDecodeError)  # ValidationError is a DecodeError


def as_text(v: object) -> str | None:
    if v is None or isinstance(v, str):
        return v
    return str(v).lower() if isinstance(v, bool) else str(v)


def _offset(exc: Exception) -> int | None:
    m = _BYTE.search(str(exc))
    return int(m.group(1)) if m else None


def _input_error(what: str, exc: Exception) -> InputError:
    return InputError(f"not valid {what} JSON: {exc}", offset=_offset(exc))


def split_listing(data: bytes, what: str) -> list[msgspec.Raw]:
    """The findings of ``{"Findings": [...]}`` (API request or response) or of a bare array."""
    try:
        if data.lstrip()[:1] == b"[":
            return _array.decode(data)
        return _listing.decode(data).Findings
    except _JSON_ERRORS as exc:
        raise _input_error(what, exc) from exc


def split_events(data: bytes, what: str) -> list[msgspec.Raw]:
    """The events of one event object, a JSON array of events, or JSON Lines of events.

    JSON Lines is told from one pretty-printed object by its first line being whole JSON. A bad
    line of JSON Lines is left to the per-event decoding (a record issue); a bad array or object
    is an error of the whole input.
    """
    body = data.strip()
    try:
        if body[:1] == b"[":
            return _array.decode(body)
        first = body.split(b"\n", 1)[0].strip()
        try:
            _object.decode(first)
        except _JSON_ERRORS:
            return [_one.decode(body)]
    except _JSON_ERRORS as exc:
        raise _input_error(what, exc) from exc
    return [msgspec.Raw(line) for line in (ln.strip() for ln in body.splitlines()) if line]


def unwrap_events(
    events: list[msgspec.Raw], findings_of: Callable[[msgspec.Raw], list[msgspec.Raw]]
) -> tuple[list[bytes], list[int], list[RecordIssue]]:
    """The findings inside the events (or listed records), numbered in input order.

    An event that yields no finding because it is unreadable or of another type takes one index
    and becomes an issue, so every index points at one place in the input.
    """
    raws: list[bytes] = []
    index: list[int] = []
    issues: list[RecordIssue] = []
    for event in events:
        try:
            found = findings_of(event)
        except ValueError as exc:  # msgspec and UTF-8 errors included
            at = len(raws) + len(issues)
            issues.append(RecordIssue(at, f"record {at}: {exc}", bytes(event).decode("utf-8", "replace")))
            continue
        index.extend(range(len(raws) + len(issues), len(raws) + len(issues) + len(found)))
        raws.extend(bytes(f) for f in found)
    return raws, index, issues


def _decode(
    raws: list[bytes], bad: dict[int, str], decoder: msgspec.json.Decoder[H], required: tuple[str, str]
) -> tuple[list[H], list[int]]:
    """The hot part of every finding not already bad, and their positions; failures go to ``bad``."""
    hots: list[H] = []
    kept: list[int] = []
    for i, raw in enumerate(raws):
        if i in bad:
            continue
        try:
            hot = decoder.decode(raw)
        except _JSON_ERRORS as exc:
            bad[i] = str(exc)
            continue
        missing = [f for f in required if not isinstance(getattr(hot, f), str)]
        if missing:
            bad[i] = f"no {missing[0]}"
            continue
        hots.append(hot)
        kept.append(i)
    return hots, kept


def build(
    source: str,
    raws: list[bytes],
    index: list[int],
    issues: list[RecordIssue],
    decoder: msgspec.json.Decoder[H],
    required: tuple[str, str],
    columns: Callable[[list[H]], Columns],
) -> Parsed:
    """The table of the findings; the bad ones become issues at their input ``index``.

    ``required`` names the id and the update-time fields: a finding's update is a new row, so
    ``id@time`` is the event id, and the time is the event time.
    """
    text, bad_text = to_utf8(raws)
    bad = dict.fromkeys(bad_text, "record is not valid UTF-8")
    hots, kept = _decode(raws, bad, decoder, required)
    id_field, time_field = required
    updated = [getattr(h, time_field) for h in hots]
    times, bad_times = to_timestamps(pa.array(updated, pa.string()))
    bad.update({kept[k]: f"unreadable {time_field} {updated[k]!r}" for k in bad_times})
    cols: dict[str, Any] = {
        "event_time": times,
        "event_id": [f"{getattr(h, id_field)}@{t}" for h, t in zip(hots, updated, strict=True)],
        **columns(hots),
        "raw": text.take(pa.array(kept, pa.int64())),
    }
    table = pa.table(cols, schema=SCHEMAS[source])
    if bad_times:
        table = table.filter(pa.array([i not in bad for i in kept]))
    for i, reason in bad.items():
        at = index[i]
        issues.append(RecordIssue(at, f"record {at}: {reason}", raws[i].decode("utf-8", "replace")))
    issues.sort(key=lambda issue: issue.index)
    return Parsed(source, table, issues)


# --- GuardDuty -----------------------------------------------------------------------------------


class _Remote(msgspec.Struct):
    ipAddressV4: Scalar = None
    ipAddressV6: Scalar = None


class _Probe(msgspec.Struct):
    remoteIpDetails: _Remote | Scalar = None


class _Action(msgspec.Struct):
    remoteIpDetails: _Remote | Scalar = None
    portProbeDetails: list[_Probe] | Scalar = None  # port probes carry one remote per probe


class _Service(msgspec.Struct):
    # Keyed by action kind (awsApiCallAction, networkConnectionAction, ...) beside actionType.
    action: dict[str, _Action | Scalar | list[object]] | Scalar | list[object] = None


class _AccessKey(msgspec.Struct):
    userName: Scalar = None
    principalId: Scalar = None


class _Resource(msgspec.Struct):
    resourceType: Scalar = None
    accessKeyDetails: _AccessKey | Scalar | list[object] = None


class _Finding(msgspec.Struct):
    id: Scalar = None
    updatedAt: Scalar = None
    accountId: Scalar = None
    region: Scalar = None
    type: Scalar = None
    title: Scalar = None
    severity: Scalar = None
    resource: _Resource | Scalar | list[object] = None
    service: _Service | Scalar | list[object] = None


class _Event(msgspec.Struct):
    detail_type: Scalar = msgspec.field(default=None, name="detail-type")
    detail: msgspec.Raw = msgspec.Raw(b"")


_finding = msgspec.json.Decoder(_Finding)
_event = msgspec.json.Decoder(_Event)
EVENT_TYPE = "GuardDuty Finding"


def _detail(raw: msgspec.Raw) -> list[msgspec.Raw]:
    event = _event.decode(raw)
    if event.detail_type != EVENT_TYPE:
        raise ValueError(f"event of type {event.detail_type!r}, not {EVENT_TYPE!r}")
    if not bytes(event.detail):
        raise ValueError("event without a detail")
    return [event.detail]


def _number(v: Scalar) -> float | None:
    if isinstance(v, int | float) and not isinstance(v, bool):
        return float(v)
    try:
        return float(v) if isinstance(v, str) else None
    except ValueError:
        return None


def _principal(f: _Finding) -> str | None:
    # GuardDuty names the key's user but gives no ARN; the user name, else the principal id.
    key = f.resource.accessKeyDetails if isinstance(f.resource, _Resource) else None
    return as_text(key.userName or key.principalId) if isinstance(key, _AccessKey) else None


def _source_ip(f: _Finding) -> str | None:
    action = f.service.action if isinstance(f.service, _Service) else None
    if not isinstance(action, dict):
        return None
    for detail in action.values():
        if not isinstance(detail, _Action):
            continue
        remotes = [detail.remoteIpDetails]
        if isinstance(detail.portProbeDetails, list):
            remotes += [p.remoteIpDetails for p in detail.portProbeDetails]
        for r in remotes:
            if isinstance(r, _Remote) and (r.ipAddressV4 or r.ipAddressV6):
                return as_text(r.ipAddressV4 or r.ipAddressV6)
    return None


def _columns(hots: list[_Finding]) -> Columns:
    return {
        "account_id": [as_text(f.accountId) for f in hots],
        "region": [as_text(f.region) for f in hots],
        "finding_id": [as_text(f.id) for f in hots],
        "finding_type": [as_text(f.type) for f in hots],
        "title": [as_text(f.title) for f in hots],
        "severity": [_number(f.severity) for f in hots],
        "resource_type": [
            as_text(f.resource.resourceType) if isinstance(f.resource, _Resource) else None for f in hots
        ],
        "principal_arn": [_principal(f) for f in hots],
        "source_ip": [_source_ip(f) for f in hots],
    }


@PARSERS.register("guardduty")
@PARSERS.register("guardduty-eventbridge")
def parse(data: bytes, kind: str = "guardduty") -> Parsed:
    if kind == "guardduty-eventbridge":
        raws, index, issues = unwrap_events(split_events(data, "GuardDuty EventBridge"), _detail)
    else:
        raws, index, issues = unwrap_events(split_listing(data, "GuardDuty findings"), lambda r: [r])
    return build("guardduty", raws, index, issues, _finding, ("id", "updatedAt"), _columns)
