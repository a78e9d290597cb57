"""Security Hub findings (ASFF): API listings, bare arrays and EventBridge events.

Same layout handling as GuardDuty (see ``guardduty.py``); an EventBridge event carries a list of
findings in ``detail.findings``.
"""

from __future__ import annotations

import msgspec

from cloudsoc.normalize.formats import PARSERS
from cloudsoc.normalize.guardduty import (
    Columns,
    Scalar,
    as_text,
    build,
    split_events,
    split_listing,
    unwrap_events,
)
from cloudsoc.normalize.schema import Parsed


class _Label(msgspec.Struct):
    Label: Scalar = None


class _Status(msgspec.Struct):
    Status: Scalar = None


class _Resource(msgspec.Struct):
    Type: Scalar = None
    Id: Scalar = None


class _Finding(msgspec.Struct):
    Id: Scalar = None
    UpdatedAt: Scalar = None
    AwsAccountId: Scalar = None
    Region: Scalar = None
    ProductArn: Scalar = None
    ProductName: Scalar = None
    GeneratorId: Scalar = None
    Title: Scalar = None
    RecordState: Scalar = None
    Severity: _Label | Scalar | list[object] = None
    Resources: list[_Resource | Scalar | list[object]] | Scalar = None
    Compliance: _Status | Scalar | list[object] = None
    Workflow: _Status | Scalar | list[object] = None


class _Detail(msgspec.Struct):
    findings: list[msgspec.Raw]


class _Event(msgspec.Struct):
    detail_type: Scalar = msgspec.field(default=None, name="detail-type")
    detail: msgspec.Raw = msgspec.Raw(b"null")  # decoded once the type is known to be ours


_finding = msgspec.json.Decoder(_Finding)
_event = msgspec.json.Decoder(_Event)
_detail = msgspec.json.Decoder(_Detail)
# Custom Action events carry the findings an analyst sent on; they dedup with the imported ones.
EVENT_TYPES = ("Security Hub Findings - Imported", "Security Hub Findings - Custom Action")


def _findings(raw: msgspec.Raw) -> list[msgspec.Raw]:
    event = _event.decode(raw)
    if event.detail_type not in EVENT_TYPES:
        raise ValueError(f"event of type {event.detail_type!r}, not {EVENT_TYPES[0]!r}")
    return _detail.decode(event.detail).findings


def _arn_part(arn: Scalar, index: int, sep: str) -> str | None:
    # arn:aws:securityhub:us-east-1::product/aws/guardduty -> region / product name.
    parts = arn.split(sep) if isinstance(arn, str) and arn.startswith("arn:") else []
    return (parts[index] or None) if len(parts) > abs(index) else None


def _first_resource(f: _Finding) -> _Resource:
    first = f.Resources[0] if isinstance(f.Resources, list) and f.Resources else None
    return first if isinstance(first, _Resource) else _Resource()


def _status(v: _Status | Scalar | list[object]) -> str | None:
    return as_text(v.Status) if isinstance(v, _Status) else None


def _columns(hots: list[_Finding]) -> Columns:
    res = [_first_resource(f) for f in hots]
    return {
        "account_id": [as_text(f.AwsAccountId) for f in hots],
        "region": [as_text(f.Region) or _arn_part(f.ProductArn, 3, ":") for f in hots],
        "finding_id": [as_text(f.Id) for f in hots],
        "product_name": [as_text(f.ProductName) or _arn_part(f.ProductArn, -1, "/") for f in hots],
        "generator_id": [as_text(f.GeneratorId) for f in hots],
        "title": [as_text(f.Title) for f in hots],
        "severity_label": [
            as_text(f.Severity.Label) if isinstance(f.Severity, _Label) else None for f in hots
        ],
        "resource_type": [as_text(r.Type) for r in res],
        "resource_id": [as_text(r.Id) for r in res],
        "compliance_status": [_status(f.Compliance) for f in hots],
        "workflow_status": [_status(f.Workflow) for f in hots],
        "record_state": [as_text(f.RecordState) for f in hots],
    }


@PARSERS.register("securityhub")
@PARSERS.register("securityhub-eventbridge")
def parse(data: bytes, kind: str = "securityhub") -> Parsed:
    if kind == "securityhub-eventbridge":
        raws, index, issues = unwrap_events(split_events(data, "Security Hub EventBridge"), _findings)
    else:
        raws, index, issues = unwrap_events(split_listing(data, "Security Hub findings"), lambda r: [r])
    return build("securityhub", raws, index, issues, _finding, ("Id", "UpdatedAt"), _columns)
