"""The durable playbook executor.

``start`` stores an execution (once per playbook and incident); ``run`` takes its lease and
interprets it until it finishes or has to wait; ``work`` is the worker loop that takes every run
that is due (new, abandoned by a dead worker, or whose wait, retry delay or approval is over).
Action tasks only plan against real AWS unless the sandbox or ``respond.auto_apply`` allows the
change; the mode is stored with each step."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy
from botocore.exceptions import ClientError
from pydantic import BaseModel

from cloudsoc.aws.api import error_code
from cloudsoc.core.config import RespondSettings
from cloudsoc.core.errors import CloudSOCError
from cloudsoc.core.timeutil import utcnow
from cloudsoc.respond import asl
from cloudsoc.respond.access import Responder
from cloudsoc.respond.action import ACTIONS, Action, ActionResult
from cloudsoc.respond.playbook import Playbook, PlaybookSet, load_playbooks
from cloudsoc.respond.runner import Run, StateFailed, StepContext, StepSkipped, Suspended, crash_point
from cloudsoc.respond.store import TERMINAL, Entry, LeaseLost, Store
from cloudsoc.respond.validate import ENGINE_FILLED

__all__ = ["ApprovalError", "Engine", "ExecutionStatus", "Handler", "Playbook", "PlaybookSet", "StepContext",
           "StepSkipped", "load_playbooks"]  # fmt: skip
log = logging.getLogger(__name__)
Handler = Callable[[StepContext, dict[str, Any]], dict[str, Any]]


class ApprovalError(CloudSOCError):
    """A decision that cannot be recorded (nothing waits, several wait, not an approver)."""


class ExecutionStatus(BaseModel):
    id: int
    playbook: str
    incident_id: int | None
    status: str  # running | waiting | succeeded | failed | cancelled
    output: Any = None
    error: dict[str, Any] | None = None
    current: list[str] = []  # the states running, or waiting (for a time or a decision)
    wake_at: datetime | None = None


class Engine:
    def __init__(self, sql: sqlalchemy.Engine, responder: Responder, handlers: dict[str, Handler] | None = None,
                 *, settings: RespondSettings, worker: str | None = None, lease_seconds: float = 120.0,
                 inline_wait: float = 2.0, clock: Callable[[], datetime] = utcnow) -> None:  # fmt: skip
        self.sql = sql
        self.responder = responder
        self.handlers = handlers or {}
        self.settings = settings
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.store = Store(sql, self.worker, lease_seconds)
        self.inline_wait = inline_wait  # waits and retry delays up to this many seconds are slept
        self.now = clock

    # -- starting and running ---------------------------------------------------------------------
    def start(self, playbook: Playbook, doc: dict[str, Any], incident_id: int | None) -> int:
        """Store a new execution; the existing one when this playbook already runs for the incident."""
        now = self.now()
        values: dict[str, Any] = {"playbook": playbook.name, "playbook_hash": playbook.content_hash, "definition": playbook.model_dump(
            mode="json"), "incident_id": incident_id, "status": "running", "input": doc, "current": [],
            "created_at": now, "updated_at": now}  # fmt: skip
        entry = ("playbook", f"playbook {playbook.name} started", {"actor": f"playbook:{playbook.name}",
                 "playbook": playbook.name, "hash": playbook.content_hash}, f"playbook:{playbook.name}:start")  # fmt: skip
        return self.store.create(values, entry)

    def run(self, execution_id: int) -> ExecutionStatus:
        """Run until the execution finishes or waits; a run another worker holds is left alone."""
        if self.store.claim(execution_id, self.now()):
            try:
                self._run_claimed(execution_id)
            except LeaseLost as exc:  # cancelled meanwhile, or too slow and taken over: stop here
                log.warning("%s", exc)
        return self.status(execution_id)

    def work(self, max_executions: int = 0) -> int:
        """Take and run due executions until none is due or ``max_executions`` (0: no limit) have
        run; return how many were run. A caller that keeps working polls it."""
        ran = 0
        while not max_executions or ran < max_executions:
            claimed = next((i for i in self.store.due(self.now()) if self.store.claim(i, self.now())), None)
            if claimed is None:
                break
            try:
                self._run_claimed(claimed)
            except Exception:  # one broken run must not stop the worker
                # its lease is kept: the run is retried once the lease expires, not in a tight loop
                log.exception("playbook execution %s stopped", claimed)
            ran += 1
        return ran

    def _run_claimed(self, execution_id: int) -> None:
        row = self.store.execution(execution_id)
        if row["status"] in TERMINAL:
            self.store.release(execution_id)
            return
        run = Run(self, row)
        pb = row["definition"]
        incident, now = row["incident_id"], self.now()
        try:
            timeout = pb["definition"].get("TimeoutSeconds")
            if timeout and now > row["created_at"] + timedelta(seconds=timeout):
                raise StateFailed("States.Timeout", f"the playbook ran longer than {timeout} s")
            output = run.machine(pb["definition"], row["input"])
        except Suspended as w:
            self.store.settle(execution_id, self.now(), {"status": "waiting", "wake_at": w.wake_at,
                              "current": w.paths}, incident)  # fmt: skip
        except StateFailed as f:
            end = run.entry("playbook", f"playbook {run.name} failed: {f}", {"error": f.output()},
                            f"playbook:{run.name}:end")  # fmt: skip
            self.store.settle(execution_id, self.now(), {"status": "failed", "error": f.output(), "current": [],
                              "finished_at": self.now(), "wake_at": None}, incident, end)  # fmt: skip
        else:
            end = run.entry("playbook", f"playbook {run.name} succeeded", {}, f"playbook:{run.name}:end")
            self.store.settle(execution_id, self.now(), {"status": "succeeded", "output": output, "current": [],
                              "finished_at": self.now(), "wake_at": None}, incident, end)  # fmt: skip
        self.store.release(execution_id)

    # -- one attempt of a Task, Parallel or Map ------------------------------------------------------
    def execute(self, run: Run, name: str, s: dict[str, Any], path: str, attempt: int, eff: Any,
                row: dict[str, Any] | None) -> Any:  # fmt: skip
        kind = _kind(s)
        if kind == "approval":
            return self._approval(run, name, s, path, attempt, eff, row)
        if row is None:
            values = {"path": path, "attempt": attempt, "state": name, "kind": kind, "input": eff}
            row = run.steps[(path, attempt)] = self.store.begin(run.id, self.now(), values, run.incident_id)
        mode, entry = None, None
        try:
            if kind == "parallel":
                result: Any = run.parallel(s, path, attempt, eff)
            elif kind == "map":
                result = run.map(name, s, path, attempt, eff)
            else:
                ctx = StepContext(run.id, run.name, name, path, attempt, s["Resource"], run.incident_id,
                                  run.row["input"], ref=f"playbook:{run.id}:{path}:{attempt}")  # fmt: skip
                result, mode = self._task(kind, ctx, eff)
                if kind == "action":
                    entry = _action_entry(run, ctx, result, mode)
        except (StateFailed, asl.PathError) as exc:
            f = exc if isinstance(exc, StateFailed) else StateFailed("States.Runtime", f"{path}: {exc}")
            run.steps[(path, attempt)] = self.store.finish(row, self.now(), {"status": "failed", "error": f.output(),
                                                           "mode": mode}, run.incident_id)  # fmt: skip
            raise f from exc
        crash_point("DURING", name)
        done = {"status": "succeeded", "output": result, "mode": mode}
        run.steps[(path, attempt)] = self.store.finish(row, self.now(), done, run.incident_id, entry)
        crash_point("AFTER", name)
        return result

    def _task(self, kind: str, ctx: StepContext, eff: Any) -> tuple[Any, str | None]:
        """Run an action or a handler; any error it raises becomes the task's ASL error."""
        try:
            if kind == "action":
                return self._action(ctx, eff)
            prefix = ctx.resource.split(":", 1)[0]
            handler = self.handlers.get(prefix)
            if handler is None:
                raise StepSkipped(f"no {prefix} handler")  # not wired in this process
            return handler(ctx, eff if isinstance(eff, dict) else {"value": eff}), "apply"
        except StepSkipped as exc:
            return {"skipped": True, "reason": str(exc)}, "skipped"
        except StateFailed:
            raise
        except ClientError as exc:
            raise StateFailed(error_code(exc) or "ClientError", str(exc)) from exc
        except Exception as exc:  # a task's own failure is data for Retry/Catch
            raise StateFailed(type(exc).__name__, str(exc)) from exc

    def _action(self, ctx: StepContext, eff: Any) -> tuple[dict[str, Any], str]:
        cls = ACTIONS.get(ctx.resource.split(":", 1)[1])
        params = self._params(ctx, eff)
        mode = self.mode_for(cls, params["account_id"])
        act = cls.build(
            self.responder.session(params["account_id"], params.get("region", "us-east-1")), params
        )
        if mode == "apply":
            result = act.apply()
        else:
            plan = act.plan()
            result = ActionResult(action=cls.name, params=plan.params, status="planned", changes=plan.changes,
                                  before=plan.before, started_at=self.now().isoformat(),
                                  finished_at=self.now().isoformat())  # fmt: skip
        if result.status == "failed":
            raise StateFailed("Action.Failed", result.error or f"{cls.name} failed")
        return result.model_dump(mode="json"), mode

    def _params(self, ctx: StepContext, eff: Any) -> dict[str, Any]:
        """The task's input, with where to act taken from the incident document when not given."""
        if not isinstance(eff, dict):
            raise StateFailed("States.Runtime", f"{ctx.path}: an action's input must be an object")
        doc, params = ctx.document, dict(eff)
        incident = doc.get("incident") or {}
        defaults = {"account_id": (doc.get("account") or {}).get("id") or incident.get("account_id"),
                    "region": incident.get("region"), "incident": str(ctx.incident_id or incident.get("id") or "")}  # fmt: skip
        for key in ENGINE_FILLED:
            if key not in params and defaults[key]:
                params[key] = defaults[key]
        if not params.get("account_id"):
            raise StateFailed(
                "States.Runtime", f"{ctx.path}: no account_id in the parameters or the incident"
            )
        return params

    def mode_for(self, action: type[Action[Any]], account_id: str) -> str:
        """``apply`` or ``plan``: real AWS is only changed where the settings say so."""
        if not action.changes_aws or self.responder.sandbox:
            return "apply"
        tier = self.responder.tier(account_id)
        for rule in self.settings.auto_apply:
            if rule.account in ("*", account_id, tier) and rule.action in ("*", action.name):
                return "apply"
        return "plan"

    # -- approvals ----------------------------------------------------------------------------------
    def _approval(self, run: Run, name: str, s: dict[str, Any], path: str, attempt: int, eff: Any,
                  row: dict[str, Any] | None) -> Any:  # fmt: skip
        policy = run.row["definition"].get("approval") or {}
        if row is None:
            minutes = policy.get("timeout_minutes") or self.settings.approval_timeout_minutes
            due = self.now() + timedelta(seconds=s.get("TimeoutSeconds") or minutes * 60)
            values = {"path": path, "attempt": attempt, "state": name, "kind": "approval", "input": eff,
                      "due_at": due, "mode": "approval"}  # fmt: skip
            ask = run.entry("playbook", f"approval requested at {name} (until {due.isoformat()})",
                            {"state": name, "due_at": due.isoformat()}, f"playbook:{run.id}:{path}:{attempt}:ask")  # fmt: skip
            row = run.steps[(path, attempt)] = self.store.begin(
                run.id, self.now(), values, run.incident_id, ask
            )
        if row["status"] != "succeeded":
            if self.now() < row["due_at"]:
                raise Suspended(row["due_at"], [path])
            default = s.get("Default") or policy.get("default") or "deny"
            decision = {
                "approved": default == "approve",
                "by": "timeout",
                "reason": f"no decision; default {default}",
            }
            entry = _decision_entry(run.id, run.name, name, path, attempt, decision)
            row = run.steps[(path, attempt)] = self.store.finish(row, self.now(), {"status": "succeeded",
                                                                 "output": decision}, run.incident_id, entry)  # fmt: skip
        return row["output"]

    def approve(
        self, execution_id: int, by: str, reason: str, approved: bool, state: str | None = None
    ) -> None:
        """Decide a waiting approval (``state``: its state name or path, needed when several wait)."""
        ex = self.store.execution(execution_id)
        if ex["status"] in TERMINAL:
            raise ApprovalError(f"execution {execution_id} is {ex['status']}")
        waiting = [r for r in self.store.steps(execution_id).values() if r["kind"] == "approval"
                   and r["status"] == "started" and state in (None, r["state"], r["path"])]  # fmt: skip
        if not waiting:
            raise ApprovalError(
                f"execution {execution_id} has no approval waiting" + (f" at {state}" if state else "")
            )
        if len(waiting) > 1:
            raise ApprovalError(f"several approvals wait, name one: {', '.join(r['path'] for r in waiting)}")
        approvers = (ex["definition"].get("approval") or {}).get("approvers") or []
        if approvers and by not in approvers:
            raise ApprovalError(
                f"{by} may not decide for playbook {ex['playbook']} (approvers: {', '.join(approvers)})"
            )
        step, decision = waiting[0], {"approved": approved, "by": by, "reason": reason}
        if not self.store.decide(step["id"], self.now(), decision):
            raise ApprovalError(f"{step['path']} was decided already")
        entry = _decision_entry(
            execution_id, ex["playbook"], step["state"], step["path"], step["attempt"], decision
        )
        self.store.wake(execution_id, self.now(), entry, ex["incident_id"])

    # -- reading --------------------------------------------------------------------------------------
    def status(self, execution_id: int) -> ExecutionStatus:
        return _status(self.store.execution(execution_id))

    def executions(self, status: str | None = None) -> list[ExecutionStatus]:
        return [_status(r) for r in self.store.executions(status)]

    def steps(self, execution_id: int) -> list[dict[str, Any]]:
        return sorted(self.store.steps(execution_id).values(), key=lambda r: r["id"])

    def cancel(self, execution_id: int) -> bool:
        return self.store.cancel(execution_id, self.now())


