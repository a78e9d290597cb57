"""Posture reports: one JSON document per scan, rendered as JSON, CSV, HTML, OCSF or ASFF.

The document (``build``), schema ``cloudsoc.posture.report/1``; keys are only ever added:

- ``schema``, ``generated_at`` (ISO 8601), ``product`` {``name``, ``version``}
- ``scan``: ``id``, ``started_at``, ``finished_at``, ``trigger`` (full | partial | import), ``source``
  (cloudsoc | prowler), ``accounts`` [{``id``, ``name``}], ``regions``, ``inventory`` {``path``,
  ``sha256`` (as recorded by the scan), ``present`` (the file is still there), ``verified`` (its
  SHA-256 is the recorded one)}
- ``counts``: results per status (PASS, FAIL, ERROR, MANUAL)
- ``frameworks``: per framework, ``frameworks.evaluate``: ``framework``, ``name``, ``version``,
  ``score`` (percent or null), ``counts`` (requirements per status), ``sections`` and ``accounts``
  ({name: {``score``, ``counts``}}), ``requirements`` [{``id``, ``title``, ``section``, ``assessment``,
  ``checks``, ``status``, ``accounts`` (account -> status), ``results`` (status -> count)}]
- ``checks``: check id -> {``title``, ``severity``, ``resource_type``, ``description``,
  ``requirements`` (framework id -> requirement ids)}
- ``results``: [{``check``, ``title``, ``status``, ``severity``, ``account``, ``account_name``,
  ``region``, ``resource``, ``resource_type``, ``description``, ``message``, ``evidence``,
  ``requirements``}] in the order the scan stored them
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, select

import cloudsoc
from cloudsoc.core import db
from cloudsoc.core.errors import CloudSOCError, ConfigError
from cloudsoc.core.timeutil import aware, utcnow
from cloudsoc.posture import asff, frameworks, ocsf, report_html, store
from cloudsoc.posture.check import CHECKS, STATUSES, Result
from cloudsoc.posture.inventory import Inventory

SCHEMA = "cloudsoc.posture.report/1"
FORMATS = ("json", "csv", "html", "ocsf", "asff")
CSV_COLUMNS = ["check", "title", "severity", "status", "account", "account_name", "region", "resource",
               "message", "requirements"]  # fmt: skip


def build(conn: Connection, scan_id: str, framework_ids: list[str] | None = None) -> dict[str, Any]:
    """The report document of a stored scan, judged against ``framework_ids`` (default: every bundled
    framework)."""
    row = store.scan_row(conn, scan_id)
    results = store.results(conn, scan_id)
    fws = [frameworks.get(f) for f in framework_ids] if framework_ids else list(frameworks.bundled().values())
    mapping = requirement_map(fws)
    inventory, names = _inventory(row)
    if row["trigger"] == "import":  # the imported tool named the accounts
        names = {
            r.account: str(r.evidence["account_name"]) for r in results if r.evidence.get("account_name")
        }
    checks = {c: _check(c, results, mapping.get(c, {})) for c in sorted({r.check for r in results})}
    sources = conn.execute(select(db.posture_results.c.source).distinct()
                           .where(db.posture_results.c.scan_id == scan_id)).scalars()  # fmt: skip
    return {
        "schema": SCHEMA,
        "generated_at": utcnow().isoformat(),
        "product": {"name": "cloudsoc", "version": cloudsoc.__version__},
        "scan": {
            "id": row["id"], "started_at": _iso(row["started_at"]), "finished_at": _iso(row["finished_at"]),
            "trigger": row["trigger"], "source": ",".join(sorted(sources)) or "cloudsoc",
            "accounts": [{"id": a, "name": names.get(a, a)} for a in row["accounts"]],
            "regions": row["regions"], "inventory": inventory,
        },
        "counts": {s: sum(1 for r in results if r.status == s) for s in STATUSES},
        "frameworks": [frameworks.evaluate(fw, results) for fw in fws],
        "checks": checks,
        "results": [_result(r, checks[r.check], names) for r in results],
    }  # fmt: skip


def requirement_map(fws: list[frameworks.Framework]) -> dict[str, dict[str, list[str]]]:
    """check id -> framework id -> the requirement ids the check serves."""
    out: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for fw in fws:
        for req in fw.requirements:
            for c in req.checks:
                out[c][fw.id].append(req.id)
    return {c: dict(v) for c, v in out.items()}


def render(doc: dict[str, Any], fmt: str) -> bytes:
    """The document in one of ``FORMATS``."""
    if fmt == "json":
        return orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n"
    if fmt == "csv":
        return to_csv(doc).encode()
    if fmt == "html":
        return report_html.render(doc).encode()
    if fmt == "ocsf":
        return orjson.dumps(ocsf.records(doc), option=orjson.OPT_INDENT_2) + b"\n"
    if fmt == "asff":
        return orjson.dumps(asff.findings(doc), option=orjson.OPT_INDENT_2) + b"\n"
    raise ConfigError(f"unknown report format {fmt!r}; known: {', '.join(FORMATS)}")


def to_csv(doc: dict[str, Any]) -> str:
    """One row per result; ``requirements`` lists ``framework:requirement`` pairs separated by spaces.
    Rows end in CRLF (RFC 4180): the writer then quotes a value holding a lone CR, which every reader
    would otherwise take for the end of the row."""
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow(CSV_COLUMNS)
    for r in doc["results"]:
        pairs = " ".join(
            f"{fid}:{rid}" for fid in sorted(r["requirements"]) for rid in r["requirements"][fid]
        )
        out.writerow([_cell(v) for v in (*(r[c] for c in CSV_COLUMNS[:-1]), pairs)])
    return buf.getvalue()


def _cell(value: Any) -> str:
    # A cell a spreadsheet would run as a formula is quoted (OWASP CSV injection): resource names and
    # messages carry text from the audited accounts.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _check(check_id: str, results: list[Result], requirements: dict[str, list[str]]) -> dict[str, Any]:
    try:
        spec = CHECKS.get(check_id)
        info = {"title": spec.title, "severity": str(spec.severity), "resource_type": spec.resource_type,
                "description": spec.description}  # fmt: skip
    except KeyError:  # imported from another tool: its record carried the title
        ev = next(r.evidence for r in results if r.check == check_id)
        sev = next(r.severity for r in results if r.check == check_id)
        info = {"title": str(ev.get("title") or check_id), "severity": sev,
                "resource_type": str(ev.get("resource_type") or ""), "description": str(ev.get("desc") or "")}  # fmt: skip
    return info | {"requirements": requirements}


def _result(r: Result, check: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    return r.to_dict() | {
        "title": check["title"], "account_name": names.get(r.account, r.account),
        "resource_type": check["resource_type"], "description": check["description"],
        "requirements": check["requirements"],
    }  # fmt: skip


def _inventory(row: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The scan's inventory file as the report states it, and the account names it holds."""
    path = row.get("inventory_path")
    info = {"path": path, "sha256": row.get("inventory_sha256"), "present": False, "verified": False}
    if not path or not Path(path).is_file():
        return info, {}
    raw = Path(path).read_bytes()
    info.update(present=True, verified=hashlib.sha256(raw).hexdigest() == row.get("inventory_sha256"))
    if row["trigger"] == "import":
        return info, {}
    try:
        inv = Inventory.from_bytes(raw)
    except (OSError, ValueError, KeyError, CloudSOCError):
        return info, {}
    return info, {a: str(v.get("name") or a) for a, v in inv.accounts.items()}


def _iso(t: datetime) -> str:
    return aware(t).isoformat()
