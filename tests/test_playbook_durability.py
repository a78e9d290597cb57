"""Durable executions: a process SIGKILLed mid-playbook is resumed by another, every step completes
once and every action changes the sandbox once; many workers share executions through PostgreSQL."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from sqlalchemy import func, select

from cloudsoc.aws.sandbox import Sandbox
from cloudsoc.cases import timeline
from cloudsoc.core import db
from cloudsoc.core.config import Home, RespondSettings
from cloudsoc.respond.access import Responder
from cloudsoc.respond.engine import Engine, StepContext
from cloudsoc.respond.playbook import Playbook, parse_yaml

CRASHING = """\
Comment: evidence, then a change, then a notification
StartAt: Snapshot
States:
  Snapshot:
    Type: Task
    Resource: action:ec2.snapshot_volumes
    Parameters: {instance_id.$: "$.incident.entities.instances[0]"}
    ResultPath: $.snapshot
    Next: Block
  Block:
    Type: Task
    Resource: action:s3.block_public_access
    Parameters: {bucket.$: "$.incident.entities.buckets[0]", account_level: false}
    ResultPath: $.block
    Next: Tell
  Tell:
    Type: Task
    Resource: notify:done
    ResultPath: null
    End: true
"""

WORKER = textwrap.dedent("""\
    import json, sys
    from pathlib import Path
    from cloudsoc.core import db
    from cloudsoc.core.config import Home, RespondSettings
    from cloudsoc.respond.access import Responder
    from cloudsoc.respond.engine import Engine
    from cloudsoc.respond.playbook import load_file

    home, url, playbook, calls, incident, doc, mode = sys.argv[1:]

    def notify(ctx, data):
        with open(calls, "a") as f:
            f.write(json.dumps({"ref": ctx.ref, "path": ctx.path}) + "\\n")
        return {"sent": True}

    engine = Engine(db.connect(url), Responder.for_home(Home.open(home)), {"notify": notify},
                    settings=RespondSettings(), lease_seconds=1)
    if mode == "start":
        x = engine.start(load_file(Path(playbook)), json.loads(doc), int(incident))
        print(engine.run(x).status)
    else:
        print(engine.work())
""")


def _process(tmp: Path, home: Home, incident: int, doc: dict[str, Any], mode: str,
             crash: dict[str, str]) -> subprocess.CompletedProcess[str]:  # fmt: skip
    (tmp / "worker.py").write_text(WORKER)
    (tmp / "crashing.yml").write_text(CRASHING)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDSOC_TEST_CRASH")} | crash
    args = [str(home.root), f"sqlite:///{tmp / 'state.db'}", str(tmp / "crashing.yml"), str(tmp / "calls.jsonl"),
            str(incident), json.dumps(doc), mode]  # fmt: skip
    return subprocess.run([sys.executable, str(tmp / "worker.py"), *args], env=env, capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).resolve().parents[1])  # fmt: skip


def _evidence_snapshots(ec2: Any, incident: int) -> list[dict[str, Any]]:
    filters = [{"Name": "tag:cloudsoc:incident", "Values": [str(incident)]}]
    return list(ec2.describe_snapshots(OwnerIds=["self"], Filters=filters)["Snapshots"])


def _blocked(s3: Any, bucket: str) -> bool:
    try:
        s3.get_public_access_block(Bucket=bucket)
    except s3.exceptions.ClientError:
        return False
    return True


@pytest.mark.parametrize("crash", ["DURING:Block", "AFTER:Snapshot"])
def test_killed_mid_playbook_resumes_and_applies_each_action_once(sandbox_home: Home, tmp_path: Path,
                                                                  crash: str) -> None:  # fmt: skip
    state = Sandbox(sandbox_home.root).state()
    dev, res = state.accounts["dev"], state.resources["dev"]
    bucket, instance = res["buckets"]["public-assets"], res["instances"]["database"]
    admin = Sandbox.account_admin(state, "dev")
    ec2, s3 = admin.client("ec2"), admin.client("s3")
    incident = random.randint(10**6, 10**9)
    doc = {"incident": {"id": incident, "account_id": dev, "region": "us-east-1",
                        "entities": {"instances": [instance], "buckets": [bucket]}}, "account": {"id": dev}}  # fmt: skip
    moment, state_name = crash.split(":")
    assert not _blocked(s3, bucket)
    sql = db.connect(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        killed = _process(
            tmp_path, sandbox_home, incident, doc, "start", {f"CLOUDSOC_TEST_CRASH_{moment}": state_name}
        )
        assert killed.returncode == -9, killed.stderr
        engine = Engine(sql, Responder.for_home(sandbox_home), settings=RespondSettings())
        [ex] = engine.executions()
        assert ex.status == "running" and ex.current == [state_name]
        before = {(s["path"], s["status"]): s for s in engine.steps(ex.id)}
        assert ("Snapshot", "succeeded") in before and ("Tell", "started") not in before
        assert _blocked(s3, bucket) is (crash == "DURING:Block")  # the change was made before the kill

        time.sleep(1.2)  # the dead worker's lease runs out
        resumed = _process(tmp_path, sandbox_home, incident, doc, "resume", {})
        assert resumed.returncode == 0 and resumed.stdout.strip() == "1", resumed.stderr
        assert engine.status(ex.id).status == "succeeded"
        steps = engine.steps(ex.id)
        assert [(s["path"], s["attempt"], s["status"]) for s in steps] == [
            ("Snapshot", 1, "succeeded"), ("Block", 1, "succeeded"), ("Tell", 1, "succeeded")]  # fmt: skip
        snap, block = steps[0], steps[1]
        assert snap["finished_at"] == before[("Snapshot", "succeeded")]["finished_at"]  # never re-run
        assert snap["output"]["status"] == "applied"
        # the interrupted change is re-run through the action's idempotent apply: it finds it made
        assert block["output"]["status"] == ("already_done" if crash == "DURING:Block" else "applied")
        applied = [s for s in steps if (s["output"] or {}).get("status") == "applied"]
        assert [s["path"] for s in applied] == (
            ["Snapshot"] if crash == "DURING:Block" else ["Snapshot", "Block"]
        )
        volumes = {v["volume_id"] for v in snap["output"]["before"]["volumes"]}
        assert len(volumes) >= 2 and sorted(
            s["VolumeId"] for s in _evidence_snapshots(ec2, incident)
        ) == sorted(volumes)
        assert _blocked(s3, bucket)
        calls = [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]
        assert calls == [{"ref": f"playbook:{ex.id}:Tell:1", "path": "Tell"}]
        with sql.connect() as conn:
            entries = timeline.entries(conn, incident)
        assert [e["kind"] for e in entries] == ["playbook", "action", "action", "playbook"]
        assert len({e["ref"] for e in entries}) == len(entries)
    finally:
        _cleanup(s3, ec2, bucket, incident)
    assert not _blocked(s3, bucket) and not _evidence_snapshots(ec2, incident)


def _cleanup(s3: Any, ec2: Any, bucket: str, incident: int) -> None:
    """Leave the shared sandbox as it was: no bucket-level block (as asserted before), no evidence."""
    s3.delete_public_access_block(Bucket=bucket)
    for snap in _evidence_snapshots(ec2, incident):
        ec2.delete_snapshot(SnapshotId=snap["SnapshotId"])


FANOUT = """\
Comment: many steps per execution
StartAt: Fan
States:
  Fan:
    Type: Parallel
    Branches:
      - StartAt: Each
        States:
          Each:
            Type: Map
            ItemsPath: $.items
            ItemProcessor:
              StartAt: Item
              States:
                Item: {Type: Task, Resource: "notify:item", End: true}
            End: true
      - StartAt: Keep
        States:
          Keep: {Type: Task, Resource: "evidence:keep", End: true}
    ResultPath: $.fan
    Next: Done
  Done: {Type: Task, Resource: "notify:done", End: true}
