"""Posture results as AWS Security Finding Format (ASFF), and their import into Security Hub.

One finding per result, filed in the result's account and region (account-wide results, region
"global", go to ``HOME_REGION``: Security Hub is regional). The finding Id is stable per (check,
account, region, resource), so importing the next scan updates the same findings instead of adding.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from cloudsoc.core.severity import normalize
from cloudsoc.posture import ocsf
from cloudsoc.posture.store import RANK

if TYPE_CHECKING:
    import boto3

SCHEMA_VERSION = "2018-10-08"
HOME_REGION = "us-east-1"
BATCH = 100  # BatchImportFindings takes at most 100 findings per call
# Security Hub's Compliance.Status for each OCSF compliance status (the verdict is ocsf's)
_ASFF_STATUS = {"Pass": "PASSED", "Warning": "WARNING", "Fail": "FAILED", "Unknown": "NOT_AVAILABLE"}
COMPLIANCE_STATUS = {s: _ASFF_STATUS[name] for s, (_, name) in ocsf.COMPLIANCE_STATUS.items()}
STANDARDS_TYPE = "Software and Configuration Checks/Industry and Regulatory Standards"
BEST_PRACTICE_TYPE = "Software and Configuration Checks/AWS Security Best Practices"
# Field limits of the ASFF (longer values are refused by the whole call).
MAX_TITLE, MAX_DESCRIPTION, MAX_REQUIREMENTS, MAX_TYPES = 256, 1024, 32, 50


def finding_id(result: dict[str, Any], region: str) -> str:
    digest = hashlib.sha256(result["resource"].encode()).hexdigest()[:32]
    return f"cloudsoc/{result['check']}/{result['account']}/{region}/{digest}"


def resource_type(cfn_type: str) -> str:
    """A CloudFormation type as the ASFF names it: AWS::RDS::DBInstance -> AwsRdsDbInstance."""
    parts = cfn_type.split("::")
    if len(parts) != 3 or parts[0] != "AWS" or not parts[1] or not parts[2]:
        return "Other"
    return "Aws" + "".join(_camel(p) for p in parts[1:])


def _camel(word: str) -> str:
    if word.isupper():  # EC2, IAM, VPC
        return word.capitalize()
    m = re.fullmatch(r"([A-Z]{2,})([A-Z][a-z].*)", word)  # DBInstance -> Db + Instance
    return m[1].capitalize() + m[2] if m else word


def finding(result: dict[str, Any], *, at: str, standards: dict[str, str]) -> dict[str, Any]:
    """One ASFF finding from a result dict (see ``ocsf.record`` for the keys read); ``at`` is the
    scan's finish time (ISO 8601)."""
    region = HOME_REGION if result["region"] == "global" else result["region"]
    account = result["account"]
    reqs: dict[str, list[str]] = result.get("requirements") or {}
    types = [f"{STANDARDS_TYPE}/{standards.get(fid, fid).replace('/', '-')}" for fid in sorted(reqs)]
    related = [f"{standards.get(fid, fid)} {rid}" for fid in sorted(reqs) for rid in reqs[fid]]
    status = COMPLIANCE_STATUS[result["status"]]
    title = result.get("title") or result["check"]
    description = result["message"] or title
    return {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": finding_id(result, region),
        "ProductArn": f"arn:aws:securityhub:{region}:{account}:product/{account}/default",
        "GeneratorId": f"cloudsoc/{result['check']}",
        "AwsAccountId": account,
        "Region": region,
        "Types": (types or [BEST_PRACTICE_TYPE])[:MAX_TYPES],
        "CreatedAt": at,
        "UpdatedAt": at,
        "Severity": {"Label": normalize(result.get("severity")).upper()},
        "Title": title[:MAX_TITLE],
        "Description": description[:MAX_DESCRIPTION],
        "Resources": [{"Type": resource_type(result.get("resource_type") or ""), "Id": result["resource"],
                       "Partition": "aws", "Region": region}],
        "Compliance": {"Status": status, "RelatedRequirements": related[:MAX_REQUIREMENTS]},
        "RecordState": "ACTIVE",
        "Workflow": {"Status": "RESOLVED" if status == "PASSED" else "NEW"},
        "ProductFields": {"cloudsoc/check": result["check"], "cloudsoc/status": result["status"]},
    }  # fmt: skip


def findings(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Every result of a report document (``report.build``) as an ASFF finding."""
    standards = {f["framework"]: f["name"] for f in doc["frameworks"]}
    at = doc["scan"]["finished_at"].replace("+00:00", "Z")  # RFC 3339 as Security Hub prints it
    out: dict[str, dict[str, Any]] = {}
    for r in doc["results"]:
        f = finding(r, at=at, standards=standards)
        # A check that judged one resource twice gives one finding: the worse (one Id, one state).
        if f["Id"] not in out or RANK[r["status"]] > RANK[out[f["Id"]]["ProductFields"]["cloudsoc/status"]]:
            out[f["Id"]] = f
    return list(out.values())


def import_findings(findings: Iterable[dict[str, Any]],
                    session_for: Callable[[str, str], boto3.Session]) -> dict[str, Any]:  # fmt: skip
    """BatchImportFindings into each finding's own account and region, 100 at a time.

    Returns ``{"imported": n, "failed": [{"Id", "ErrorCode", "ErrorMessage", "account", "region"}]}``:
    findings Security Hub refused one by one, and every finding of a call that failed as a whole
    (no hub, access denied), so nothing is lost silently."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for f in findings:
        groups[(f["AwsAccountId"], f["ProductArn"].split(":")[3])].append(f)
    imported, failed = 0, []
    for (account, region), items in sorted(groups.items()):
        where = {"account": account, "region": region}
        try:
            client = session_for(account, region).client("securityhub", region_name=region)
        except (ClientError, BotoCoreError) as exc:
            failed += [{"Id": f["Id"], **_error(exc), **where} for f in items]
            continue
        for start in range(0, len(items), BATCH):
            batch = items[start : start + BATCH]
            try:
                answer = client.batch_import_findings(Findings=batch)
            except (ClientError, BotoCoreError) as exc:
                failed += [{"Id": f["Id"], **_error(exc), **where} for f in batch]
                continue
            imported += int(answer.get("SuccessCount", 0))
            failed += [{"Id": f.get("Id", ""), "ErrorCode": f.get("ErrorCode", ""),
                        "ErrorMessage": f.get("ErrorMessage", ""), **where}
                       for f in answer.get("FailedFindings", [])]  # fmt: skip
    return {"imported": imported, "failed": failed}


def _error(exc: Exception) -> dict[str, str]:
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        return {"ErrorCode": str(err.get("Code", "ClientError")), "ErrorMessage": str(err.get("Message", ""))}
    return {"ErrorCode": type(exc).__name__, "ErrorMessage": str(exc)}
