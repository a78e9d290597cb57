"""The live path: EventBridge events (CloudTrail API calls, console sign-ins, GuardDuty and Security
Hub findings) that an EventBridge rule sends to an SQS queue.

Messages are spooled to a JSON Lines file, the file is ingested like any other input, and only then
are the messages deleted. A crash in between redelivers them, and the lake's event-id deduplication
keeps the second copy out: nothing is lost, nothing is stored twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Drained:
    spool: Path | None
    receipts: list[str]


def drain(sqs: Any, queue_url: str, spool_dir: Path, max_messages: int = 10_000) -> Drained:
    """Receive what the queue holds (up to ``max_messages``) into one spool file."""
    bodies: list[str] = []
    receipts: list[str] = []
    while len(bodies) < max_messages:
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                  VisibilityTimeout=300).get("Messages", [])  # fmt: skip
        if not got:
            break
        for m in got:
            bodies.append(m["Body"].replace("\n", " "))
            receipts.append(m["ReceiptHandle"])
    if not bodies:
        return Drained(None, [])
    spool_dir.mkdir(parents=True, exist_ok=True)
    path = spool_dir / f"live-{time.time_ns()}.jsonl"
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(bodies) + "\n")
    tmp.replace(path)
    return Drained(path, receipts)


def acknowledge(sqs: Any, queue_url: str, drained: Drained) -> None:
    """Delete the messages of an ingested spool file, then the file."""
    for start in range(0, len(drained.receipts), 10):
        batch = drained.receipts[start : start + 10]
        sqs.delete_message_batch(QueueUrl=queue_url,
                                 Entries=[{"Id": str(i), "ReceiptHandle": r} for i, r in enumerate(batch)])  # fmt: skip
    if drained.spool is not None:
        drained.spool.unlink(missing_ok=True)


def collect_live(sqs: Any, queue_url: str, spool_dir: Path, ingest: Callable[[list[str]], object]) -> int:
    """Spool files left by an interrupted run first, then what the queue holds; returns messages taken."""
    leftovers = sorted(spool_dir.glob("live-*.jsonl")) if spool_dir.exists() else []
    if leftovers:
        ingest([str(p) for p in leftovers])
        for p in leftovers:
            p.unlink()
    drained = drain(sqs, queue_url, spool_dir)
    if drained.spool is None:
        return 0
    ingest([str(drained.spool)])
    acknowledge(sqs, queue_url, drained)
    return len(drained.receipts)
