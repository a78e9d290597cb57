"""Importing Prowler's OCSF output (``--output-formats json-ocsf``) as a stored scan.

Prowler writes a JSON array of OCSF Detection Findings. Each becomes one result per resource:
``prowler:<metadata.event_code>`` as the check, ``status_code`` (PASS / FAIL / MANUAL) as the status,
``cloud.account.uid`` and ``cloud.region`` as the place, ``status_detail`` as the message; the title,
description, resource type and Prowler's own compliance mapping (``unmapped.compliance``) go into the
evidence. A record that cannot be read is reported with its index and the reason, and so is a
resource left out of a record for want of a uid; the others are imported. The scan's id follows from
the file's content, so importing the same file again replaces it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection

from cloudsoc.core.errors import CloudSOCError
from cloudsoc.core.severity import LEVELS
from cloudsoc.core.timeutil import parse_time, utcnow
from cloudsoc.posture import store
from cloudsoc.posture.check import Result, Status

PREFIX = "prowler:"
STATUSES: dict[str, Status] = {"PASS": "PASS", "FAIL": "FAIL", "MANUAL": "MANUAL"}
# OCSF severity_id 1..5 = informational..critical (6 Fatal ranks as critical).
SEVERITY_BY_ID = {i + 1: level for i, level in enumerate(LEVELS)} | {6: "critical"}


class ProwlerImportError(CloudSOCError):
    """The file as a whole cannot be imported."""


class BadRecord(ValueError):
    pass


@dataclass
class ImportedScan(store.Scan):
    problems: list[str] = field(default_factory=list)  # "record <index>: <reason>" per skipped record


def import_ocsf(conn: Connection, path: Path) -> ImportedScan:
    """Read ``path``, store its findings as a scan (trigger "import", source "prowler") and return it."""
    raw = path.read_bytes()
    records, problems = _records(raw, path)
    results: list[Result] = []
    times: list[datetime] = []
    for i, rec in enumerate(records):
        try:
            found, at, skipped = _results(rec)
        except BadRecord as exc:
            problems.append(f"record {i}: {exc}")
            continue
        results += found
        times += [at] if at else []
        problems += [f"record {i}: {p}" for p in skipped]
    if not results:
        raise ProwlerImportError(
            f"{path}: no finding could be imported" + (f" ({problems[0]}, ...)" if problems else "")
        )
    digest = hashlib.sha256(raw).hexdigest()
    scan = ImportedScan(
        id=f"prowler-{digest[:16]}", started_at=min(times, default=utcnow()), finished_at=max(times, default=utcnow()),
        results=results, trigger="import", inventory_path=str(path.resolve()), inventory_sha256=digest,
        accounts=sorted({r.account for r in results}), regions=sorted({r.region for r in results} - {"global"}),
        source="prowler", problems=problems,
    )  # fmt: skip
    store.save(conn, scan)
    return scan


def _records(raw: bytes, path: Path) -> tuple[list[Any], list[str]]:
    """The records of a JSON array (or of JSON lines); an array a killed run left open is closed."""
    text = raw.decode("utf-8", "replace").strip()
    if not text.startswith("["):
        try:
            return [orjson.loads(line) for line in text.splitlines() if line.strip()], []
        except orjson.JSONDecodeError as exc:
            raise ProwlerImportError(f"{path}: neither a JSON array nor JSON lines: {exc}") from exc
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        try:
            data = orjson.loads(text.rstrip(",") + "]")
        except orjson.JSONDecodeError:
            raise ProwlerImportError(f"{path}: not valid JSON: {exc}") from exc
        return list(data), [
            "the file ends without ']' (an interrupted run?); the records before it were read"
        ]
    return list(data), []


def _results(rec: Any) -> tuple[list[Result], datetime | None, list[str]]:
    """The record's results (one per resource), its time, and the resources that were left out."""
    if not isinstance(rec, dict):
        raise BadRecord(f"not a JSON object but {type(rec).__name__}")
    status = STATUSES.get(str(rec.get("status_code", "")).upper())
    if status is None:
        raise BadRecord(f"status_code {rec.get('status_code')!r} is not PASS, FAIL or MANUAL")
    code = _get(rec, "metadata", "event_code")
    if not code:
        raise BadRecord("no metadata.event_code (the Prowler check id)")
    account = str(_get(rec, "cloud", "account", "uid") or "")
    if not account:
        raise BadRecord("no cloud.account.uid")
    listed: list[Any] = rec["resources"] if isinstance(rec.get("resources"), list) else []
    named = [isinstance(r, dict) and bool(r.get("uid")) for r in listed]
    if not any(named):
        raise BadRecord("no resources[].uid")
    resources = [r for r, ok in zip(listed, named, strict=True) if ok]
    skipped = [f"resources[{j}] has no uid" for j, ok in enumerate(named) if not ok]
    info: dict[str, Any] = rec["finding_info"] if isinstance(rec.get("finding_info"), dict) else {}
    evidence = {
        "title": info.get("title") or code, "desc": info.get("desc", ""), "finding_uid": info.get("uid", ""),
        "account_name": _get(rec, "cloud", "account", "name") or "",
        "compliance": _get(rec, "unmapped", "compliance") or {}, "risk": rec.get("risk_details", ""),
    }  # fmt: skip
    message = str(rec.get("status_detail") or rec.get("message") or "")
    severity = _severity(rec)
    out = []
    for res in resources:
        region = str(_get(rec, "cloud", "region") or res.get("region") or "global")
        ev = evidence | {"resource_type": res.get("type", ""), "resource_name": res.get("name", "")}
        out.append(
            Result(PREFIX + str(code), status, account, region, str(res["uid"]), message, ev, severity)
        )
    return out, _time(rec), skipped


def _get(rec: dict[str, Any], *keys: str) -> Any:
    value: Any = rec
    for k in keys:
        value = value.get(k) if isinstance(value, dict) else None
    return value


def _severity(rec: dict[str, Any]) -> str:
    name = str(rec.get("severity") or "").lower()
    if name in LEVELS:
        return name
    sid = rec.get("severity_id")
    return SEVERITY_BY_ID.get(sid, "medium") if isinstance(sid, int) else "medium"


def _time(rec: dict[str, Any]) -> datetime | None:
    """``time`` is epoch seconds in Prowler's output (milliseconds in OCSF proper); ``time_dt`` ISO."""
    t = rec.get("time")
    try:
        if isinstance(t, int | float) and not isinstance(t, bool):
            return datetime.fromtimestamp(t / 1000 if t > 1e11 else t, UTC)
        text = rec.get("time_dt") or t
        return parse_time(text) if isinstance(text, str) and text else None
    except (ValueError, OverflowError, OSError):
        return None
