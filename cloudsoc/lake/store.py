"""Parquet partitions with exactly-once writes, and DuckDB views over them.

Layout: ``<lake>/<source>/account=<id>/date=<YYYY-MM-DD>/part-<uuid>.parquet``. A file is
written under ``_staging`` and renamed into its partition, so a reader never sees half a file.
An event's identity fixes its partition (account and time are part of the record), so
deduplication only has to look at the partitions a batch touches; a crash at any point leaves
either nothing or whole files behind, and a rerun skips every event already present.
Within a file rows are sorted by the columns rules filter on most, with small row groups, so
DuckDB skips the raw column of row groups that no rule selects.
"""

from __future__ import annotations

import fcntl
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cloudsoc.core.errors import ConfigError
from cloudsoc.normalize.formats import Batch
from cloudsoc.normalize.schema import SCHEMAS, SOURCES, Parsed

if TYPE_CHECKING:  # imported where used: ingest workers stage files without DuckDB
    import duckdb

SORT_KEYS: dict[str, list[tuple[str, str]]] = {
    source: [(c, "ascending") for c in cols]
    for source, cols in {
        "cloudtrail": ["event_source", "event_name", "event_time"],
        "guardduty": ["finding_type", "event_time"],
        "securityhub": ["product_name", "event_time"],
        "vpcflow": ["action", "event_time"],
    }.items()
}
# columns with (nearly) one value per row gain nothing from dictionary encoding
UNIQUE_COLUMNS = {"event_id", "raw", "finding_id", "event_time", "start_time", "end_time"}
ROW_GROUP = 16_384
# event ids of recent partitions kept in memory for deduplication (~150 bytes each); the ids
# of other partitions are read back from their files when a batch touches them again
SEEN_IDS = 500_000
GLOB = "account=*/date=*/*.parquet"
# the lake's layout; 2 added CloudTrail's vpc_endpoint_id and ec2_role_delivery hot columns
FORMAT = 2
UNKNOWN = "unknown"


@dataclass
class WriteResult:
    written: int
    duplicates: int
    files: list[str]
    by_source: dict[str, int] = field(default_factory=dict)


@dataclass
class Staged:
    """A sorted partition file waiting in staging, with the event ids it holds."""

    source: str
    acct: str
    day: str
    path: Path
    ids: pa.ChunkedArray


