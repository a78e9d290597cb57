"""The sandbox's AWS: a moto server on loopback, run as its own process by ``cloudsoc sandbox up``.

Organizations gives new accounts random ids; here an account's id follows from its name, so the
same landing zone gets the same ids on every run and alerts, reports and tests can name them.
"""

from __future__ import annotations

import argparse
import contextvars
import hashlib
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

_creating: contextvars.ContextVar[str] = contextvars.ContextVar("creating", default="")


def account_id_for(name: str, fixed: dict[str, str]) -> str:
    """The fixed id of a landing-zone account, or a stable one derived from any other name."""
    if name in fixed:
        return fixed[name]
    digits = str(int(hashlib.sha256(name.encode()).hexdigest(), 16))
    return ("9" + digits)[:12]


def _deterministic_accounts(fixed: dict[str, str]) -> None:
    from moto.organizations import models, utils

    original_init = models.FakeAccount.__init__

    def init(self: Any, organization: Any, **kwargs: Any) -> None:
        token = _creating.set(str(kwargs.get("AccountName", "")))
        try:
            original_init(self, organization, **kwargs)
        finally:
            _creating.reset(token)

    def make_id() -> str:
        name = _creating.get()
        return account_id_for(name, fixed) if name else "".join(str(b % 10) for b in os.urandom(12))

    models.FakeAccount.__init__ = init  # type: ignore[method-assign]
    utils.make_random_account_id = make_id


def _default_account(account: str) -> None:
    """Unknown credentials act in the management account. (MOTO_ACCOUNT_ID would pin every request
    to it, assumed roles included.) Set before the services import moto's default."""
    import moto.core
    import moto.core.models

    moto.core.DEFAULT_ACCOUNT_ID = moto.core.models.DEFAULT_ACCOUNT_ID = account  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ready", type=Path, required=True, help="file to write the port to once serving")
    parser.add_argument("--management", required=True, help="the management account id")
    parser.add_argument("--fixed", default="", help="name=id,... for the landing zone's accounts")
    args = parser.parse_args(argv)
    _default_account(args.management)
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"  # ReadOnlyAccess, AdministratorAccess, ...
    fixed = dict(pair.split("=", 1) for pair in args.fixed.split(",") if pair)
    _deterministic_accounts(fixed)
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=args.port, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    tmp = args.ready.with_suffix(".tmp")
    tmp.write_text(str(port))
    tmp.replace(args.ready)
    stop.wait()
    server.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
