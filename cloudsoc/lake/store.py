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
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from cloudsoc.normalize.schema import SCHEMAS, SOURCES

SORT_KEYS = {
    "cloudtrail": "event_source, event_name, event_time",
    "guardduty": "finding_type, event_time",
    "securityhub": "product_name, event_time",
    "vpcflow": "action, event_time",
}
ROW_GROUP = 16_384
GLOB = "account=*/date=*/*.parquet"
UNKNOWN = "unknown"


@dataclass
class WriteResult:
    written: int
    duplicates: int
    files: list[str]


class Lake:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.staging = root / "_staging"

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
            try:
                if self.staging.exists():
                    for leftover in self.staging.iterdir():
                        leftover.unlink()
                self.staging.mkdir(exist_ok=True)
                yield
                self._refresh_catalog()
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def write(self, source: str, table: pa.Table) -> WriteResult:
        """Store the events not stored yet; call inside ``writer()``."""
        if table.num_rows == 0:
            return WriteResult(0, 0, [])
        con = duck()
        con.register("incoming", table)
        con.execute(
            f"""CREATE TEMP TABLE batch AS
                SELECT *, coalesce(account_id, '{UNKNOWN}') AS _acct, strftime(event_time, '%Y-%m-%d') AS _day
                FROM incoming QUALIFY row_number() OVER (PARTITION BY event_id) = 1"""
        )
        parts = con.execute("SELECT DISTINCT _acct, _day FROM batch").fetchall()
        existing = [f for acct, day in parts for f in self._partition_files(source, acct, day)]
        if existing:
            con.execute("CREATE TEMP TABLE seen AS SELECT event_id FROM read_parquet(?)", [existing])
            con.execute("DELETE FROM batch WHERE event_id IN (SELECT event_id FROM seen)")
        written = con.execute("SELECT count(*) FROM batch").fetchall()[0][0]
        files = [self._write_partition(con, source, acct, day) for acct, day in parts]
        con.close()
        return WriteResult(written, table.num_rows - written, [f for f in files if f])

    def _refresh_catalog(self) -> None:
        """``catalog.duckdb``: views over the partition globs, for DuckDB users outside cloudsoc.

        Globs pick up new files by themselves, so the file is only rebuilt when a source appears;
        it is replaced by rename, never rewritten in place under a reader.
        """
        present = [s for s in SOURCES if next((self.root / s).glob(GLOB), None) is not None]
        marker = self.root / ".catalog-sources"
        if marker.exists() and marker.read_text() == ",".join(present):
            return
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

    def _write_partition(self, con: duckdb.DuckDBPyConnection, source: str, acct: str, day: str) -> str:
        name = f"part-{uuid.uuid4().hex}.parquet"
        tmp = self.staging / name
        cols = ", ".join(SCHEMAS[source].names)
        n = con.execute(
            f"""COPY (SELECT {cols} FROM batch WHERE _acct = ? AND _day = ? ORDER BY {SORT_KEYS[source]})
                TO {sql_str(str(tmp))} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP})""",
            [acct, day],
        ).fetchall()[0]
        if not n or n[0] == 0:
            tmp.unlink(missing_ok=True)
            return ""
        final = self._partition_dir(source, acct, day) / name
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp.rename(final)
        return str(final)


def duck() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that reads and writes times in UTC."""
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
