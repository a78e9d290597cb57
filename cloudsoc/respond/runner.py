"""One pass of a playbook execution: the states are interpreted from the start, and every step that
already finished returns its stored result instead of running again. A run is therefore resumed by
running it again: the finished steps replay, the first unfinished one runs.

A step's ``path`` names one visit of one state: ``Isolate``, ``Isolate#2`` (second visit),
``Contain[1]/Isolate`` (branch 1 of a Parallel), ``Keys[3]/Deactivate`` (item 3 of a Map),
``Contain@2[1]/Isolate`` (second attempt of the Parallel)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from cloudsoc.core.errors import CloudSOCError
from cloudsoc.respond import asl
from cloudsoc.respond.store import Entry

if TYPE_CHECKING:
    from cloudsoc.respond.engine import Engine


class StateFailed(CloudSOCError):
    """A state ended in an ASL error (``error`` is what Retry and Catch match on)."""

    def __init__(self, error: str, cause: str = "") -> None:
        self.error = error
        self.cause = cause
        super().__init__(f"{error}: {cause}" if cause else error)

    def output(self) -> dict[str, str]:
        return {"Error": self.error, "Cause": self.cause}


class Suspended(CloudSOCError):  # control flow, not a failure
    """The run cannot go on before ``wake_at`` (a wait, a retry delay, an approval)."""

    def __init__(self, wake_at: datetime, paths: list[str]) -> None:
        self.wake_at = wake_at
        self.paths = paths
        super().__init__(f"waiting until {wake_at.isoformat()} at {', '.join(paths)}")

    @classmethod
    def merge(cls, many: list[Suspended]) -> Suspended:
        return cls(min(s.wake_at for s in many), [p for s in many for p in s.paths])


class StepSkipped(CloudSOCError):
    """Raised by a notify/evidence handler that cannot serve this step (an execution with no
    incident, say): the step is recorded as skipped with the reason, and the run goes on."""


@dataclass
class StepContext:
    """What a notify/evidence handler learns about the step it serves. ``ref`` is stable across
    resumes: a handler that keys its side effect on it does it once."""

    execution_id: int
    playbook: str
    state: str
    path: str
    attempt: int
    resource: str
    incident_id: int | None
    document: dict[str, Any]  # the execution's input (the incident document)
    ref: str = ""


def crash_point(moment: str, state: str) -> None:
    """Test hook for the durability tests: ``CLOUDSOC_TEST_CRASH_DURING=<state>`` kills the process
    after the state's task ran but before its result is stored; ``..._AFTER`` once it is stored."""
    if os.environ.get(f"CLOUDSOC_TEST_CRASH_{moment}") == state:
        os.kill(os.getpid(), signal.SIGKILL)


def matches(patterns: list[str], error: str) -> bool:
    if error == "States.Runtime":
        return False  # ASL: a runtime error always fails the execution
    if "States.ALL" in patterns or error in patterns:
        return True
    return "States.TaskFailed" in patterns and error != "States.Timeout" and not error.startswith("States.")


def _next(s: dict[str, Any]) -> str | None:
    return None if s.get("End") else s.get("Next")


