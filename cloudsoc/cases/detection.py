"""Detection runs that turn lake events into alerts: incremental (``detect``) and ``hunt``.

An incremental run evaluates the lake files it has not seen, then records the alerts and marks
the files done in one database transaction: a crash repeats the run, never half of it, and the
alert store ignores events it already holds.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine as SqlEngine
from sqlalchemy import insert, select

from cloudsoc.cases import suppress
from cloudsoc.cases.alerts import RecordStats, record
from cloudsoc.core import db
from cloudsoc.core.config import Home
from cloudsoc.core.timeutil import utcnow
from cloudsoc.detect.engine import Engine, Match
from cloudsoc.detect.findings import finding_matches
from cloudsoc.detect.rules import Rule, RuleSet
from cloudsoc.lake.store import Lake
from cloudsoc.normalize.schema import SOURCES


@dataclass
class DetectSummary:
    files: int = 0
    events: int = 0
    matches: int = 0
    alerts: RecordStats = field(default_factory=RecordStats)
    seconds: float = 0.0
    incidents: list[int] = field(default_factory=list)  # created or grown by the alerts (set by the caller)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def detect_new(home: Home, rules: RuleSet, sql: SqlEngine | None = None) -> DetectSummary:
    started = time.monotonic()
    sql = sql or db.connect(home.database_url)
    lake = Lake(home.lake)
    with sql.connect() as conn:
        done = {r[0] for r in conn.execute(select(db.detect_files.c.path))}
    new = {s: [f for f in lake.files(s) if f not in done] for s in SOURCES}
    summary = DetectSummary(files=sum(len(v) for v in new.values()))
    if not summary.files:
        return summary
    con = lake.connect(new)
    summary.events = sum(_count(con, s) for s in SOURCES if new[s])
    plain = [r for r in rules.rules if r.kind != "correlation"]
    matches = Engine(plain, _window(home)).run(con) + finding_matches(con)
    span = _time_span(con)
    con.close()
    correlations = [r for r in rules.rules if r.kind == "correlation"]
    if correlations and span:
        matches += _correlate(lake, correlations, span, _window(home))
    summary.matches = len(matches)
    with sql.begin() as conn:
        summary.alerts = record(conn, matches, _suppressions(home), _window(home))
        now = utcnow()
        rows = [{"path": f, "at": now} for files in new.values() for f in files]
        conn.execute(insert(db.detect_files), rows)
    summary.seconds = round(time.monotonic() - started, 3)
    return summary


def _correlate(
    lake: Lake, rules: list[Rule], span: tuple[datetime, datetime], dedup: timedelta
) -> list[Match]:
    """Correlations look back one timespan before the new events, across earlier files."""
    back = max(r.correlation.seconds for r in rules if r.correlation)
    window = (span[0] - timedelta(seconds=back), span[1])
    con = lake.connect({s: lake.files(s, *window) for s in SOURCES})
    try:
        return Engine(rules, dedup).run(con, window)
    finally:
        con.close()


def hunt(home: Home, rules: list[Rule], since: datetime, until: datetime) -> list[Match]:
    lake = Lake(home.lake)
    con = lake.connect({s: lake.files(s, since, until) for s in SOURCES})
    try:
        return Engine(rules, _window(home)).run(con, (since, until))
    finally:
        con.close()


def store_matches(home: Home, matches: list[Match]) -> RecordStats:
    with db.connect(home.database_url).begin() as conn:
        return record(conn, matches, _suppressions(home), _window(home))


def _count(con: Any, source: str) -> int:
    return int(con.execute(f"SELECT count(*) FROM {source}").fetchall()[0][0])


def _time_span(con: Any) -> tuple[datetime, datetime] | None:
    """The event-time span of the new events of every source (correlations may use any of them)."""
    times = " UNION ALL ".join(f"SELECT event_time FROM {s}" for s in SOURCES)
    row = con.execute(f"SELECT min(event_time), max(event_time) FROM ({times})").fetchall()[0]
    return None if row is None or row[0] is None else (row[0], row[1])


def _suppressions(home: Home) -> suppress.Suppressions:
    return suppress.load(home.suppression_paths())


def _window(home: Home) -> timedelta:
    return timedelta(minutes=home.settings.detect.dedup_minutes)


def group_incidents(home: Home, sql: SqlEngine | None = None) -> list[int]:
    """Group the alerts that have no incident yet; the incidents created or grown."""
    from cloudsoc.cases.incidents import group_alerts
    from cloudsoc.cases.lake_events import LakeEvents

    sql = sql or db.connect(home.database_url)
    window = timedelta(minutes=home.settings.incidents.group_minutes)
    return group_alerts(sql, LakeEvents(home.lake, sql), window)
