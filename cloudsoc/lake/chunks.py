"""The worker side of ``cloudsoc ingest``: parse a chunk of input objects into staged files.

Kept apart from the ingest's orchestration so that worker processes import only what parsing and
staging need (no database layer, no DuckDB): each worker pays its imports once, at start.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import threading
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

import orjson
import pyarrow as pa

from cloudsoc.collect.inputs import InputObject, S3Factory, local_name, read_object
from cloudsoc.core.errors import InputError
from cloudsoc.lake.store import Lake, Staged
from cloudsoc.normalize.formats import SKIPPED, Batch, new_batch, sniff, source_of
from cloudsoc.normalize.schema import RecordIssue

# glibc mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def start_worker(ingest_alive: Connection) -> None:
    """Set up an ingest worker process: end with the ingest, keep freed memory for the next chunk.

    A chunk allocates and frees ~100 MB of buffers; by default Arrow's allocator and glibc hand
    large blocks back to the kernel, and the next chunk page-faults them in again, which cost
    ~10% of a worker's time. Arrow uses the C allocator here, and glibc keeps blocks up to
    32 MB in the heap and trims it only beyond 128 MB free (measured: a worker's peak memory
    is lower, not higher).
    """
    threading.Thread(target=_exit_with_ingest, args=(ingest_alive,), name="ingest-alive", daemon=True).start()
    pa.set_memory_pool(pa.system_memory_pool())
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)  # glibc only; elsewhere the defaults stay
    if mallopt is not None:
        mallopt(_M_MMAP_THRESHOLD, 32 << 20)
        mallopt(_M_TRIM_THRESHOLD, 128 << 20)


def _exit_with_ingest(ingest_alive: Connection) -> None:
    """End this worker once the ingest is gone, however it died (SIGKILL included).

    ``ingest_alive`` is the read end of a pipe whose only write end the ingest holds: the kernel
    closes it when the ingest dies, and this end then reads EOF, also if that happened before this
    thread started (no race), on any POSIX system. Without it a worker outlives a killed ingest
    forever, waiting on a task queue whose write end it holds itself; and the forkserver and the
    resource tracker, which exit when no process holds their pipes any more, wait for the workers.
    PR_SET_PDEATHSIG would not do: a worker's parent is the forkserver, not the ingest, and the
    signal follows the thread that forked, on Linux only.
    """
    ingest_alive.poll(None)  # the ingest never writes: readable means EOF
    os._exit(1)


@dataclass
class Quarantined:
    uri: str
    reason: str
    record_index: int | None = None
    byte_offset: int | None = None
    stored_path: str = ""


@dataclass
class Loaded:
    """One input object after parsing (its events travel separately, staged in the lake)."""

    obj: InputObject
    kind: str
    events: int = 0
    quarantined: list[Quarantined] = field(default_factory=list)


@dataclass
class Chunk:
    loaded: list[Loaded]
    staged: list[Staged]


def load_chunk(objects: list[InputObject], lake_root: Path, qdir: Path, s3: S3Factory | None) -> Chunk:
    """Parse a group of objects and stage their events as sorted partition files (in a worker)."""
    loaded: list[Loaded] = []
    batches: dict[str, Batch] = {}
    handles: list[tuple[Loaded, str, int]] = []
    for obj in objects:
        data = b""
        try:
            data = read_object(obj, s3)
            kind = sniff(local_name(obj.uri), data)
            if kind in SKIPPED:
                loaded.append(Loaded(obj, "ignored"))
                continue
            source = source_of(kind)
            batch = batches.setdefault(source, new_batch(source))
            handles.append((Loaded(obj, source), source, batch.add(data, kind)))
        except InputError as exc:
            stored = _keep_file(qdir, obj, data, exc.reason)
            loaded.append(
                Loaded(
                    obj, "quarantined", 0, [Quarantined(obj.uri, exc.reason, exc.record, exc.offset, stored)]
                )
            )
        except OSError as exc:
            loaded.append(Loaded(obj, "quarantined", 0, [Quarantined(obj.uri, f"unreadable: {exc}")]))
    lake = Lake(lake_root)
    staged: list[Staged] = []
    results = {}
    for source, batch in batches.items():
        files, results[source] = lake.stage(source, batch)
        staged.extend(files)
    for item, source, handle in handles:
        parsed = results[source][handle]
        item.events = parsed.kept
        stored = _keep_records(qdir, item.obj, parsed.issues) if parsed.issues else ""
        item.quarantined = [Quarantined(item.obj.uri, i.reason, i.index, None, stored) for i in parsed.issues]
        loaded.append(item)
    return Chunk(loaded, staged)


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
