"""Sigma correlation rules over the matches of their base rules.

Counting rules slide a window of ``timespan`` over each group with DuckDB window functions; the
windows in which the condition holds are merged into one match per burst.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, timedelta
from typing import TYPE_CHECKING, Any

import duckdb
import orjson

from cloudsoc.detect.fields import PRINCIPAL
from cloudsoc.detect.sql import Renderer

if TYPE_CHECKING:
    from cloudsoc.detect.engine import Match
    from cloudsoc.detect.rules import Rule


# (base rule, fields it must carry) -> the SQL relation of the base rule's matching events
Matched = Callable[["Rule", list[str]], str]


def grouped_by(rule: Rule) -> list[str]:
    """The fields a correlation rule groups (and counts) its base rules' events by."""
    corr = rule.correlation
    assert corr is not None
    return [*corr.group_by, *([corr.field] if corr.field else [])]


def _field_sql(renderer: Renderer, name: str) -> str:
    """A field as one case-folded text value (Sigma compares case-insensitively); NULL when missing."""
    expr, col = renderer.field(name)
    return f"lower({expr})" if col else f"lower({expr}[1])"


def _inputs(con: duckdb.DuckDBPyConnection, rule: Rule, renderer: Renderer, matched: Matched) -> None:
    """``_corr_in``: every base-rule match with its group (events lacking a group-by field have none);
    ``matched(base, fields)`` is the relation of a base rule's matching events, with ``fields``."""
    corr = rule.correlation
    assert corr is not None
    principal = PRINCIPAL.get(renderer.source, "NULL")
    parts = []
    for idx, ref in enumerate(corr.rules):
        groups = [_field_sql(renderer, g) for g in corr.group_by]
        grp = f"to_json([{', '.join(groups)}])::VARCHAR" if groups else "'[]'"
        present = " AND ".join(f"{g} IS NOT NULL" for g in groups) or "TRUE"
        val = _field_sql(renderer, corr.field) if corr.field else "NULL"
        parts.append(
            f"""SELECT {idx} AS rule_idx, event_id, event_time::TIMESTAMP AS t, {grp} AS grp, {val} AS val,
                       account_id, region, {principal} AS principal
                FROM {matched(ref, grouped_by(rule))} WHERE {present}"""
        )
    con.execute(f"CREATE OR REPLACE TEMP TABLE _corr_in AS {' UNION ALL '.join(parts)}")


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
    con: duckdb.DuckDBPyConnection, rule: Rule, renderer: Renderer, matched: Matched
) -> list[Match]:
    """Matches of one correlation rule over its base rules' matches in the current scope."""
    corr = rule.correlation
    assert corr is not None
    _inputs(con, rule, renderer, matched)
    fired = con.execute(
        f"SELECT grp, t FROM (SELECT grp, t, {_measure(rule)} AS hit FROM _corr_in) WHERE hit"
    ).fetchall()
    if not fired:
        return []
    groups = sorted({g for g, _ in fired})
    cur = con.execute("SELECT * FROM _corr_in WHERE grp IN (SELECT unnest(?::VARCHAR[]))", [groups])
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
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
                rule, list(dict.fromkeys(r["event_id"] for r in inside)), first["t"].replace(tzinfo=UTC),
                inside[-1]["t"].replace(tzinfo=UTC),
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
