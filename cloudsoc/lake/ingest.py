"""``cloudsoc ingest``: read input objects, parse them in worker processes, store them once.

Order of commitment, which is what makes a SIGKILL at any moment safe: events are written to the
lake first (whole files, deduplicated), then the input objects are checkpointed. A rerun skips
checkpointed objects and the lake drops every event it already holds.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, as_completed, wait
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path

from sqlalchemy import Engine, delete, insert, select

from cloudsoc.collect.inputs import InputObject, S3Factory, list_inputs
from cloudsoc.core import db
from cloudsoc.core.config import Home
from cloudsoc.core.timeutil import utcnow
from cloudsoc.lake.chunks import Chunk, Loaded, Quarantined, load_chunk, start_worker
from cloudsoc.lake.store import Lake
from cloudsoc.lake.workers import start_forkserver, worker_count

Progress = Callable[[int, int, int], None]  # objects done, objects total, events stored


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


def ingest(
    home: Home,
    uris: list[str],
    *,
    s3: S3Factory | None = None,
    workers: int = 0,
    progress: Progress | None = None,
) -> IngestSummary:
    started = time.monotonic()
    workers = worker_count(home, workers)
    if workers > 1:
        start_forkserver()
    engine = db.connect(home.database_url)
    lake = Lake(home.lake)
    summary = IngestSummary()
    own = _own_files(home)
    objects = [o for o in list_inputs(uris, s3) if not o.uri.startswith(own)]
    done = _checkpoints(engine)
    todo = [o for o in objects if done.get(o.uri) != o.fingerprint]
    summary.files = len(objects)
    summary.files_skipped = len(objects) - len(todo)
    chunks = _chunks(todo, home.settings.ingest.chunk_kb * 1024)
    with lake.writer():
        finished = 0
        for chunk in _load_all(chunks, lake, home.quarantine, s3, workers):
            _commit(chunk, lake, engine, summary)
            finished += len(chunk.loaded)
            if progress:
                progress(finished, len(todo), summary.events_ingested)
    summary.seconds = round(time.monotonic() - started, 3)
    return summary


def _own_files(home: Home) -> tuple[str, ...]:
    """cloudsoc's own data (lake, quarantine, state) is never input, even with the home inside an input."""
    return (str(home.lake) + os.sep, str(home.quarantine) + os.sep, str(home.root / "state.db"))


def _chunks(objects: list[InputObject], limit: int) -> list[list[InputObject]]:
    """Consecutive objects (CloudTrail's layout keeps an account's files together) up to ``limit`` bytes."""
    chunks: list[list[InputObject]] = []
    size = limit
    for obj in objects:
        if size >= limit:
            chunks.append([])
            size = 0
        chunks[-1].append(obj)
        size += obj.size
    return chunks


def _commit(chunk: Chunk, lake: Lake, engine: Engine, summary: IngestSummary) -> None:
    """Move a chunk's staged files into the lake (dropping events it holds), then checkpoint its inputs."""
    result = lake.commit(chunk.staged)
    summary.events_ingested += result.written
    summary.duplicates_skipped += result.duplicates
    for source, n in result.by_source.items():
        summary.by_source[source] = summary.by_source.get(source, 0) + n
    now = utcnow()
    uris = [item.obj.uri for item in chunk.loaded]
    rows = [_checkpoint_row(item, now) for item in chunk.loaded]
    quarantined = [q for item in chunk.loaded for q in item.quarantined]
    summary.quarantined.extend(quarantined)
    summary.files_ignored += sum(item.kind == "ignored" for item in chunk.loaded)
    with engine.begin() as conn:
        for i in range(0, len(uris), 500):
            conn.execute(delete(db.ingest_files).where(db.ingest_files.c.uri.in_(uris[i : i + 500])))
            conn.execute(delete(db.quarantine).where(db.quarantine.c.uri.in_(uris[i : i + 500])))
        if rows:
            conn.execute(insert(db.ingest_files), rows)
        if quarantined:
            conn.execute(insert(db.quarantine), [{"at": now, **asdict(q)} for q in quarantined])


def _checkpoint_row(item: Loaded, now: object) -> dict[str, object]:
    whole = any(q.record_index is None for q in item.quarantined)
    status = "quarantined" if whole else "partial" if item.quarantined else "done"
    if item.kind == "ignored":
        status = "skipped"
    return {"uri": item.obj.uri, "fingerprint": item.obj.fingerprint, "kind": item.kind,
            "status": status, "events": item.events, "done_at": now}  # fmt: skip


def _checkpoints(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(select(db.ingest_files.c.uri, db.ingest_files.c.fingerprint))
        return {uri: fp for uri, fp in rows}


def _load_all(
    chunks: list[list[InputObject]], lake: Lake, qdir: Path, s3: S3Factory | None, workers: int
) -> Iterator[Chunk]:
    if workers <= 1 or len(chunks) < 2:
        yield from (load_chunk(c, lake.root, qdir, s3) for c in chunks)
        return
    context = get_context("forkserver")
    # Workers end when this pipe's write end closes (see start_worker): only after the pool has
    # shut down (the last context exits first), or when this process dies.
    alive_r, alive_w = context.Pipe(duplex=False)
    with alive_w, alive_r, ProcessPoolExecutor(workers, context, start_worker, (alive_r,)) as pool:
        yield from _bounded_map(pool, chunks, lake, qdir, s3, window=2 * workers)


def _bounded_map(
    pool: ProcessPoolExecutor,
    chunks: list[list[InputObject]],
    lake: Lake,
    qdir: Path,
    s3: S3Factory | None,
    window: int,
) -> Iterator[Chunk]:
    """Chunks as they finish, with at most ``window`` in flight (bounded memory)."""
    pending: set[Future[Chunk]] = set()
    for chunk in chunks:
        pending.add(pool.submit(load_chunk, chunk, lake.root, qdir, s3))
        if len(pending) >= window:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            yield from (f.result() for f in done)
    for fut in as_completed(pending):
        yield fut.result()