class Run:
    def __init__(self, engine: Engine, row: dict[str, Any]) -> None:
        self.e = engine
        self.id: int = row["id"]
        self.row = row
        self.name: str = row["playbook"]
        self.incident_id: int | None = row["incident_id"]
        self.steps = engine.store.steps(self.id)

    # -- machines and states ----------------------------------------------------------------------
    def machine(self, m: dict[str, Any], data: Any, prefix: str = "") -> Any:
        name, visits = m["StartAt"], dict[str, int]()
        while True:
            visits[name] = visits.get(name, 0) + 1
            path = f"{prefix}{name}" + (f"#{visits[name]}" if visits[name] > 1 else "")
            data, nxt = self.state(name, m["States"][name], path, data)
            if nxt is None:
                return data
            name = nxt

    def context(self, state: str) -> dict[str, Any]:
        created = self.row["created_at"]
        return {"Execution": {"Id": str(self.id), "Name": f"{self.name}-{self.id}", "Input": self.row["input"],
                              "StartTime": created.isoformat()},
                "StateMachine": {"Name": self.name}, "State": {"Name": state}}  # fmt: skip

    def state(self, name: str, s: dict[str, Any], path: str, raw: Any) -> tuple[Any, str | None]:
        try:
            return self._state(name, s, path, raw)
        except asl.PathError as exc:
            raise StateFailed("States.Runtime", f"{path}: {exc}") from exc

    def _state(self, name: str, s: dict[str, Any], path: str, raw: Any) -> tuple[Any, str | None]:
        kind = s["Type"]
        if kind == "Choice":
            return self.choice(name, s, path, raw)
        if kind in ("Succeed", "Fail"):
            return self.terminal(name, s, path, raw)
        if kind == "Wait":
            data = asl.select(raw, s.get("InputPath", "$"))
            self.wait(name, s, path, data)
            return asl.select(data, s.get("OutputPath", "$")), _next(s)
        ctx = self.context(name)
        eff = asl.effective_input(s, raw, ctx)
        if kind == "Pass":
            out = asl.state_output(s, raw, s.get("Result", eff), ctx)
            self.remember(name, path, "pass", eff, out)
            return out, _next(s)
        try:
            result = self.attempts(name, s, path, eff)
        except StateFailed as failure:
            catcher = next((c for c in s.get("Catch", []) if matches(c["ErrorEquals"], failure.error)), None)
            if catcher is None:
                raise
            return asl.put(raw, catcher.get("ResultPath", "$"), failure.output()), catcher["Next"]
        return asl.state_output(s, raw, result, ctx), _next(s)

    def remember(self, name: str, path: str, kind: str, data: Any, out: Any, error: Any = None) -> None:
        if (path, 1) not in self.steps:
            values = {"path": path, "attempt": 1, "state": name, "kind": kind, "input": data, "output": out,
                      "error": error, "status": "failed" if error else "succeeded"}  # fmt: skip
            self.steps[(path, 1)] = self.e.store.record(self.id, self.e.now(), values)

    def choice(self, name: str, s: dict[str, Any], path: str, raw: Any) -> tuple[Any, str | None]:
        data = asl.select(raw, s.get("InputPath", "$"))
        target = next((r["Next"] for r in s["Choices"] if asl.evaluate(r, data)), s.get("Default"))
        if target is None:
            raise StateFailed(
                "States.NoChoiceMatched", f"{path}: no choice rule matched and there is no Default"
            )
        self.remember(name, path, "choice", data, {"Next": target})
        return asl.select(data, s.get("OutputPath", "$")), target

    def terminal(self, name: str, s: dict[str, Any], path: str, raw: Any) -> tuple[Any, None]:
        if s["Type"] == "Fail":
            failure = StateFailed(s.get("Error", "States.Fail"), s.get("Cause", ""))
            self.remember(name, path, "fail", raw, None, failure.output())
            raise failure
        data = asl.select(raw, s.get("InputPath", "$"))
        out = asl.select(data, s.get("OutputPath", "$"))
        self.remember(name, path, "succeed", data, out)
        return out, None

    # -- waiting ----------------------------------------------------------------------------------
    def pause(self, until: datetime, paths: list[str]) -> None:
        """Wait until ``until``: in process when it is close, else suspend the run."""
        left = (until - self.e.now()).total_seconds()
        if left <= 0:
            return
        if left > self.e.inline_wait:
            raise Suspended(until, paths)
        time.sleep(left)
        self.e.store.renew(self.id, self.e.now())

    def wait(self, name: str, s: dict[str, Any], path: str, data: Any) -> None:
        row = self.steps.get((path, 1))
        if row is not None and row["status"] == "succeeded":
            return
        if row is None:
            until = self._wait_until(s, data)
            values = {
                "path": path,
                "attempt": 1,
                "state": name,
                "kind": "wait",
                "input": data,
                "due_at": until,
            }
            row = self.steps[(path, 1)] = self.e.store.begin(self.id, self.e.now(), values, self.incident_id)
        self.pause(row["due_at"], [path])
        self.steps[(path, 1)] = self.e.store.finish(
            row, self.e.now(), {"status": "succeeded"}, self.incident_id
        )

    def _wait_until(self, s: dict[str, Any], data: Any) -> datetime:
        if "Seconds" in s or "SecondsPath" in s:
            secs = s["Seconds"] if "Seconds" in s else asl.get(data, s["SecondsPath"])
            if not isinstance(secs, int | float) or isinstance(secs, bool) or secs < 0:
                raise StateFailed("States.Runtime", f"Wait seconds {secs!r} is not a non-negative number")
            return self.e.now() + timedelta(seconds=secs)
        stamp = s["Timestamp"] if "Timestamp" in s else asl.get(data, s["TimestampPath"])
        parsed = asl._timestamp(stamp)
        if parsed is None or parsed.tzinfo is None:
            raise StateFailed(
                "States.Runtime", f"Wait timestamp {stamp!r} is not an ISO-8601 time with a zone"
            )
        return parsed

    # -- retriable states: Task, Parallel, Map -----------------------------------------------------
    def attempts(self, name: str, s: dict[str, Any], path: str, eff: Any) -> Any:
        retriers: list[dict[str, Any]] = s.get("Retry", [])
        counts = [0] * len(retriers)
        attempt = 1
        while True:
            row = self.steps.get((path, attempt))
            if row is not None and row["status"] == "succeeded":
                return row["output"]
            if row is not None and row["status"] == "failed":
                failure, ended = (
                    StateFailed(row["error"]["Error"], row["error"].get("Cause", "")),
                    row["finished_at"],
                )
            else:
                try:
                    return self.e.execute(self, name, s, path, attempt, eff, row)
                except StateFailed as exc:
                    failure, ended = exc, self.e.now()
            delay = _retry_delay(retriers, counts, failure.error)
            if delay is None:
                raise failure
            self.pause(ended + timedelta(seconds=delay), [path])
            attempt += 1

    def parallel(self, s: dict[str, Any], path: str, attempt: int, eff: Any) -> list[Any]:
        base = _attempt_path(path, attempt)
        return self.fan((branch, eff, f"{base}[{i}]/") for i, branch in enumerate(s["Branches"]))

    def map(self, name: str, s: dict[str, Any], path: str, attempt: int, eff: Any) -> list[Any]:
        items = asl.get(eff, s.get("ItemsPath", "$"))
        if not isinstance(items, list):
            raise StateFailed(
                "States.Runtime", f"{path}: ItemsPath selects a {type(items).__name__}, not a list"
            )
        base = _attempt_path(path, attempt)
        proc = s.get("ItemProcessor") or s["Iterator"]
        selector = s.get("ItemSelector", s.get("Parameters"))

        def item_input(i: int, item: Any) -> Any:
            ctx = {**self.context(name), "Map": {"Item": {"Index": i, "Value": item}}}
            return asl.render(selector, eff, ctx) if selector is not None else item

        return self.fan((proc, item_input(i, item), f"{base}[{i}]/") for i, item in enumerate(items))

    def fan(self, machines: Iterable[tuple[dict[str, Any], Any, str]]) -> list[Any]:
        """Run each (machine, input, path prefix) of a Parallel or Map in turn; when some must wait,
        the others still go as far as they can, and the run suspends until the earliest wake."""
        outs, waits = [], []
        for machine, data, prefix in machines:
            try:
                outs.append(self.machine(machine, data, prefix))
            except Suspended as w:
                waits.append(w)
        if waits:
            raise Suspended.merge(waits)
        return outs

    def entry(self, kind: str, summary: str, data: dict[str, Any], ref: str) -> Entry:
        return kind, summary, {"actor": f"playbook:{self.name}", "execution": self.id, **data}, ref


def _attempt_path(path: str, attempt: int) -> str:
    """The path prefix of a Parallel's or Map's children: a retried attempt runs them afresh."""
    return path if attempt == 1 else f"{path}@{attempt}"


def _retry_delay(retriers: list[dict[str, Any]], counts: list[int], error: str) -> float | None:
    """Seconds before the next attempt, or None when no retrier takes ``error`` (any more)."""
    for i, r in enumerate(retriers):
        if not matches(r["ErrorEquals"], error):
            continue
        if counts[i] >= r.get("MaxAttempts", 3):
            return None
        delay = r.get("IntervalSeconds", 1) * r.get("BackoffRate", 2.0) ** counts[i]
        counts[i] += 1
        return float(min(delay, r.get("MaxDelaySeconds", delay)))
    return None
