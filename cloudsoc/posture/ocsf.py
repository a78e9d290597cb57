"""Posture results as OCSF Compliance Finding records (class 2003, OCSF 1.1.0).

One record per result. ``compliance`` carries the verdict: the check is the control, the framework
requirements it serves are the requirements, the frameworks' names the standards. A MANUAL result is a
Warning (a person must look), an ERROR is Unknown (it could not be judged; the message says why).
"""

from __future__ import annotations

import hashlib
from typing import Any

import cloudsoc
from cloudsoc.core.severity import LEVELS, normalize
from cloudsoc.core.timeutil import parse_time

OCSF_VERSION = "1.1.0"
CLASS_UID, CATEGORY_UID, ACTIVITY_CREATE = 2003, 2, 1
TYPE_UID = CLASS_UID * 100 + ACTIVITY_CREATE  # 200301: Compliance Finding: Create
# OCSF compliance.status_id: 0 Unknown, 1 Pass, 2 Warning, 3 Fail. The one place a cloudsoc status is
# given a compliance verdict: the ASFF export names these in Security Hub's words.
COMPLIANCE_STATUS: dict[str, tuple[int, str]] = {
    "PASS": (1, "Pass"), "MANUAL": (2, "Warning"), "FAIL": (3, "Fail"), "ERROR": (0, "Unknown"),
}  # fmt: skip
# OCSF severity_id: 1 Informational .. 5 Critical, in the order of cloudsoc's scale.
SEVERITY_ID = {level: i + 1 for i, level in enumerate(LEVELS)}


def finding_uid(result: dict[str, Any]) -> str:
    """Stable per (check, account, region, resource): the same judgement keeps its uid across scans."""
    key = "\x1f".join(str(result[k]) for k in ("check", "account", "region", "resource"))
    return f"cloudsoc-{result['check']}-{hashlib.sha256(key.encode()).hexdigest()[:24]}"


def record(
    result: dict[str, Any], *, time_ms: int, standards: dict[str, str], scan_id: str = ""
) -> dict[str, Any]:
    """One OCSF record from a result dict (``Result.to_dict()``, or a report result with ``title``,
    ``resource_type``, ``description`` and ``requirements`` = framework id -> requirement ids)."""
    severity = normalize(result.get("severity"))
    status_id, status = COMPLIANCE_STATUS[result["status"]]
    reqs: dict[str, list[str]] = result.get("requirements") or {}
    resource: dict[str, Any] = {"uid": result["resource"], "type": result.get("resource_type") or "Other"}
    if result["region"] != "global":
        resource["region"] = result["region"]
    account: dict[str, Any] = {"uid": result["account"], "type": "AWS Account", "type_id": 10}
    if result.get("account_name"):
        account["name"] = result["account_name"]
    return {
        "class_uid": CLASS_UID, "class_name": "Compliance Finding",
        "category_uid": CATEGORY_UID, "category_name": "Findings",
        "activity_id": ACTIVITY_CREATE, "activity_name": "Create",
        "type_uid": TYPE_UID, "type_name": "Compliance Finding: Create",
        "time": time_ms,
        "severity_id": SEVERITY_ID[severity], "severity": severity.capitalize(),
        "status_id": 1, "status": "New",
        "message": result["message"],
        "compliance": {
            "status_id": status_id, "status": status, "status_code": result["status"],
            "status_detail": result["message"],
            "control": result["check"],
            "requirements": [f"{fid}:{rid}" for fid in sorted(reqs) for rid in reqs[fid]],
            "standards": [standards.get(fid, fid) for fid in sorted(reqs)],
        },
        "finding_info": {
            "uid": finding_uid(result),
            "title": result.get("title") or result["check"],
            "desc": result.get("description") or result["message"],
        },
        "cloud": {"provider": "AWS", "account": account, "region": result["region"]},
        "resources": [resource],
        "metadata": {
            "version": OCSF_VERSION,
            "product": {"name": "cloudsoc", "vendor_name": "cloudsoc", "uid": "cloudsoc",
                        "version": cloudsoc.__version__},
            "profiles": ["cloud"],
            "event_code": result["check"],
        },
        "unmapped": {"evidence": result.get("evidence", {}), "scan_id": scan_id},
    }  # fmt: skip


def records(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Every result of a report document (``report.build``) as an OCSF record."""
    standards = {f["framework"]: f["name"] for f in doc["frameworks"]}
    time_ms = int(parse_time(doc["scan"]["finished_at"]).timestamp() * 1000)
    return [
        record(r, time_ms=time_ms, standards=standards, scan_id=doc["scan"]["id"]) for r in doc["results"]
    ]
