"""GuardDuty and Security Hub findings become alerts directly, one alert per finding."""

from __future__ import annotations

from typing import Any

import duckdb

from cloudsoc.detect.engine import Match
from cloudsoc.detect.rules import Rule

# GuardDuty severity bands (numeric) and Security Hub labels, onto cloudsoc severities.
_GD_BANDS = ((9.0, "critical"), (7.0, "high"), (4.0, "medium"), (1.0, "low"))
_SH_LABELS = {
    "CRITICAL": "critical",
    "HIGH": "high",
    "MEDIUM": "medium",
    "LOW": "low",
    "INFORMATIONAL": "info",
}


def guardduty_severity(score: float | None) -> str:
    for floor, name in _GD_BANDS:
        if score is not None and score >= floor:
            return name
    return "info"


def _rule(rule_id: str, title: str, severity: str, tags: list[str]) -> Rule:
    return Rule(
        id=rule_id,
        title=title,
        severity=severity,
        tags=tags,
        version="finding",
        path="",
        line=0,
        kind="finding",
    )


def finding_matches(con: duckdb.DuckDBPyConnection) -> list[Match]:
    return _guardduty(con) + _securityhub(con)


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _guardduty(con: duckdb.DuckDBPyConnection) -> list[Match]:
    out = []
    sql = "SELECT * EXCLUDE (raw) FROM guardduty ORDER BY event_time"
    for r in _rows(con, sql):
        sev = guardduty_severity(r["severity"])
        rule = _rule(
            f"guardduty:{r['finding_type']}", str(r["title"] or r["finding_type"]), sev, ["source.guardduty"]
        )
        ctx = {"finding_id": r["finding_id"], "finding_type": r["finding_type"], "severity": sev,
               "score": r["severity"], "resource_type": r["resource_type"]}  # fmt: skip
        out.append(Match(rule, [r["event_id"]], r["event_time"], r["event_time"], r["account_id"], r["region"],
                         r["principal_arn"], str(r["finding_id"]), ctx))  # fmt: skip
    return out


def _securityhub(con: duckdb.DuckDBPyConnection) -> list[Match]:
    out = []
    sql = "SELECT * EXCLUDE (raw) FROM securityhub WHERE coalesce(record_state, 'ACTIVE') = 'ACTIVE' ORDER BY event_time"
    for r in _rows(con, sql):
        sev = _SH_LABELS.get(str(r["severity_label"] or "").upper(), "info")
        rule = _rule(f"securityhub:{r['generator_id']}", str(r["title"]), sev, ["source.securityhub"])
        ctx = {"finding_id": r["finding_id"], "product": r["product_name"], "severity": sev,
               "resource_id": r["resource_id"], "compliance_status": r["compliance_status"]}  # fmt: skip
        out.append(Match(rule, [r["event_id"]], r["event_time"], r["event_time"], r["account_id"], r["region"],
                         None, str(r["finding_id"]), ctx))  # fmt: skip
    return out
