"""The processes an ingest parses in: how many, and the server they fork from.

Nothing heavy is imported here, so the command line can start the server before it imports the
ingest itself: the server's imports then run beside this process's instead of after them.
"""

from __future__ import annotations

import os
from multiprocessing import forkserver, get_context

from cloudsoc.core.config import Home


def worker_count(home: Home, asked: int = 0) -> int:
    """Parser processes: as asked, else as configured, else one per core."""
    return asked or home.settings.ingest.workers or os.cpu_count() or 1


def start_forkserver() -> None:
    """Start the server workers fork from, with the worker code imported, while this process
    lists the input: workers then start ready, and the code is imported once, not per worker."""
    get_context("forkserver").set_forkserver_preload(["cloudsoc.lake.chunks"])
    forkserver.ensure_running()
