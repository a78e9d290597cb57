"""``cloudsoc ingest``: read input objects, parse them in worker processes, store them once.

Order of commitment, which is what makes a SIGKILL at any moment safe: events are written to the
lake first (whole files, deduplicated), then the input objects are checkpointed. A rerun skips
checkpointed objects and the lake drops every event it already holds.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path

import orjson
import pyarrow as pa
from sqlalchemy import Engine, delete, insert, select

from cloudsoc.collect.inputs import InputObject, S3Factory, list_inputs, local_name, read_object
from cloudsoc.core import db
from cloudsoc.core.config import Home
from cloudsoc.core.errors import InputError
from cloudsoc.core.timeutil import utcnow
from cloudsoc.lake.store import Lake
from cloudsoc.normalize.formats import parse
from cloudsoc.normalize.schema import RecordIssue

Progress = Callable[[int, int, int], None]  # objects done, objects total, events stored


@dataclass
class Quarantined:
    uri: str
    reason: str
    record_index: int | None = None
    byte_offset: int | None = None
    stored_path: str = ""


@dataclass
class IngestSummary:
    files: int = 0
    files_skipped: int = 0  # already ingested, unchanged
    files_ignored: int = 0  # recognized and not events (CloudTrail digests)
    events_ingested: int = 0
    duplicates_skipped: int = 0
    quarantined: list[Quarantined] = field(default_factory=list)
    by_source: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def partial(self) -> bool:
        return bool(self.quarantined)

    def to_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["partial"] = self.partial
        return out


@dataclass
class _Loaded:
    obj: InputObject
    kind: str
    table: pa.Table | None = None
    quarantined: list[Quarantined] = field(default_factory=list)


def ingest(
    home: Home,
    uris: list[str],
    *,
    s3: S3Factory | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> IngestSummary:
    started = time.monotonic()
    engine = db.connect(home.database_url)
    lake = Lake(home.lake)
    summary = IngestSummary()
    objects = [o for o in list_inputs(uris, s3) if not _own_file(home, o.uri)]
    done = _checkpoints(engine)
    todo = [o for o in objects if done.get(o.uri) != o.fingerprint]
    summary.files = len(objects)
    summary.files_skipped = len(objects) - len(todo)
    batch = _Batch(home.settings.ingest.batch_events)
    with lake.writer():
        for n, loaded in enumerate(_load_all(todo, home.quarantine, s3, workers), 1):
            batch.add(loaded)
            if batch.full():
                _flush(batch, lake, engine, summary)
            if progress:
                progress(n, len(todo), summary.events_ingested + batch.rows)
        _flush(batch, lake, engine, summary)
    summary.seconds = round(time.monotonic() - started, 3)
    return summary


def _own_file(home: Home, uri: str) -> bool:
    """cloudsoc's own data (lake, quarantine, state) is never input, even with the home inside an input."""
    own = (str(home.lake) + os.sep, str(home.quarantine) + os.sep, str(home.root / "state.db"))
    return uri.startswith(own)


class _Batch:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.loaded: list[_Loaded] = []
        self.rows = 0

    def add(self, loaded: _Loaded) -> None:
        self.loaded.append(loaded)
        self.rows += loaded.table.num_rows if loaded.table is not None else 0

    def full(self) -> bool:
        return self.rows >= self.limit

    def tables(self) -> dict[str, list[pa.Table]]:
        out: dict[str, list[pa.Table]] = {}
        for item in self.loaded:
            if item.table is not None and item.table.num_rows:
                out.setdefault(_source_of(item.kind), []).append(item.table)
        return out


def _source_of(kind: str) -> str:
    return kind.split("-", 1)[0]


def _flush(batch: _Batch, lake: Lake, engine: Engine, summary: IngestSummary) -> None:
    for source, tables in batch.tables().items():
        result = lake.write(source, pa.concat_tables(tables))
        summary.events_ingested += result.written
        summary.duplicates_skipped += result.duplicates
        summary.by_source[source] = summary.by_source.get(source, 0) + result.written
    now = utcnow()
    with engine.begin() as conn:
        for item in batch.loaded:
            summary.quarantined.extend(item.quarantined)
            summary.files_ignored += item.kind == "ignored"
            conn.execute(delete(db.ingest_files).where(db.ingest_files.c.uri == item.obj.uri))
            conn.execute(delete(db.quarantine).where(db.quarantine.c.uri == item.obj.uri))
            conn.execute(insert(db.ingest_files).values(**_checkpoint_row(item, now)))
            for q in item.quarantined:
                conn.execute(insert(db.quarantine).values(at=now, **asdict(q)))
    batch.loaded.clear()
    batch.rows = 0


