"""Sigma correlation rules over the matches of their base rules.

Counting rules slide a window of ``timespan`` over each group with DuckDB window functions; the
windows in which the condition holds are merged into one match per burst.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import duckdb
import orjson
import pyarrow as pa

from cloudsoc.detect.fields import hot_column
from cloudsoc.detect.udf import values_at

if TYPE_CHECKING:
    from cloudsoc.detect.engine import Match
    from cloudsoc.detect.rules import Rule


def _field(row: dict[str, Any], source: str, name: str, cache: dict[str, Any]) -> str | None:
    """A field's value for grouping and counting, case-folded as Sigma compares; None when missing."""
    value = _raw_field(row, source, name, cache)
    return None if value is None else value.lower()


def _raw_field(row: dict[str, Any], source: str, name: str, cache: dict[str, Any]) -> str | None:
    col = hot_column(source, name)
    if col is not None and row.get(col.name) is not None:
        return str(row[col.name])
    if "raw" not in cache:
        cache["raw"] = orjson.loads(row["raw"]) if row.get("raw") else {}
    found = values_at(cache["raw"], name)
    return found[0] if found else None


def _inputs(rule: Rule, base: dict[str, list[dict[str, Any]]]) -> pa.Table:
    corr = rule.correlation
    assert corr is not None
    cols: dict[str, list[Any]] = {
        k: [] for k in ("rule_idx", "event_id", "t", "grp", "val", "account_id", "region", "principal")
    }
    for idx, ref in enumerate(corr.rules):
        for row in base.get(ref.id, []):
            cache: dict[str, Any] = {}
            grp = [_field(row, ref.source, g, cache) for g in corr.group_by]
            if None in grp:
                continue  # an event without the group-by field belongs to no group
            cols["rule_idx"].append(idx)
            cols["event_id"].append(row["event_id"])
            cols["t"].append(row["event_time"])
            cols["grp"].append(orjson.dumps(grp).decode())
            cols["val"].append(_field(row, ref.source, corr.field, cache) if corr.field else None)
            cols["account_id"].append(row.get("account_id"))
            cols["region"].append(row.get("region"))
            cols["principal"].append(row.get("principal_arn"))
    return pa.table(cols, schema=pa.schema([
        ("rule_idx", pa.int32()), ("event_id", pa.string()), ("t", pa.timestamp("us", tz="UTC")), ("grp", pa.string()),
        ("val", pa.string()), ("account_id", pa.string()), ("region", pa.string()), ("principal", pa.string()),
    ]))  # fmt: skip


def _measure(rule: Rule) -> str:
    corr = rule.correlation
    assert corr is not None
    frame = (
        f"PARTITION BY grp ORDER BY t RANGE BETWEEN INTERVAL {corr.seconds} SECONDS PRECEDING AND CURRENT ROW"
    )
    if corr.type == "event_count":
        return f"count(*) OVER ({frame}) {corr.op} {corr.count}"
    if corr.type == "value_count":
        return f"count(DISTINCT val) OVER ({frame}) {corr.op} {corr.count}"
    return f"count(DISTINCT rule_idx) OVER ({frame}) = {len(corr.rules)}"


def correlate(
    con: duckdb.DuckDBPyConnection, rule: Rule, base: dict[str, list[dict[str, Any]]]
) -> list[Match]:
    corr = rule.correlation
    assert corr is not None
    table = _inputs(rule, base)
    if table.num_rows == 0:
        return []
    con.register("_corr_in", table)
    fired = con.execute(
        f"SELECT grp, t FROM (SELECT grp, t, {_measure(rule)} AS hit FROM _corr_in) WHERE hit"
    ).fetchall()
    rows = table.to_pylist()
    con.unregister("_corr_in")
    if corr.type == "temporal_ordered":
        fired = [(g, t) for g, t in fired if _ordered(rows, g, t, corr.seconds, len(corr.rules))]
    return _bursts(rule, rows, fired)


def _ordered(rows: list[dict[str, Any]], grp: str, end: Any, seconds: int, n: int) -> bool:
    """Whether the group's events in (end - timespan, end] contain rules 0..n-1 in that order."""
    start = end - timedelta(seconds=seconds)
    want = 0
    for row in sorted((r for r in rows if r["grp"] == grp and start <= r["t"] <= end), key=lambda r: r["t"]):
        if row["rule_idx"] == want:
            want += 1
            if want == n:
                return True
    return False


def _bursts(rule: Rule, rows: list[dict[str, Any]], fired: list[tuple[str, Any]]) -> list[Match]:
    """One match per group and run of overlapping firing windows, with every event in them."""
    from cloudsoc.detect.engine import Match

    assert rule.correlation is not None
    span = timedelta(seconds=rule.correlation.seconds)
    out: list[Match] = []
    by_group: dict[str, list[Any]] = {}
    for grp, t in fired:
        by_group.setdefault(grp, []).append(t)
    for grp, ends in by_group.items():
        members = sorted((r for r in rows if r["grp"] == grp), key=lambda r: (r["t"], r["event_id"]))
        for lo, hi in _merge(sorted(ends), span):
            inside = [r for r in members if lo - span <= r["t"] <= hi]
            first = inside[0]
            out.append(Match(
                rule, list(dict.fromkeys(r["event_id"] for r in inside)), first["t"], inside[-1]["t"],
                first["account_id"], first["region"], first["principal"], grp,
                {"group_by": dict(zip(rule.correlation.group_by, orjson.loads(grp), strict=True)), "events": len(inside)},
            ))  # fmt: skip
    return out


def _merge(ends: list[Any], span: timedelta) -> list[tuple[Any, Any]]:
    runs: list[tuple[Any, Any]] = []
    for t in ends:
        if runs and t - span <= runs[-1][1]:
            runs[-1] = (runs[-1][0], t)
        else:
            runs.append((t, t))
    return runs