class Lake:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.staging = root / "_staging"
        self._seen: dict[tuple[str, str, str], set[str]] = {}  # least recently used first
        self._held = 0  # ids in self._seen

    # ---- reading -------------------------------------------------------------------------
    def files(self, source: str, since: datetime | None = None, until: datetime | None = None) -> list[str]:
        """Committed files of one source, pruned to the dates that can hold [since, until]."""
        lo = since.date().isoformat() if since else ""
        hi = until.date().isoformat() if until else "9999"
        out = []
        for path in sorted((self.root / source).glob(GLOB)):
            day = path.parent.name[5:]
            if lo <= day <= hi:
                out.append(str(path))
        return out

    def connect(self, files: dict[str, list[str]] | None = None) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB with one view per source (all files, or the given ones)."""
        if self.root.exists() and not self._current():
            try:
                with self.writer():  # upgrades the files of an older cloudsoc once
                    pass
            except OSError as exc:  # a read-only copy, a snapshot
                raise ConfigError(
                    f"the lake {self.root} was written by an older cloudsoc: open it once with write access "
                    f"to upgrade it ({exc.strerror or exc})"
                ) from exc
        con = duck()
        for source in SOURCES:
            chosen = files.get(source, []) if files is not None else self.files(source)
            define_view(con, source, chosen)
        return con

    # ---- writing -------------------------------------------------------------------------
    @contextmanager
    def writer(self) -> Iterator[None]:
        """Serializes writers across processes; clears what a killed writer left in staging."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".write.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._seen.clear()  # another writer may have added events since our last session
            self._held = 0
            try:
                if self.staging.exists():
                    for leftover in self.staging.iterdir():
                        leftover.unlink()
                self.staging.mkdir(exist_ok=True)
                self._upgrade()
                yield
                self._refresh_catalog()
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def stage(self, source: str, batch: Batch) -> tuple[list[Staged], dict[int, Parsed]]:
        """Sorted partition files of a batch under staging (safe to run in worker processes),
        and what the batch made of each of its objects."""
        table, parsed = batch.finish(lambda rows: _order(source, rows))
        if table.num_rows == 0:
            return [], parsed
        accts, days = _partition_keys(table)
        staged = []
        for start, stop in _runs(accts, days):
            part = table.slice(start, stop - start)
            acct, day = accts[start].as_py(), _iso(days[start].as_py())
            path = self.staging / f"part-{uuid.uuid4().hex}.parquet"
            _write_parquet(part, path)
            staged.append(Staged(source, acct, day, path, part["event_id"]))
        return staged, parsed

    def commit(self, staged: list[Staged]) -> WriteResult:
        """Move staged files into their partitions, without the events the lake already holds.

        The common case (nothing seen before) is a rename; a file with some known events is
        rewritten without them. Call inside ``writer()``: this process decides alone what is new.
        """
        result = WriteResult(0, 0, [])
        for f in staged:
            ids = f.ids.to_pylist()
            keep = self._fresh(f.source, ids, f.acct, f.day)
            result.duplicates += len(ids) - len(keep)
            if not keep:
                f.path.unlink()
                continue
            if len(keep) < len(ids):
                table = pq.read_table(f.path).take(pa.array(keep, pa.int64()))
                _write_parquet(table, f.path)
            final = self._partition_dir(f.source, f.acct, f.day) / f.path.name
            final.parent.mkdir(parents=True, exist_ok=True)
            f.path.rename(final)
            result.written += len(keep)
            result.by_source[f.source] = result.by_source.get(f.source, 0) + len(keep)
            result.files.append(str(final))
        return result

    def _fresh(self, source: str, ids: list[str], acct: str, day: str) -> list[int]:
        """Positions of the first copy of each event the partition does not hold yet.

        A partition's ids are read once and then kept in memory while it is among the recently
        used ones: within a writer session this process is the only writer.
        """
        seen = self._partition_ids((source, acct, day))
        before = len(seen)
        unique = set(ids)
        if len(unique) == len(ids) and seen.isdisjoint(unique):
            seen |= unique  # the common case, in C: all new, no copies within the file
            keep = list(range(len(ids)))
        else:
            keep = []
            for i, event_id in enumerate(ids):
                if event_id not in seen:
                    seen.add(event_id)
                    keep.append(i)
        self._held += len(seen) - before
        self._forget_old()
        return keep

    def _partition_ids(self, key: tuple[str, str, str]) -> set[str]:
        seen = self._seen.pop(key, None)
        if seen is None:
            seen = self._stored_ids(*key)
            self._held += len(seen)
        self._seen[key] = seen  # now the most recently used
        return seen

    def _forget_old(self) -> None:
        """Bounded memory: drop the least recently used partitions' ids (their files hold them)."""
        while self._held > SEEN_IDS and len(self._seen) > 1:
            self._held -= len(self._seen.pop(next(iter(self._seen))))

    def _stored_ids(self, source: str, acct: str, day: str) -> set[str]:
        files = self._partition_files(source, acct, day)
        if not files:
            return set()
        return set(pq.read_table(files, columns=["event_id"])["event_id"].to_pylist())

    def _current(self) -> bool:
        marker = self.root / ".format"
        return marker.exists() and marker.read_text().strip() == str(FORMAT)

    def _upgrade(self) -> None:
        """Files written by an older cloudsoc get the hot columns added since, read from their raw
        records by today's parser. Each file is replaced whole by rename, so a crash leaves every
        file either old or upgraded, and the next writer goes on; the marker is written last."""
        if self._current():
            return
        for source in SOURCES:
            schema = SCHEMAS[source]
            for path in map(Path, self.files(source)):
                if pq.read_schema(path).names == schema.names:
                    continue
                table = pq.read_table(path)
                fresh = reparse(source, table)
                table = pa.table(
                    [table[n] if n in table.column_names else fresh[n] for n in schema.names], schema=schema
                )
                tmp = self.staging / path.name
                _write_parquet(table, tmp)
                tmp.replace(path)
        (self.root / ".format").write_text(f"{FORMAT}\n")

    def _refresh_catalog(self) -> None:
        """``catalog.duckdb``: views over the partition globs, for DuckDB users outside cloudsoc.

        Globs pick up new files by themselves, so the file is only rebuilt when a source appears;
        it is replaced by rename, never rewritten in place under a reader.
        """
        present = [s for s in SOURCES if next((self.root / s).glob(GLOB), None) is not None]
        marker = self.root / ".catalog-sources"
        if marker.exists() and marker.read_text() == ",".join(present):
            return
        import duckdb

        tmp = self.root / f".catalog-{uuid.uuid4().hex}.duckdb"
        con = duckdb.connect(str(tmp))
        for s in present:
            con.execute(
                f"CREATE VIEW {s} AS SELECT * FROM read_parquet({sql_str(str(self.root / s / GLOB))})"
            )
        con.close()
        tmp.rename(self.root / "catalog.duckdb")
        marker.write_text(",".join(present))

    def _partition_dir(self, source: str, acct: str, day: str) -> Path:
        return self.root / source / f"account={acct}" / f"date={day}"

    def _partition_files(self, source: str, acct: str, day: str) -> list[str]:
        return [str(p) for p in sorted(self._partition_dir(source, acct, day).glob("*.parquet"))]