def _checkpoint_row(item: _Loaded, now: object) -> dict[str, object]:
    whole = any(q.record_index is None for q in item.quarantined)
    status = "quarantined" if whole else "partial" if item.quarantined else "done"
    if item.kind == "ignored":
        status = "skipped"
    events = item.table.num_rows if item.table is not None else 0
    return {"uri": item.obj.uri, "fingerprint": item.obj.fingerprint, "kind": item.kind,
            "status": status, "events": events, "done_at": now}  # fmt: skip


def _checkpoints(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(select(db.ingest_files.c.uri, db.ingest_files.c.fingerprint))
        return {uri: fp for uri, fp in rows}


def _load_all(
    objects: list[InputObject], qdir: Path, s3: S3Factory | None, workers: int | None
) -> Iterator[_Loaded]:
    n = workers if workers is not None else (os.cpu_count() or 1)
    if n <= 1 or len(objects) < 8:
        yield from (_load(o, qdir, s3) for o in objects)
        return
    ctx = get_context("forkserver")
    with ProcessPoolExecutor(max_workers=n, mp_context=ctx) as pool:
        yield from _bounded_map(pool, objects, qdir, s3, window=4 * n)


def _bounded_map(
    pool: ProcessPoolExecutor, objects: Iterable[InputObject], qdir: Path, s3: S3Factory | None, window: int
) -> Iterator[_Loaded]:
    """Results in input order with at most ``window`` objects in flight (bounded memory)."""
    pending = []
    for obj in objects:
        pending.append(pool.submit(_load, obj, qdir, s3))
        if len(pending) >= window:
            yield pending.pop(0).result()
    for fut in pending:
        yield fut.result()


def _load(obj: InputObject, qdir: Path, s3: S3Factory | None) -> _Loaded:
    """Read and parse one object; every problem becomes a quarantine entry, never an exception."""
    data = b""
    try:
        data = read_object(obj, s3)
        parsed = parse(local_name(obj.uri), data)
    except InputError as exc:
        stored = _keep_file(qdir, obj, data, exc.reason)
        return _Loaded(
            obj, "quarantined", None, [Quarantined(obj.uri, exc.reason, exc.record, exc.offset, stored)]
        )
    except OSError as exc:
        return _Loaded(obj, "quarantined", None, [Quarantined(obj.uri, f"unreadable: {exc}")])
    if isinstance(parsed, str):
        return _Loaded(obj, "ignored")
    stored = _keep_records(qdir, obj, parsed.issues) if parsed.issues else ""
    issues = [Quarantined(obj.uri, i.reason, i.index, None, stored) for i in parsed.issues]
    return _Loaded(obj, parsed.source, parsed.table, issues)


def _slot(qdir: Path, obj: InputObject, suffix: str) -> Path:
    digest = hashlib.sha256(obj.uri.encode()).hexdigest()[:16]
    path = qdir / f"{digest}-{local_name(obj.uri)}{suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _keep_file(qdir: Path, obj: InputObject, data: bytes, reason: str) -> str:
    """A copy of the bad object (as read, decompressed when possible) and the reason beside it."""
    path = _slot(qdir, obj, "")
    if data:
        path.write_bytes(data)
    elif not obj.uri.startswith("s3://") and os.path.exists(obj.uri):
        path.write_bytes(Path(obj.uri).read_bytes())
    _slot(qdir, obj, ".reason.json").write_bytes(orjson.dumps({"uri": obj.uri, "reason": reason}))
    return str(path)


def _keep_records(qdir: Path, obj: InputObject, issues: list[RecordIssue]) -> str:
    path = _slot(qdir, obj, ".records.jsonl")
    lines = (
        orjson.dumps({"uri": obj.uri, "index": i.index, "reason": i.reason, "raw": i.raw}) for i in issues
    )
    path.write_bytes(b"\n".join(lines) + b"\n")
    return str(path)
