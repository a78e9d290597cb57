"""Running rules over a scope of events held in DuckDB views (the lake, or test events).

Per source, in set-based steps rather than a loop over events:
1. one scan of the hot columns keeps the candidates: events that satisfy at least one rule's
   hot-column part (low-cardinality predicates resolved to the values present, so they push down
   into the Parquet scan as plain IN filters);
2. the raw record is fetched only for candidates of rules that look inside it, selected by event
   name so row groups without such events are never decompressed;
3. each rule's full predicate runs over the small candidate table, and its matches are grouped
   in SQL by account, principal and dedup window, so a noisy rule costs one row per group;
4. correlation rules aggregate their base rules' matches with window functions (correlate.py).
Only Python rules see events one at a time, and only the candidates of their prefilter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import orjson

from cloudsoc.detect import udf
from cloudsoc.detect.correlate import correlate
from cloudsoc.detect.fields import PRINCIPAL
from cloudsoc.detect.ir import Atom, Const
from cloudsoc.detect.rules import Rule
from cloudsoc.detect.sql import Renderer, hot_part, lit, needs_raw, python_test, scalar

FETCH_KEY = {"cloudtrail": "event_name", "guardduty": "finding_type", "securityhub": "product_name"}
CONTEXT = {"cloudtrail": ("event_name", "event_source", "source_ip"), "guardduty": ("finding_type",)}
DEFAULT_WINDOW = timedelta(hours=1)


@dataclass
class Match:
    rule: Rule
    event_ids: list[str]
    first_seen: datetime
    last_seen: datetime
    account_id: str | None
    region: str | None
    principal: str | None
    group: str = ""  # the dedup group within the rule (principal, or correlation group-by values)
    context: dict[str, Any] = field(default_factory=dict)


class Engine:
    def __init__(self, rules: list[Rule], dedup_window: timedelta = DEFAULT_WINDOW) -> None:
        self.rules = rules
        self.window = dedup_window

    def run(
        self, con: duckdb.DuckDBPyConnection, window: tuple[datetime, datetime] | None = None
    ) -> list[Match]:
        """Matches of every rule over the views of ``con`` (optionally only events in ``window``)."""
        udf.register(con)
        plain = [r for r in self.rules if r.kind != "correlation"]
        correlations = [r for r in self.rules if r.correlation]
        inputs = {b.id: b for r in correlations for b in r.correlation.rules}  # type: ignore[union-attr]
        evaluated = plain + [b for b in inputs.values() if all(b is not r for r in plain)]
        matches: list[Match] = []
        for source in sorted({r.source for r in evaluated}):
            scope = _Scope(con, source, window)
            rules = [r for r in evaluated if r.source == source]
            scope.prepare(rules, set(inputs))
            for rule in (r for r in plain if r.source == source and r.alert):
                matches.extend(scope.matches(rule, self.window))
            for rule in (r for r in correlations if r.correlation.rules[0].source == source):  # type: ignore[union-attr]
                matches.extend(correlate(scope.con, rule, scope.renderer, scope.relation))
        return matches


class _Scope:
    """One source's events in one detection run."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, source: str, window: tuple[datetime, datetime] | None
    ) -> None:
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
        self._resolved: dict[tuple[str, Atom], list[str]] = {}
        self.renderer = Renderer(source, self.resolve)
        self._hot: dict[str, str] = {}
        self._raw_rules: set[str] = set()

    def resolve(self, column: str, atom: Atom) -> list[str]:
        """The values of a low-cardinality column present in the scope that satisfy ``atom``."""
        key = (column, atom)
        if key in self._resolved:
            return self._resolved[key]
        if column not in self._distinct:
            rows = self.con.execute(f"SELECT DISTINCT {column} FROM {self.view} WHERE {column} IS NOT NULL")
            self._distinct[column] = sorted(r[0] for r in rows.fetchall())
        values = self._distinct[column]
        test = python_test(atom)
        if test is not None:  # equality and wildcards are decided here, without a query per atom
            found = [v for v in values if test(v)]
        elif values:
            cur = self.con.execute(
                f"SELECT x FROM (SELECT unnest(?::VARCHAR[]) AS x) WHERE {scalar(atom, 'x')}", [values]
            )
            found = sorted(r[0] for r in cur.fetchall())
        else:
            found = []
        self._resolved[key] = found
        return found

    def prepare(self, rules: list[Rule], want_raw: set[str]) -> None:
        """``_cand``: hot columns of every candidate event; ``_raw``: raw records where needed."""
        self._hot = {r.id: self._hot_sql(r) for r in rules}
        cols = [c for c in self._columns() if c != "raw"]
        union = " OR ".join(f"({h})" for h in self._hot.values()) or "FALSE"
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE _cand AS SELECT {', '.join(cols)} FROM {self.view} WHERE {union}"
        )
        self._raw_rules = {
            r.id
            for r in rules
            if r.id in want_raw
            or r.python is not None
            or (r.condition and needs_raw(self.source, r.condition))
        }
        self._fetch_raw([self._hot[i] for i in self._raw_rules])

    def relation(self, rule: Rule) -> str:
        """The candidate rows a rule reads: ``_raw`` (every column) when it looks inside the
        raw record, else ``_cand`` (hot columns only)."""
        return "_raw" if rule.id in self._raw_rules else "_cand"

    def where(self, rule: Rule) -> str:
        if rule.kind == "python":
            return self._hot[rule.id]
        assert rule.condition is not None
        return self.renderer.render(rule.condition)

    def matches(self, rule: Rule, window: timedelta) -> list[Match]:
        if rule.python is not None:
            return self._python_matches(rule)
        principal = PRINCIPAL.get(self.source, "NULL")
        context = ", ".join(f"arg_min({c}, event_time) AS {c}" for c in CONTEXT.get(self.source, ()))
        seconds = max(int(window.total_seconds()), 1)
        cur = self.con.execute(
            f"""SELECT account_id, {principal} AS principal, min(event_time)::TIMESTAMP AS first_seen,
                       max(event_time)::TIMESTAMP AS last_seen, arg_min(region, event_time) AS region,
                       list(event_id ORDER BY event_time, event_id) AS event_ids{", " + context if context else ""}
                FROM {self.relation(rule)} WHERE {self.where(rule)}
                GROUP BY account_id, {principal}, epoch(event_time)::BIGINT // {seconds}
                ORDER BY first_seen"""
        )
        names = [d[0] for d in cur.description]
        out = []
        for row in cur.fetchall():
            r = dict(zip(names, row, strict=True))
            ctx = {c: r[c] for c in CONTEXT.get(self.source, ()) if r.get(c)}
            # times leave DuckDB as naive UTC: converting through time zone objects costs more
            first, last = r["first_seen"].replace(tzinfo=UTC), r["last_seen"].replace(tzinfo=UTC)
            out.append(Match(rule, r["event_ids"], first, last, r["account_id"],
                             r["region"], r["principal"], str(r["principal"] or ""), ctx))  # fmt: skip
        return out

    def _python_matches(self, rule: Rule) -> list[Match]:
        """A Python rule (or the Python half of a Sigma rule) sees its candidates one at a time."""
        assert rule.python is not None
        cur = self.con.execute(
            f"SELECT * FROM {self.relation(rule)} WHERE {self.where(rule)} ORDER BY event_time, event_id"
        )
        names = [d[0] for d in cur.description]
        principal = PRINCIPAL.get(self.source, "")
        out = []
        for values in cur.fetchall():
            row = dict(zip(names, values, strict=True))
            event = orjson.loads(row["raw"]) if row.get("raw") else {}
            if not rule.python.rule(event):
                continue
            ctx = {c: row[c] for c in CONTEXT.get(self.source, ()) if row.get(c)}
            if hasattr(rule.python, "alert_context"):
                ctx.update(rule.python.alert_context(event))
            group = (
                str(rule.python.dedup(event))
                if hasattr(rule.python, "dedup")
                else str(row.get(principal) or "")
            )
            out.append(Match(rule, [row["event_id"]], row["event_time"], row["event_time"], row.get("account_id"),
                             row.get("region"), row.get(principal), group, ctx))  # fmt: skip
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

    def _fetch_raw(self, hot_parts: list[str]) -> None:
        """``_raw``: whole candidate events of rules that look inside the raw record, fetched by
        event name so that row groups without those events are never decompressed."""
        wanted = " OR ".join(f"({h})" for h in hot_parts) or "FALSE"
        key = FETCH_KEY.get(self.source)
        pick = "TRUE"
        if key:
            keys = [
                r[0] for r in self.con.execute(f"SELECT DISTINCT {key} FROM _cand WHERE {wanted}").fetchall()
            ]
            present = [lit(k) for k in keys if k is not None]
            pick = f"{key} IN ({', '.join(present)})" if present else "FALSE"
            if None in keys:
                pick = f"({pick} OR {key} IS NULL)"
        self.con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _raw AS SELECT * FROM {self.view}
                WHERE {pick} AND event_id IN (SELECT event_id FROM _cand WHERE {wanted})"""
        )
