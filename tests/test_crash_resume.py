"""SIGKILL at any moment of an ingest, then the same command again: every event stored once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
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
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


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
