"""Recognizing what an input object holds, and the registry of parsers per kind."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol

import pyarrow as pa

from cloudsoc.core.errors import InputError
from cloudsoc.core.registry import Registry
from cloudsoc.normalize.schema import Parsed

Parser = Callable[[bytes, str], Parsed]
# The row order a table should have (the lake's), as indices; it never needs the raw column.
Order = Callable[[pa.Table], pa.Array]

# kind -> parser(data, kind); filled by @PARSERS.register in the modules of this package.
PARSERS: Registry[Parser] = Registry("parser", "cloudsoc.normalize")

# Kinds that are recognized on purpose and not ingested as events.
SKIPPED = {"cloudtrail-digest": "CloudTrail digest file (integrity data, not events)"}

_SNIFF = 8192
_FLOW_HEADER = re.compile(rb"^\s*version\s+account-id\s", re.I)
_FLOW_DEFAULT = re.compile(
    rb"^\s*\d+\s+(\d{12}|unknown|-)\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+\d+\s"
)
_FLOW_CUSTOM = re.compile(rb"^\s*[a-z0-9-]+( [a-z0-9-]+){2,}\s*$")
_DETAIL_TYPE = re.compile(rb'"detail-type"\s*:\s*"([^"]*)"')
_EVENT_KINDS = {
    b"GuardDuty Finding": "guardduty-eventbridge",
    b"AWS API Call via CloudTrail": "cloudtrail-eventbridge",
    b"AWS Console Sign In via CloudTrail": "cloudtrail-eventbridge",
}
# GuardDuty findings open with accountId as the API sorts them, or schemaVersion as EventBridge does.
_GUARDDUTY_ARRAY = re.compile(rb'\[\s*\{\s*"(accountId|schemaVersion)"\s*:')


def sniff(name: str, data: bytes) -> str:
    """The kind of one (already decompressed) object, from its name and first bytes."""
    head = data[:_SNIFF].lstrip()
    if "CloudTrail-Digest" in name or (head[:1] == b"{" and b'"digestStartTime"' in head):
        return "cloudtrail-digest"
    if head[:1] == b"{":
        return _sniff_object(head)
    if head[:1] == b"[":
        return _sniff_array(head)
    first_line = head.split(b"\n", 1)[0]
    if _FLOW_HEADER.match(first_line) or _FLOW_DEFAULT.match(first_line):
        return "vpcflow"
    if b"srcaddr" in first_line and _FLOW_CUSTOM.match(first_line):
        return "vpcflow"
    if not head:
        raise InputError("empty file")
    raise InputError("not a recognized AWS log format (CloudTrail, GuardDuty, Security Hub, VPC Flow Logs)")


def _sniff_object(head: bytes) -> str:
    if re.match(rb'\{\s*"Records"\s*:', head):
        return "cloudtrail"
    if kind := _sniff_event(head):
        return kind
    if re.match(rb'\{\s*"Findings"\s*:', head):
        return "securityhub" if b'"AwsAccountId"' in head or b'"SchemaVersion"' in head else "guardduty"
    if b'"eventTime"' in head or b'"eventVersion"' in head:
        return "cloudtrail-jsonl"
    if b'"Records"' in head:
        return "cloudtrail"
    raise InputError("JSON that is not CloudTrail, GuardDuty or Security Hub data")


def _sniff_event(head: bytes) -> str | None:
    # The first event's own detail-type: a finding's text may name other event types.
    m = _DETAIL_TYPE.search(head)
    if m is None:
        return None
    if m.group(1).startswith(b"Security Hub Findings - "):
        return "securityhub-eventbridge"
    return _EVENT_KINDS.get(m.group(1))


def _sniff_array(head: bytes) -> str:
    # Events first: Security Hub events hold ASFF findings, which look like a bare ASFF array.
    if kind := _sniff_event(head):
        return kind
    if b'"AwsAccountId"' in head or b'"SchemaVersion"' in head:
        return "securityhub"
    if (b'"schemaVersion"' in head and b'"service"' in head) or _GUARDDUTY_ARRAY.match(head):
        return "guardduty"
    if b'"eventTime"' in head or b'"eventVersion"' in head or head.rstrip() in (b"[", b"[]"):
        return "cloudtrail-array"
    raise InputError("JSON array that is not CloudTrail, GuardDuty or Security Hub data")


def parse(name: str, data: bytes) -> Parsed | str:
    """The parsed object, or the kind when the object is recognized and skipped on purpose."""
    kind = sniff(name, data)
    if kind in SKIPPED:
        return kind
    return PARSERS.get(kind)(data, kind)


def source_of(kind: str) -> str:
    """The lake source of a kind: ``cloudtrail-jsonl`` -> ``cloudtrail``."""
    return kind.split("-", 1)[0]


class Batch(Protocol):
    """Objects of one source parsed together into one table (ingest builds a table per chunk)."""

    def add(self, data: bytes, kind: str) -> int:
        """Parse one object (all or nothing: InputError leaves the batch unchanged); its handle."""

    def finish(self, order: Order | None = None) -> tuple[pa.Table, dict[int, Parsed]]:
        """The table of every good record (in ``order``), and per handle its issues and record count."""


class TableBatch:
    """A Batch for sources whose parser builds one table per object."""

    def __init__(self) -> None:
        self._parsed: list[Parsed] = []

    def add(self, data: bytes, kind: str) -> int:
        self._parsed.append(PARSERS.get(kind)(data, kind))
        return len(self._parsed) - 1

    def finish(self, order: Order | None = None) -> tuple[pa.Table, dict[int, Parsed]]:
        table = pa.concat_tables([p.table for p in self._parsed])
        if order is not None:
            table = table.take(order(table))
        return table, dict(enumerate(self._parsed))


# source -> Batch factory, for sources with a faster whole-chunk path (CloudTrail)
BATCHES: Registry[Callable[[], Batch]] = Registry("batch", "cloudsoc.normalize")


def new_batch(source: str) -> Batch:
    return BATCHES.get(source)() if source in BATCHES.names() else TableBatch()