"""


def test_many_workers_share_executions_through_postgresql(postgres_url: str) -> None:
    doc, lines = parse_yaml(FANOUT)
    pb = Playbook.from_document(doc, f"fanout{random.randint(0, 10**9)}", "fanout.yml", lines)
    lock, seen = threading.Lock(), list[tuple[int, str, str]]()

    def handler(ctx: StepContext, data: dict[str, Any]) -> dict[str, Any]:
        time.sleep(0.005)  # long enough for the workers to overlap
        with lock:
            seen.append((ctx.execution_id, ctx.path, threading.current_thread().name))
        return {"ok": True}

    def engine() -> Engine:
        responder = Responder(boto3.Session(region_name="us-east-1"))
        return Engine(db.connect(postgres_url), responder, {"notify": handler, "evidence": handler},
                      settings=RespondSettings())  # fmt: skip

    first = engine()
    base = random.randint(10**6, 10**9)
    ids = [first.start(pb, {"items": list(range(3))}, base + i) for i in range(24)]
    assert len(set(ids)) == 24 and first.start(pb, {"items": []}, base) == ids[0]

    # the lease is one compare-and-set: of many simultaneous claims exactly one wins
    contenders = [engine() for _ in range(6)]
    barrier, won = threading.Barrier(6), dict[int, bool]()

    def claim(e: Engine) -> None:
        barrier.wait()
        won[id(e)] = e.store.claim(ids[0], e.now())

    threads = [threading.Thread(target=claim, args=(e,)) for e in contenders]
    [t.start() for t in threads]  # type: ignore[func-returns-value]
    [t.join() for t in threads]  # type: ignore[func-returns-value]
    assert sorted(won.values()) == [False] * 5 + [True]
    next(e for e in contenders if won[id(e)]).store.release(ids[0])

    ran: dict[str, int] = {}
    workers = [engine() for _ in range(4)]
    start = threading.Barrier(4)

    def work(e: Engine) -> None:
        start.wait()
        ran[threading.current_thread().name] = e.work()

    pool = [threading.Thread(target=work, args=(e,), name=f"worker-{i}") for i, e in enumerate(workers)]
    [t.start() for t in pool]  # type: ignore[func-returns-value]
    [t.join(60) for t in pool]  # type: ignore[func-returns-value]
    assert sum(ran.values()) == 24 and sum(1 for n in ran.values() if n) > 1, ran
    assert {first.status(i).status for i in ids} == {"succeeded"}
    expected = {"Fan[0]/Each[0]/Item", "Fan[0]/Each[1]/Item", "Fan[0]/Each[2]/Item", "Fan[1]/Keep", "Done"}
    for i in ids:
        mine = [p for x, p, _ in seen if x == i]
        assert sorted(mine) == sorted(expected), (i, mine)  # every task once, none twice
        assert len({w for x, _, w in seen if x == i}) == 1  # one worker ran the whole execution
    with first.sql.connect() as conn:
        S = db.playbook_steps.c
        dup = conn.execute(select(S.execution_id, S.path, func.count()).where(S.execution_id.in_(ids))
                           .group_by(S.execution_id, S.path).having(func.count() > 1)).all()  # fmt: skip
    assert dup == []
