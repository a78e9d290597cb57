"""Running rules over a scope of events held in DuckDB views (the lake, or test events).

Per source, in a few set-based queries whatever the number of rules:
1. one scan of the hot columns evaluates every rule that needs nothing else and names its events,
   behind one gate on the event name, and keeps each (rule, event) match as a row of ``_hits``;
   the few rules that name no event get a scan each (low-cardinality predicates are resolved to
   the values present and written as ranges over them, which the Parquet scan applies itself);
2. one more query scans for the raw record of the candidates of rules that look inside it
   (their hot-column part holds), tagged with those rules; in the same query each such rule
   extracts its raw fields once per candidate, and its matches go to ``_hits``;
3. one query groups the matches of every alerting rule by rule, account, principal and dedup
   window, so a noisy rule costs one row per group (a rule that names no event and feeds no
   correlation is grouped straight from its scan);
4. correlation rules aggregate their base rules' rows of ``_hits`` with window functions
   (correlate.py).
Only Python rules see events one at a time, and only the candidates of their prefilter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import orjson

from cloudsoc.detect import udf
from cloudsoc.detect.correlate import correlate, grouped_by
from cloudsoc.detect.fields import HOT, PRINCIPAL, hot_column
from cloudsoc.detect.ir import And, Atom, Const, Node, Or
from cloudsoc.detect.rules import Rule
from cloudsoc.detect.sql import (
    Renderer,
    earliest,
    extracted,
    field_names,
    has_keyword,
    hot_part,
    json_path,
    lit,
    needs_raw,
    one_of,
    python_test,
    raw_fields,
    raw_values,
    scalar,
)

# the column that says what happened, per source: lake files are sorted by it, and most rules name
# the values they match, so a test on it gates rules and reaches the Parquet scan
EVENT_KEY = {"cloudtrail": "event_name", "guardduty": "finding_type", "securityhub": "product_name"}
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
        # every query that needs an order says so: unordered, DuckDB writes its tables in parallel
        ordered = con.execute("SELECT current_setting('preserve_insertion_order')").fetchall()[0][0]
        con.execute("SET preserve_insertion_order = false")
        try:
            return self._run(con, window)
        finally:
            con.execute(f"SET preserve_insertion_order = {str(ordered).lower()}")

    def _run(self, con: duckdb.DuckDBPyConnection, window: tuple[datetime, datetime] | None) -> list[Match]:
        plain = [r for r in self.rules if r.kind != "correlation"]
        correlations = [r for r in self.rules if r.correlation]
        inputs = {b.id: b for r in correlations for b in r.correlation.rules}  # type: ignore[union-attr]
        evaluated = plain + [b for b in inputs.values() if all(b is not r for r in plain)]
        matches: list[Match] = []
        for source in sorted({r.source for r in evaluated}):
            scope = _Scope(con, source, window)
            scope.evaluate([r for r in evaluated if r.source == source], correlations)
            matches.extend(scope.alerts([r for r in plain if r.source == source and r.alert], self.window))
            for rule in (r for r in correlations if r.correlation.rules[0].source == source):  # type: ignore[union-attr]
                matches.extend(correlate(scope.con, rule, scope.extracting, scope.matched))
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
        self._named: dict[str, set[str] | None] = {}  # rule id -> the event names it can match
        self.renderer = Renderer(source, self)
        self.extracting = Renderer(source, self, extract=True)
        self.index: dict[str, int] = {}  # rule id -> its number in _hits and in hits of the candidates
        self.view_columns = [r[0] for r in con.execute(f"DESCRIBE {self.view}").fetchall()]
        self.columns: list[str] = []  # the columns of _hits
        self.raw_columns: list[str] = []  # the columns of the raw candidates, besides raw and hits
        self.carried: dict[str, list[str]] = {}  # rule id -> raw fields its correlations read
        self.live: set[str] = set()  # the rules evaluated: those that can match in the scope
        self.direct: dict[int, str] = {}  # rules whose alerts are grouped from the scope: number -> test

    def resolve(self, column: str, atom: Atom) -> list[str]:
        """The values of a low-cardinality column present in the scope that satisfy ``atom``."""
        key = (column, atom)
        if key in self._resolved:
            return self._resolved[key]
        values = self.present(column)
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

    def present(self, column: str) -> list[str]:
        """The distinct values of a column in the scope, sorted (those of every low-cardinality
        column are read together on first use: one scan instead of one per column)."""
        if column not in self._distinct:
            low = [
                c.name
                for c in HOT.get(self.source, {}).values()
                if c.low_cardinality and c.name in self.view_columns
            ]
            wanted = sorted({column, *low} - self._distinct.keys())
            sets = ", ".join(f"({c})" for c in wanted)
            found: dict[str, set[str]] = {c: set() for c in wanted}
            query = f"SELECT {', '.join(wanted)} FROM {self.view} GROUP BY GROUPING SETS ({sets})"
            for row in self.con.execute(query).fetchall():
                for c, v in zip(wanted, row, strict=True):  # a row holds one column's value, NULL elsewhere
                    if v is not None:
                        found[c].add(v)
            self._distinct.update({c: sorted(v) for c, v in found.items()})
        return self._distinct[column]

    # ---- evaluation ------------------------------------------------------------------------
    def evaluate(self, rules: list[Rule], correlations: list[Rule]) -> None:
        """``_hits``: one row per (rule, matching event) with the hot columns, for every rule
        except Python ones."""
        self.index = {r.id: i for i, r in enumerate(rules)}
        wanted = {"event_id", "event_time", "account_id", "region", PRINCIPAL.get(self.source, ""),
                  *CONTEXT.get(self.source, ()),
                  *(col.name for c in correlations for f in grouped_by(c) if (col := hot_column(self.source, f)))}  # fmt: skip
        self.columns = [c for c in self.view_columns if c in wanted]
        # a correlation grouping or counting by raw fields gets them from its inputs' rows of
        # _hits, extracted in the same parse as the inputs' own raw fields
        self.carried = {}
        for c in correlations:
            if fields := sorted(f for f in grouped_by(c) if hot_column(self.source, f) is None):
                for b in c.correlation.rules:  # type: ignore[union-attr]
                    if b.id in self.index:
                        self.carried[b.id] = sorted({*self.carried.get(b.id, []), *fields})
        raw_rules = {
            r.id
            for r in rules
            if r.python is not None
            or r.id in self.carried
            or needs_raw(self.source, r.condition or Const(True))
        }
        rules = [r for r in rules if self._can_match(r)]
        self.live = {r.id for r in rules}
        inputs = {b.id for c in correlations for b in c.correlation.rules}  # type: ignore[union-attr]
        self._hot_pass(
            [r for r in rules if r.id not in raw_rules], {r.id for r in rules if r.id not in inputs}
        )
        raw = [r for r in rules if r.id in raw_rules]
        # only the hot columns the rules and their matches read: copying a text column costs
        read = {
            col.name
            for r in raw
            if r.condition
            for f in field_names(r.condition)
            if (col := hot_column(self.source, f))
        }
        self.raw_columns = [c for c in self.view_columns if c in {*self.columns, *read}]
        if sigma := [r for r in raw if r.python is None]:
            self._add_raw_matches(sigma)

    @property
    def extra(self) -> list[str]:
        """The raw fields correlations read: columns of ``_hits`` after ``columns``."""
        return sorted({f for fields in self.carried.values() for f in fields})

    def _hot_pass(self, rules: list[Rule], alert_only: set[str]) -> None:
        """Rules that name their events are tested only on those events' rows, behind one gate
        that the Parquet scan applies; the few others are tested on every row, one scan each
        (a scan of hot columns costs less than tagging every row with the rules it matches).
        Such a rule that only raises alerts (no correlation reads its matches) is left to the
        alert query, which groups its matches straight from its scan: a rule matching much of
        the scope would otherwise write every match to ``_hits`` only to read them back."""
        cols = ", ".join([*self.columns, *(f"NULL::VARCHAR[] AS {extracted(f)}" for f in self.extra)])
        sql = {r.id: self.renderer.render(r.condition) for r in rules}  # type: ignore[arg-type]
        parts = [f"SELECT 0 AS rule_idx, {cols} FROM {self.view} WHERE FALSE"]
        self.direct = {}
        for group, gate in self._gated(rules):
            if gate == "TRUE":  # rules with the same predicate (a correlation's inputs often) share a scan
                same: dict[str, list[int]] = {}
                for r in group:
                    if r.id in alert_only:
                        self.direct[self.index[r.id]] = sql[r.id]
                        continue
                    same.setdefault(sql[r.id], []).append(self.index[r.id])
                parts += [
                    f"SELECT unnest({idx}), {cols} FROM {self.view} WHERE {where}"
                    for where, idx in same.items()
                ]
            else:
                tags = _tags([(self.index[r.id], sql[r.id]) for r in group])
                parts.append(f"SELECT unnest({tags}), {cols} FROM {self.view} WHERE {gate}")
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE _hits AS {' UNION ALL '.join(parts)}")

    def _can_match(self, rule: Rule) -> bool:
        """Whether events the rule names (if it names them) are present in the scope at all."""
        names = self._names(rule)
        return names is None or not names.isdisjoint(self.present(EVENT_KEY[self.source]))

    def _gated(self, rules: list[Rule]) -> list[tuple[list[Rule], str]]:
        """``rules`` split into those that name their events, with the gate they share, and the
        others (gate TRUE)."""
        named = [r for r in rules if self._names(r) is not None]
        rest = [r for r in rules if r not in named]
        return [(g, gate) for g, gate in ((named, self._gate(named)), (rest, "TRUE")) if g]

    def _names(self, rule: Rule) -> set[str] | None:
        """The values of the sort-key column (the event name) a rule can match, if it names them."""
        if rule.id not in self._named:
            if EVENT_KEY.get(self.source) is None:
                self._named[rule.id] = None
            elif rule.condition is None:  # a Python rule: its prefilter
                self._named[rule.id] = set(rule.event_names) if rule.event_names else None
            else:
                self._named[rule.id] = self._keys(rule.condition)
        return self._named[rule.id]

    def _gate(self, rules: list[Rule]) -> str:
        """A test on the sort-key column that every match of ``rules`` passes (TRUE if one of
        them does not name its events): in a WHERE, the Parquet scan applies it (see ``one_of``)."""
        names = [self._names(r) for r in rules]
        if any(n is None for n in names):
            return "TRUE"
        col = EVENT_KEY[self.source]
        return one_of(col, set().union(*names), self.present(col), max_runs=None)  # type: ignore[arg-type]

    def _keys(self, node: Node) -> set[str] | None:
        """The values of the sort-key column (the event name) that ``node`` can match at all, or
        None when it does not restrict them."""
        if isinstance(node, Atom):
            col = hot_column(self.source, node.field)
            if (
                col is None
                or col.name != EVENT_KEY.get(self.source)
                or node.op in ("null", "exists", "fieldref")
            ):
                return None
            return set(self.resolve(col.name, node)) if col.low_cardinality else None
        if isinstance(node, Const):
            return None if node.value else set()
        if isinstance(node, And):
            known = [k for k in map(self._keys, node.args) if k is not None]
            return set.intersection(*known) if known else None
        if isinstance(node, Or):
            parts = [self._keys(a) for a in node.args]
            return None if any(p is None for p in parts) else set().union(*parts)  # type: ignore[arg-type]
        return None

    def _candidates(self, rules: list[Rule]) -> str:
        """The relation of the candidates of ``rules``: ``raw`` and the hot columns the rules and
        their matches read, with the numbers of the rules whose hot part holds (``hits``), from
        scans that read ``raw`` only for those rows (a row can appear once per group of
        ``_gated``, with that group's rules in ``hits``)."""
        cols = ", ".join([*self.raw_columns, "raw"])
        parts = [f"SELECT {cols}, []::INTEGER[] AS hits FROM {self.view} WHERE FALSE"]
        for group, gate in self._gated(rules):
            hot = [(self.index[r.id], self._hot_sql(r)) for r in group]
            union = " OR ".join(f"({h})" for _, h in hot)
            parts.append(f"SELECT {cols}, {_tags(hot)} AS hits FROM {self.view} WHERE {gate} AND ({union})")
        return " UNION ALL ".join(parts)

    def _extracted(self, rule: Rule, name: str = "c") -> str:
        """A CTE of the rule's candidates in the CTE ``_raw`` with the raw fields it reads as columns,
        extracted in one parse of each record. Materialized, so that the condition cannot inline
        the extraction again for every test of a field."""
        read_fields = raw_fields(self.source, rule.condition) if rule.condition else set()
        parse, read = _reading(sorted({*read_fields, *self.carried.get(rule.id, [])}))
        keep = list(self.raw_columns)
        if rule.python is not None or (rule.condition and has_keyword(rule.condition)):
            keep.append("raw")
        return f"""{name} AS MATERIALIZED (
                       SELECT {", ".join(keep + read)}
                       FROM (SELECT *{parse} FROM _raw WHERE list_contains(hits, {self.index[rule.id]})))"""

    def _add_raw_matches(self, rules: list[Rule]) -> None:
        """Every raw rule's matches into ``_hits``: one query, a branch per rule over its own
        candidates (one statement costs far less than a statement per rule). The candidates
        are read once, into a CTE: a temporary table costs more to fill with the raw text."""
        ctes = ", ".join([f"_raw AS MATERIALIZED ({self._candidates(rules)})",
                          *(self._extracted(r, f"c{k}") for k, r in enumerate(rules))])  # fmt: skip

        def cols(rule: Rule) -> str:
            carried = self.carried.get(rule.id, [])
            extra = (extracted(f) if f in carried else "NULL::VARCHAR[]" for f in self.extra)
            return ", ".join([*self.columns, *extra])

        branches = " UNION ALL ".join(
            f"SELECT {self.index[r.id]}, {cols(r)} FROM c{k} WHERE {self.extracting.render(r.condition)}"  # type: ignore[arg-type]
            for k, r in enumerate(rules)
        )
        self.con.execute(f"INSERT INTO _hits WITH {ctes} {branches}")

    def matched(self, rule: Rule) -> str:
        """The relation of a (non-Python) rule's matches: its ``_hits`` rows, with the raw fields
        its correlations read as columns ``extracted(field)``."""
        return f"(SELECT * FROM _hits WHERE rule_idx = {self.index[rule.id]})"

    # ---- alerts ----------------------------------------------------------------------------
    def alerts(self, rules: list[Rule], window: timedelta) -> list[Match]:
        out: list[Match] = []
        rules = [r for r in rules if r.id in self.live]
        for rule in (r for r in rules if r.python is not None):
            out.extend(self._python_matches(rule))
        by_index = {self.index[r.id]: r for r in rules if r.python is None}
        if not by_index:
            return out
        principal = PRINCIPAL.get(self.source, "NULL")
        context = CONTEXT.get(self.source, ())
        first = earliest(["region", *context], "event_time", "event_id")
        seconds = max(int(window.total_seconds()), 1)
        cols = ", ".join(self.columns)
        matches = [
            f"SELECT rule_idx, {cols} FROM _hits WHERE rule_idx IN ({', '.join(str(i) for i in by_index if i not in self.direct)})"
        ]
        matches += [
            f"SELECT {i}, {cols} FROM {self.view} WHERE {where}"
            for i, where in self.direct.items()
            if i in by_index
        ]
        # through Arrow: the event id lists, most of the answer, become Python lists faster
        table = self.con.sql(
            f"""SELECT rule_idx, account_id, {principal} AS principal, min(event_time)::TIMESTAMP AS first_seen,
                       max(event_time)::TIMESTAMP AS last_seen, {first} AS first,
                       list(event_id ORDER BY event_time, event_id) AS event_ids
                FROM ({" UNION ALL ".join(matches)})
                GROUP BY rule_idx, account_id, {principal}, epoch(event_time)::BIGINT // {seconds}
                ORDER BY rule_idx, first_seen, account_id, principal, event_ids[1]"""
        ).to_arrow_table()
        columns = [table.column(name).to_pylist() for name in ("rule_idx", "account_id", "principal",
                                                                   "first_seen", "last_seen", "first", "event_ids")]  # fmt: skip
        for idx, acct, principal, first_seen, last_seen, at_first, ids in zip(*columns, strict=True):
            ctx = {c: at_first[c] for c in context if at_first[c]}
            # times leave DuckDB as naive UTC: converting through time zone objects costs more
            out.append(Match(by_index[idx], ids, first_seen.replace(tzinfo=UTC), last_seen.replace(tzinfo=UTC),
                             acct, at_first["region"], principal, str(principal or ""), ctx))  # fmt: skip
        return out

    def _python_matches(self, rule: Rule) -> list[Match]:
        """A Python rule (or the Python half of a Sigma rule) sees its candidates one at a time."""
        assert rule.python is not None
        raw = f"_raw AS MATERIALIZED ({self._candidates([rule])})"
        if rule.condition is not None:
            sql = f"WITH {raw}, {self._extracted(rule)} SELECT * FROM c WHERE {self.extracting.render(rule.condition)} ORDER BY event_time, event_id"
        else:
            sql = f"WITH {raw} SELECT * FROM _raw ORDER BY event_time, event_id"
        cur = self.con.execute(sql)
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

    def _hot_sql(self, rule: Rule) -> str:
        if rule.condition is None:  # a Python rule: its event-name prefilter
            return self._gate([rule])
        part = hot_part(self.source, rule.condition)
        return "TRUE" if isinstance(part, Const) and part.value else self.renderer.render(part)


def _reading(fields: list[str]) -> tuple[str, list[str]]:
    """SQL reading raw ``fields`` in one parse of each record: the parse (a column ``_j`` to add to
    a projection of ``raw``) and, for the projection over it, each field's values as the column
    ``extracted(field)``. A field whose key DuckDB cannot address is read by ``cs_values`` alone."""
    paths = {f: p for f in fields if (p := json_path(f))}
    parse = f", json_extract(raw, [{', '.join(map(lit, paths.values()))}]::VARCHAR[]) AS _j" if paths else ""
    at = {f: k + 1 for k, f in enumerate(paths)}
    read = [f"{raw_values(f, f'_j[{at[f]}]' if f in at else None)} AS {extracted(f)}" for f in fields]
    return parse, read


def _tags(parts: list[tuple[int, str]]) -> str:
    """The numbers of the rules whose predicate holds on a row, as a list."""
    if not parts:
        return "[]::INTEGER[]"
    return f"list_filter([{', '.join(f'CASE WHEN {h} THEN {i} END' for i, h in parts)}], lambda i: i IS NOT NULL)"
