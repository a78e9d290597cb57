"""SLA clocks and response metrics of incidents.

The clocks start at the first alert (when the SOC could know). Measured per incident and in aggregate:
MTTD  first malicious event's eventTime -> first alert
MTTA  first alert -> acknowledged
MTTC  first alert -> contained
MTTR  first alert -> resolved
"""

from __future__ import annotations

import statistics
from datetime import UTC, datetime
from typing import Any

from cloudsoc.core.config import SlaSettings
from cloudsoc.core.timeutil import aware

STAGES = (("acknowledge", "acknowledged_at"), ("contain", "contained_at"), ("resolve", "resolved_at"))
MEASURES = {
    "mttd": ("first_event_at", "first_alert_at"),
    "mtta": ("first_alert_at", "acknowledged_at"),
    "mttc": ("first_alert_at", "contained_at"),
    "mttr": ("first_alert_at", "resolved_at"),
}


def clocks(row: dict[str, Any], sla: dict[str, SlaSettings], now: datetime) -> dict[str, Any]:
    """Due time, when it was met, and whether it was (or is now) breached, per stage."""
    limits = sla.get(row["severity"])
    start = aware(row["first_alert_at"])
    out: dict[str, Any] = {}
    if limits is None or start is None:
        return out
    for stage, column in STAGES:
        due = start.timestamp() + getattr(limits, stage) * 60
        met = aware(row.get(column))
        if met is None and row["status"] in ("false_positive", "closed"):
            met = aware(row.get("closed_at")) or aware(row.get("updated_at"))
        done_at = met.timestamp() if met else now.timestamp()
        out[stage] = {
            "due": datetime.fromtimestamp(due, UTC).isoformat(),
            "met_at": met.isoformat() if met else None,
            "breached": done_at > due,
        }
    return out


def durations(row: dict[str, Any]) -> dict[str, float | None]:
    """Seconds of each measure for one incident (None until the later stage is reached)."""
    out: dict[str, float | None] = {}
    for name, (a, b) in MEASURES.items():
        start, end = aware(row.get(a)), aware(row.get(b))
        out[name] = round((end - start).total_seconds(), 3) if start and end else None
    return out


def aggregate(rows: list[dict[str, Any]], sla: dict[str, SlaSettings], now: datetime) -> dict[str, Any]:
    """Mean, median and p95 of every measure, counts, and SLA breaches over many incidents."""
    out: dict[str, Any] = {"incidents": len(rows)}
    per = [durations(r) for r in rows]
    for name in MEASURES:
        values = sorted(v for d in per if (v := d[name]) is not None)
        out[name] = _summary(values)
    by_status: dict[str, int] = {}
    by_severity: dict[str, int] = {}
    breaches = {stage: 0 for stage, _ in STAGES}
    for r in rows:
        by_status[r["status"]] = by_status.get(r["status"], 0) + 1
        by_severity[r["severity"]] = by_severity.get(r["severity"], 0) + 1
        for stage, clock in clocks(r, sla, now).items():
            breaches[stage] += clock["breached"]
    out.update(by_status=by_status, by_severity=by_severity, sla_breaches=breaches)
    return out


def _summary(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0, "mean": None, "median": None, "p95": None}
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    return {"count": len(values), "mean": round(statistics.fmean(values), 3),
            "median": round(statistics.median(values), 3), "p95": p95}  # fmt: skip
