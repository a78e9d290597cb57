"""``cloudsoc rules test``: run each rule's embedded events through the real engine."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import duckdb
import orjson

from cloudsoc.detect.engine import Engine
from cloudsoc.detect.rules import Rule, RuleSet
from cloudsoc.lake.store import define_view, duck
from cloudsoc.normalize.formats import PARSERS
from cloudsoc.normalize.schema import SOURCES


@dataclass
class RuleTestResult:
    rule_id: str
    path: str
    name: str
    passed: bool
    detail: str = ""


def events_connection(source: str, events: list[dict[str, Any]]) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection whose ``source`` view holds exactly these events."""
    con = duck()
    if source == "cloudtrail":
        kind, data = (
            "cloudtrail-jsonl",
            b"\n".join(orjson.dumps(_complete(e, i)) for i, e in enumerate(events)),
        )
    else:
        kind, data = source, orjson.dumps(events)
    parsed = PARSERS.get(kind)(data, kind)
    for other in SOURCES:
        define_view(con, other, [])
    con.register("_test_events", parsed.table)
    con.execute(f"CREATE OR REPLACE VIEW {source} AS SELECT * FROM _test_events")
    return con


def _complete(event: dict[str, Any], i: int) -> dict[str, Any]:
    out = dict(event)
    out.setdefault("eventTime", "2026-11-20T12:00:00Z")
    out.setdefault("eventID", hashlib.sha256(orjson.dumps(event) + str(i).encode()).hexdigest()[:32])
    return out


def run_rule_tests(rule: Rule, rules: RuleSet) -> list[RuleTestResult]:
    results = []
    if rule.alert and not ({t.match for t in rule.tests} >= {True, False}):
        results.append(RuleTestResult(rule.id, rule.path, "(coverage)", False,
                                  "needs at least one test that must match and one that must not"))  # fmt: skip
    members = [rule, *(rule.correlation.rules if rule.correlation else [])]
    source = members[-1].source
    for test in rule.tests:
        con = events_connection(source, test.events)
        fired = [m for m in Engine(members).run(con) if m.rule.id == rule.id]
        con.close()
        ok = bool(fired) == test.match
        detail = "" if ok else ("did not fire" if test.match else f"fired on {fired[0].event_ids[:3]}")
        results.append(RuleTestResult(rule.id, rule.path, test.name, ok, detail))
    return results


def run_tests(rules: RuleSet) -> list[RuleTestResult]:
    return [res for rule in rules.rules for res in run_rule_tests(rule, rules)]
