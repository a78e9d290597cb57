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
from cloudsoc.detect.sql import Renderer, earliest

if TYPE_CHECKING:
    from cloudsoc.detect.engine import Match
    from cloudsoc.detect.rules import Rule


# base rule -> the SQL relation of its matching events, with the raw fields its correlations read
Matched = Callable[["Rule"], str]


def grouped_by(rule: Rule) -> list[str]:
    """The fields a correlation rule groups (and counts) its base rules' events by."""
    corr = rule.correlation
    assert corr is not None
    return [*corr.group_by, *([corr.field] if corr.field else [])]


def _field_sql(renderer: Renderer, name: str) -> str:
    """A field as one case-folded text value (Sigma compares case-insensitively); NULL when missing."""
    expr, col = renderer.field(name)
    return f"lower({expr})" if col else f"lower({expr}[1])"


def _inputs(con: duckdb.DuckDBPyConnection, rule: Rule, renderer: Renderer, matched: Matched) -> int:
    """``_corr_in``: every base-rule match with its group (events lacking a group-by field have none),
    and how many there are; ``matched(base)`` is the relation of a base rule's matching events."""
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
                FROM {matched(ref)} WHERE {present}"""
        )
    created = con.execute(f"CREATE OR REPLACE TEMP TABLE _corr_in AS {' UNION ALL '.join(parts)}")
    return int(created.fetchall()[0][0])


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
    """Matches of one correlation rule over its base rules' matches in the current scope: one
    per group and run of overlapping firing windows, with every event in them."""
    from cloudsoc.detect.engine import Match

    corr = rule.correlation
    assert corr is not None
    if not _inputs(con, rule, renderer, matched):
        return []
    fired = f"SELECT DISTINCT grp, t FROM (SELECT grp, t, {_measure(rule)} AS hit FROM _corr_in) WHERE hit"
    if not con.execute(f"CREATE OR REPLACE TEMP TABLE _fired AS {fired}").fetchall()[0][0]:
        return []  # the common case in a live batch: one statement fewer
    if corr.type == "temporal_ordered":
        _keep_ordered(con, corr.seconds, len(corr.rules))
    span = f"INTERVAL {corr.seconds} SECONDS"
    # a window ending within a timespan of the previous one continues its run; a run's events
    # are those of all its windows
    bursts = con.execute(
        f"""WITH runs AS (
                SELECT grp, t, sum(CASE WHEN t - prev <= {span} THEN 0 ELSE 1 END) OVER (PARTITION BY grp ORDER BY t) AS run
                FROM (SELECT grp, t, lag(t) OVER (PARTITION BY grp ORDER BY t) AS prev FROM _fired)),
            bursts AS (SELECT grp, run, min(t) AS lo, max(t) AS hi FROM runs GROUP BY grp, run)
            SELECT b.grp, min(c.t), max(c.t), count(*), list(c.event_id ORDER BY c.t, c.event_id),
                   {earliest(["account_id", "region", "principal"], "c.t", "c.event_id")}
            FROM bursts b JOIN _corr_in c ON c.grp = b.grp AND c.t BETWEEN b.lo - {span} AND b.hi
            GROUP BY b.grp, b.run ORDER BY b.grp, min(c.t)"""
    ).fetchall()
    return [
        Match(rule, list(dict.fromkeys(ids)), first.replace(tzinfo=UTC), last.replace(tzinfo=UTC), at["account_id"],
              at["region"], at["principal"], grp,
              {"group_by": dict(zip(corr.group_by, orjson.loads(grp), strict=True)), "events": n})
        for grp, first, last, n, ids, at in bursts
    ]  # fmt: skip


def _keep_ordered(con: duckdb.DuckDBPyConnection, seconds: int, n: int) -> None:
    """Only the windows of ``_fired`` whose events hold the base rules in their order."""
    fired = con.execute("SELECT grp, t FROM _fired").fetchall()
    cur = con.execute("SELECT * FROM _corr_in WHERE grp IN (SELECT grp FROM _fired)")
    names = [d[0] for d in cur.description]
    by_group: dict[str, list[dict[str, Any]]] = {}
    for values in cur.fetchall():
        row = dict(zip(names, values, strict=True))
        by_group.setdefault(row["grp"], []).append(row)
    kept = [(g, t) for g, t in fired if _ordered(by_group[g], t, seconds, n)]
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _fired AS SELECT unnest(?::VARCHAR[]) AS grp, unnest(?::TIMESTAMP[]) AS t",
        [[g for g, _ in kept], [t for _, t in kept]],
    )


def _ordered(rows: list[dict[str, Any]], end: Any, seconds: int, n: int) -> bool:
    """Whether a group's events in (end - timespan, end] contain rules 0..n-1 in that order."""
    start = end - timedelta(seconds=seconds)
    want = 0
    for row in sorted((r for r in rows if start <= r["t"] <= end), key=lambda r: (r["t"], r["rule_idx"])):
        if row["rule_idx"] == want:
            want += 1
            if want == n:
                return True
    return False
