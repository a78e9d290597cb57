"""``cloudsoc sandbox up|down|reset|status``: a local AWS organization on a moto server.

The server runs as a child process that outlives the command which started it; its port, pid and
what the landing zone created (account ids, resource ids, the people's credentials: it is a
sandbox) are kept in ``<home>/sandbox/state.json`` for the commands that follow.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import boto3

from cloudsoc.aws.session import assume_role, make_session, role_arn
from cloudsoc.core.errors import CloudSOCError

# The landing zone: account name -> (fixed id, organizational unit path).
ACCOUNTS: dict[str, tuple[str, str]] = {
    "management": ("111122220001", ""),
    "security": ("111122220002", "Security"),
    "log-archive": ("111122220003", "Security"),
    "prod": ("111122220004", "Workloads/Prod"),
    "dev": ("111122220005", "Workloads/Dev"),
    "sandbox": ("111122220006", "Sandbox"),
}
REGIONS = ("us-east-1", "eu-west-1")
HOME_REGION = REGIONS[0]
WORKLOADS = ("prod", "dev")
MEMBER_ROLE = "OrganizationAccountAccessRole"
READ_ONLY_ROLE = "CloudSOCReadOnly"  # what cloudsoc assumes to look: collection, posture
RESPONDER_ROLE = "CloudSOCResponder"  # what cloudsoc assumes to act: response actions
SOC_USER = "cloudsoc"  # cloudsoc's own identity in the security account
# Credentials of the management account's own administrator: moto maps unknown keys to it.
_ADMIN_KEY = ("AKIASANDBOXMGMTADMIN", "sandbox-management-admin-secret")


class SandboxError(CloudSOCError):
    pass


@dataclass
class SandboxState:
    endpoint: str
    port: int
    pid: int
    org_id: str = ""
    accounts: dict[str, str] = field(default_factory=dict)  # name -> id
    resources: dict[str, Any] = field(default_factory=dict)  # per account name: ids the landing zone made
    keys: dict[str, dict[str, str]] = field(default_factory=dict)  # "<account>/<user>" -> access key

    @property
    def trail_bucket(self) -> str:
        return str(self.resources["log-archive"]["trail_bucket"])

    @property
    def live_queue_url(self) -> str:
        return str(self.resources["security"]["live_queue_url"])

    def account(self, name_or_id: str) -> str:
        return self.accounts.get(name_or_id, name_or_id)

    def name_of(self, account_id: str) -> str:
        return next((n for n, i in self.accounts.items() if i == account_id), account_id)


class Sandbox:
    def __init__(self, home_root: Path) -> None:
        self.dir = home_root / "sandbox"
        self.state_file = self.dir / "state.json"

    # -- lifecycle ---------------------------------------------------------------------------
    def up(self, port: int = 0) -> SandboxState:
        """Start the server (if it is not running) and build the landing zone (if it is not built)."""
        state = self._load()
        if state is None or not _alive(state):
            state = self._start(port)
        if not state.org_id:
            from cloudsoc.aws.landing_zone import provision

            provision(self.admin_session(state), state)
            self._save(state)
        return state

    def down(self) -> bool:
        state = self._load()
        if state is None:
            return False
        if _alive(state):
            os.kill(state.pid, signal.SIGTERM)
            _wait(lambda: not _pid_alive(state.pid), 10, "the sandbox server did not stop")
        self.state_file.unlink(missing_ok=True)
        return True

    def reset(self) -> SandboxState:
        """Forget every resource and build the landing zone again on the running server."""
        state = self.state()
        urllib.request.urlopen(
            urllib.request.Request(f"{state.endpoint}/moto-api/reset", method="POST"), timeout=30
        )
        fresh = SandboxState(endpoint=state.endpoint, port=state.port, pid=state.pid)
        self._save(fresh)
        return self.up()

    def status(self) -> dict[str, Any]:
        state = self._load()
        if state is None:
            return {"running": False}
        return {"running": _alive(state), "endpoint": state.endpoint, "pid": state.pid,
                "org_id": state.org_id, "accounts": state.accounts, "regions": list(REGIONS)}  # fmt: skip

    def state(self) -> SandboxState:
        state = self._load()
        if state is None or not _alive(state):
            raise SandboxError("the sandbox is not running; start it with `cloudsoc sandbox up`")
        return state

    # -- sessions ----------------------------------------------------------------------------
    @staticmethod
    def admin_session(state: SandboxState, region: str = HOME_REGION) -> boto3.Session:
        return make_session(*_ADMIN_KEY, region=region, endpoint=state.endpoint)

    @staticmethod
    def soc_session(state: SandboxState, account: str = "security", role: str = READ_ONLY_ROLE,
                    region: str = HOME_REGION) -> boto3.Session:  # fmt: skip
        """cloudsoc's own identity: its user in the security account, elsewhere the role it assumes there,
        as in a real organization."""
        k = state.keys[f"security/{SOC_USER}"]
        hub = make_session(k["AccessKeyId"], k["SecretAccessKey"], region=region, endpoint=state.endpoint)
        acct = state.account(account)
        return hub if acct == state.accounts["security"] else assume_role(hub, role_arn(acct, role), SOC_USER)

    @staticmethod
    def account_admin(state: SandboxState, account: str, region: str = HOME_REGION) -> boto3.Session:
        """The organization's own administrator in a member account (the landing zone's builder)."""
        admin = Sandbox.admin_session(state, region)
        acct = state.account(account)
        if acct == state.accounts["management"]:
            return admin
        return assume_role(admin, role_arn(acct, MEMBER_ROLE), "landing-zone")

    # -- process -----------------------------------------------------------------------------
    def _start(self, port: int) -> SandboxState:
        self.dir.mkdir(parents=True, exist_ok=True)
        ready = self.dir / "port"
        ready.unlink(missing_ok=True)
        fixed = ",".join(f"{name}={acct}" for name, (acct, _) in ACCOUNTS.items())
        cmd = [sys.executable, "-m", "cloudsoc.aws.sandbox_server", "--port", str(port), "--ready", str(ready),
               "--management", ACCOUNTS["management"][0], "--fixed", fixed]  # fmt: skip
        log = (self.dir / "server.log").open("ab")
        proc = subprocess.Popen(cmd, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
        _wait(lambda: ready.exists() or proc.poll() is not None, 60, "the sandbox server did not start")
        if proc.poll() is not None:
            raise SandboxError(f"the sandbox server exited; see {self.dir / 'server.log'}")
        bound = int(ready.read_text())
        state = SandboxState(endpoint=f"http://127.0.0.1:{bound}", port=bound, pid=proc.pid)
        self._save(state)
        return state

    def _load(self) -> SandboxState | None:
        if not self.state_file.exists():
            return None
        return SandboxState(**json.loads(self.state_file.read_text()))

    def _save(self, state: SandboxState) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(state), indent=1, default=str))
        tmp.replace(self.state_file)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of this process is not alive
        waited, _ = os.waitpid(pid, os.WNOHANG)
        return waited == 0
    except ChildProcessError:
        return True


def _alive(state: SandboxState) -> bool:
    if not _pid_alive(state.pid):
        return False
    try:
        with urllib.request.urlopen(f"{state.endpoint}/moto-api/", timeout=5):
            return True
    except urllib.error.HTTPError:
        return True  # it answered
    except (urllib.error.URLError, OSError):
        return False


def _wait(done: Any, seconds: float, message: str) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise SandboxError(message)
        time.sleep(0.05)