def _kind(s: dict[str, Any]) -> str:
    if s["Type"] != "Task":
        return str(s["Type"]).lower()
    res = str(s["Resource"])
    return "approval" if res == "approval" else res.split(":", 1)[0]


def _status(row: dict[str, Any]) -> ExecutionStatus:
    return ExecutionStatus(id=row["id"], playbook=row["playbook"], incident_id=row["incident_id"], status=row["status"],
                           output=row["output"], error=row["error"], current=row["current"] or [],
                           wake_at=row["wake_at"])  # fmt: skip


def _action_entry(run: Run, ctx: StepContext, result: dict[str, Any], mode: str | None) -> Any:
    changes = "; ".join(result.get("changes") or []) or "nothing to change"
    summary = (
        f"{result['action']} {result['status']} ({mode}) by playbook {run.name} at {ctx.state}: {changes}"
    )
    data = {"state": ctx.state, "path": ctx.path, "attempt": ctx.attempt, "mode": mode, "result": result}
    return run.entry("action", summary, data, ctx.ref)


def _decision_entry(execution_id: int, playbook: str, state: str, path: str, attempt: int,
                    decision: dict[str, Any]) -> Entry:  # fmt: skip
    verb = "approved" if decision["approved"] else "denied"
    summary = f"{state} {verb} by {decision['by']}: {decision['reason']}"
    data = {"actor": f"playbook:{playbook}", "execution": execution_id, "state": state, **decision}
    return "playbook", summary, data, f"playbook:{execution_id}:{path}:{attempt}:decision"