def reparse(source: str, table: pa.Table) -> pa.Table:
    """The columns today's parser makes of a stored file's raw records (in the same order)."""
    if source != "cloudtrail":  # the only source whose columns have grown
        raise ConfigError(f"the {source} files of this lake come from an unknown cloudsoc version")
    from cloudsoc.normalize.formats import new_batch

    batch = new_batch(source)
    batch.add(b"[" + b",".join(r.encode() for r in table["raw"].to_pylist()) + b"]", "cloudtrail-array")
    fresh, _ = batch.finish()
    if fresh["event_id"] != table["event_id"]:
        raise ConfigError(f"the raw records of a {source} file no longer parse as they did")
    return fresh


def duck() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that reads and writes times in UTC."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET parquet_metadata_cache = true")
    return con


def define_view(con: duckdb.DuckDBPyConnection, source: str, files: list[str]) -> None:
    """``source`` as a view over the given Parquet files (typed and empty when there are none)."""
    if files:
        listing = ", ".join(sql_str(f) for f in files)
        con.execute(f"CREATE OR REPLACE VIEW {source} AS SELECT * FROM read_parquet([{listing}])")
    else:
        con.register(f"_empty_{source}", SCHEMAS[source].empty_table())
        con.execute(f"CREATE OR REPLACE VIEW {source} AS SELECT * FROM _empty_{source}")


def sql_str(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _partition_keys(table: pa.Table) -> tuple[pa.Array, pa.Array]:
    """The account and the day (a date32: formatting every row's day as text costs more than
    sorting) of every row: the partition it is stored in."""
    accts = pc.fill_null(table["account_id"], UNKNOWN)
    return accts, pc.cast(table["event_time"], pa.date32())


def _iso(day: date | None) -> str:
    """A partition's day as its folder names it (every parser requires an event time, so a row
    without a day is not expected; it would be filed like a row without an account)."""
    return day.isoformat() if day else UNKNOWN


def _order(source: str, table: pa.Table) -> pa.Array:
    """The order of rows in staged files: by partition, then by the source's sort keys.

    Only the key columns are sorted (a table of hundreds of small chunks, or one with the raw
    column, is much slower to sort whole).
    """
    accts, days = _partition_keys(table)
    keys = pa.table({"_acct": accts, "_day": days, **{c: table[c] for c, _ in SORT_KEYS[source]}})
    return pc.sort_indices(keys, [("_acct", "ascending"), ("_day", "ascending"), *SORT_KEYS[source]])


def _runs(accts: pa.Array, days: pa.Array) -> list[tuple[int, int]]:
    """[start, stop) of each run of equal (account, day) in sorted rows (compared in Arrow: a
    Python loop over every row cost more than writing the row's hot columns)."""
    day_ids = pc.fill_null(days.cast(pa.int32()), -(2**31))  # rows without a day form runs too
    changed = pc.or_(pc.not_equal(accts[1:], accts[:-1]), pc.not_equal(day_ids[1:], day_ids[:-1]))
    starts = [0, *(np.flatnonzero(changed.to_numpy(zero_copy_only=False)) + 1).tolist()]
    return list(zip(starts, [*starts[1:], len(accts)], strict=True))


def _write_parquet(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, compression="zstd", compression_level=1, row_group_size=ROW_GROUP,
                   use_dictionary=[c for c in table.column_names if c not in UNIQUE_COLUMNS])  # fmt: skip
