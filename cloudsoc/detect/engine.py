"""Running rules over a scope of events held in DuckDB views (the lake, or test events).

Per source, in three set-based steps rather than a loop over events:
1. one scan of the hot columns keeps the candidates: events that satisfy at least one rule's
   hot-column part (low-cardinality predicates resolved to the values present, so they push down
   into the Parquet scan as plain IN filters);
2. the raw record is fetched only for candidates of rules that look inside it, selected by event
   name so row groups without such events are never decompressed;
3. each rule's full predicate runs over the small candidate table.
Correlation rules aggregate the matches of their base rules with window functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb
import orjson

from cloudsoc.detect import udf
from cloudsoc.detect.correlate import correlate
from cloudsoc.detect.ir import Const
from cloudsoc.detect.rules import Rule
from cloudsoc.detect.sql import Renderer, hot_part, lit, needs_raw

MATCH_COLUMNS = "event_id, event_time, account_id, region"
PRINCIPAL = {"cloudtrail": "principal_arn", "guardduty": "principal_arn"}
FETCH_KEY = {"cloudtrail": "event_name", "guardduty": "finding_type", "securityhub": "product_name"}


@dataclass
class Match:
    rule: Rule
    event_ids: list[str]
    first_seen: datetime
    last_seen: datetime
    account_id: str | None
    region: str | None
    principal: str | None
    group: str = ""  # the dedup group within the rule (correlation group-by values)
    context: dict[str, Any] = field(default_factory=dict)


class Engine:
    def __init__(self, rules: list[Rule]) -> None:
        self.rules = rules

    def run(
        self, con: duckdb.DuckDBPyConnection, window: tuple[datetime, datetime] | None = None
    ) -> list[Match]:
        """Matches of every rule over the views of ``con`` (optionally only events in ``window``)."""
        udf.register(con)
        matches: list[Match] = []
        base: dict[str, list[dict[str, Any]]] = {}
        plain = [r for r in self.rules if r.kind != "correlation"]
        inputs = [b for r in self.rules if r.correlation for b in r.correlation.rules]
        needed = {b.id for b in inputs}
        extra = {b.id: b for b in inputs if all(b is not r for r in plain)}
        evaluated = plain + list(extra.values())  # correlation inputs run even when they do not alert
        for source in sorted({r.source for r in evaluated}):
            rules = [r for r in evaluated if r.source == source]
            for rule, rows in _Scope(con, source, window).evaluate(rules, needed):
                if rule.id in needed:
                    base[rule.id] = rows
                if rule.alert and rule.id not in extra:
                    matches.extend(_event_match(rule, row, source) for row in rows)
        for rule in (r for r in self.rules if r.correlation):
            matches.extend(correlate(con, rule, base))
        return matches


def _event_match(rule: Rule, row: dict[str, Any], source: str) -> Match:
    principal = row.get(PRINCIPAL.get(source, ""))
    context = {k: row[k] for k in ("event_name", "event_source", "source_ip", "finding_type") if row.get(k)}
    py = rule.python
    if py is not None and row.get("raw"):
        event = orjson.loads(row["raw"])
        if hasattr(py, "alert_context"):
            context.update(py.alert_context(event))
    return Match(rule, [row["event_id"]], row["event_time"], row["event_time"], row.get("account_id"),
                 row.get("region"), principal, str(principal or ""), context)  # fmt: skip


class _Scope:
    """One source's events in one detection run."""

    def __init__(self, con: duckdb.DuckDBPyConnection, source: str, window: tuple[datetime, datetime] | None):
        self.con = con
        self.source = source
        self.view = source
        if window is not None:
            self.view = f"_scope_{source}"
            con.execute(
                f"CREATE OR REPLACE TEMP VIEW {self.view} AS SELECT * FROM {source} "
                f"WHERE event_time >= {lit(window[0].isoformat())}::TIMESTAMPTZ "
                f"AND event_time <= {lit(window[1].isoformat())}::TIMESTAMPTZ"
            )
        self._distinct: dict[str, list[str]] = {}
        self.renderer = Renderer(source, self.resolve)

    def resolve(self, column: str, predicate: str) -> list[str]:
        if column not in self._distinct:
            rows = self.con.execute(f"SELECT DISTINCT {column} FROM {self.view} WHERE {column} IS NOT NULL")
            self._distinct[column] = [r[0] for r in rows.fetchall()]
        values = self._distinct[column]
        if not values:
            return []
        found = self.con.execute(
            f"SELECT x FROM (SELECT unnest(?::VARCHAR[]) AS x) WHERE {predicate}", [values]
        ).fetchall()
        return sorted(r[0] for r in found)

    def evaluate(self, rules: list[Rule], want_raw: set[str]) -> list[tuple[Rule, list[dict[str, Any]]]]:
        """Rows matched by each rule; rules in ``want_raw`` (correlation inputs) keep the raw record."""
        hot = {r.id: self._hot_sql(r) for r in rules}
        cols = [c for c in self._columns() if c != "raw"]
        union = " OR ".join(f"({h})" for h in hot.values()) or "FALSE"
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE _cand AS SELECT {', '.join(cols)} FROM {self.view} WHERE {union}"
        )
        raw_rules = [
            r
            for r in rules
            if r.id in want_raw
            or r.python is not None
            or (r.condition and needs_raw(self.source, r.condition))
        ]
        self._attach_raw([hot[r.id] for r in raw_rules])
        out = []
        for rule in rules:
            rows = self._select(rule, hot[rule.id])
            if rule.python is not None:
                rows = [row for row in rows if row.get("raw") and rule.python.rule(orjson.loads(row["raw"]))]
            out.append((rule, rows))
        return out

    def _columns(self) -> list[str]:
        return [r[0] for r in self.con.execute(f"DESCRIBE {self.view}").fetchall()]

    def _hot_sql(self, rule: Rule) -> str:
        if rule.kind == "python":
            names = rule.event_names
            return f"event_name IN ({', '.join(lit(n) for n in names)})" if names else "TRUE"
        assert rule.condition is not None
        part = hot_part(self.source, rule.condition)
        return "TRUE" if isinstance(part, Const) and part.value else self.renderer.render(part)

    def _attach_raw(self, hot_parts: list[str]) -> None:
        if not hot_parts:
            self.con.execute(
                "CREATE OR REPLACE TEMP TABLE _cand_raw AS SELECT *, NULL::VARCHAR AS raw FROM _cand"
            )
            return
        wanted = " OR ".join(f"({h})" for h in hot_parts)
        key = FETCH_KEY.get(self.source)
        pick = "TRUE"
        if key:
            keys = [
                r[0] for r in self.con.execute(f"SELECT DISTINCT {key} FROM _cand WHERE {wanted}").fetchall()
            ]
            pick = f"{key} IN ({', '.join(lit(k) for k in keys if k is not None)})" if keys else "FALSE"
            if None in keys:
                pick = f"({pick} OR {key} IS NULL)"
        self.con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _cand_raw AS
                SELECT c.*, r.raw FROM _cand c LEFT JOIN
                  (SELECT event_id, raw FROM {self.view} WHERE {pick}) r USING (event_id)"""
        )

    def _select(self, rule: Rule, hot_sql: str) -> list[dict[str, Any]]:
        where = hot_sql if rule.kind == "python" else self.renderer.render(rule.condition)  # type: ignore[arg-type]
        cur = self.con.execute(f"SELECT * FROM _cand_raw WHERE {where} ORDER BY event_time, event_id")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
