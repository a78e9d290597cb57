"""SIGKILL at any moment of an ingest, then the same command again: every event stored once."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from cloudsoc.core.config import Home
from cloudsoc.lake.store import Lake
from tests.conftest import trail_dir


def _run(home: Path, src: Path) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "cloudsoc",
        "ingest",
        str(src),
        "--home",
        str(home),
        "--workers",
        "2",
        "-o",
        "json",
    ]
    # its own session (and process group): the test can find every process of the run by it
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


@pytest.mark.xdist_group("heavy")
def test_sigkill_at_random_moments_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    src = trail_dir(tmp_path / "in", files=400, per_file=100)
    home = tmp_path / "home"
    home.mkdir()
    (home / "cloudsoc.yaml").write_text("ingest:\n  chunk_kb: 16\n")
    rng = random.Random(11)
    kills = 0
    for _ in range(20):  # until four runs died mid-way (a run may also finish first)
        if kills == 4:
            break
        proc = _run(home, src)
        time.sleep(rng.uniform(0.4, 1.6))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait()
    assert kills >= 1, "the ingest always finished before the kill; the test proved nothing"
    final = _run(home, src)
    assert final.wait(timeout=300) == 0
    con = Lake(Home.open(home).lake).connect()
    total, distinct = con.execute("SELECT count(*), count(DISTINCT event_id) FROM cloudtrail").fetchall()[0]
    assert (total, distinct) == (40_000, 40_000)
    assert not any((home / "lake" / "_staging").iterdir())


def _session(sid: int) -> dict[int, int]:
    """Living processes of session ``sid`` from /proc: pid -> parent pid (zombies excluded).

    Children keep their session when orphaned (none of the ingest's calls setsid), so this finds the
    forkserver and its workers even after the ingest is gone and they were re-parented.
    """
    found: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:  # ended meanwhile
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "; comm may hold spaces
        if int(fields[3]) == sid and fields[0] != "Z":  # session, state
            found[int(entry)] = int(fields[1])  # parent
    return found


def _poll(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.xdist_group("heavy")
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")
def test_sigkill_of_ingest_ends_its_forkserver_and_workers(tmp_path: Path) -> None:
    src = trail_dir(tmp_path / "in", files=400, per_file=100)
    home = tmp_path / "home"
    home.mkdir()
    (home / "cloudsoc.yaml").write_text("ingest:\n  chunk_kb: 16\n")
    proc = _run(home, src)
    try:
        # workers are the ingest's grandchildren: it starts the forkserver, the forkserver forks them
        def workers() -> int:
            return sum(ppid != proc.pid for pid, ppid in _session(proc.pid).items() if pid != proc.pid)

        assert _poll(lambda: workers() >= 2 or proc.poll() is not None, 120)
        assert proc.poll() is None, "the ingest finished before its workers were seen; nothing to kill"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert _poll(lambda: not _session(proc.pid), 10), f"left running: {sorted(_session(proc.pid))}"
    finally:
        with contextlib.suppress(ProcessLookupError):  # what a failure left behind (this run's only)
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
