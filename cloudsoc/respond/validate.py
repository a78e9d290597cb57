"""Static checks of a playbook (and of an exported Step Functions definition): every problem of the
document is collected, each with the state it is in and the YAML line where it is known."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cloudsoc.respond import asl
from cloudsoc.respond.playbook import LinePath, Problem

COMMON = {"Type", "Comment", "InputPath", "OutputPath"}
FLOW = {"Next", "End"}
FIELDS: dict[str, set[str]] = {
    "Task": COMMON
    | FLOW
    | {
        "Resource",
        "Parameters",
        "ResultSelector",
        "ResultPath",
        "Retry",
        "Catch",
        "TimeoutSeconds",
        "HeartbeatSeconds",
        "Default",
    },
    "Pass": COMMON | FLOW | {"Result", "ResultPath", "Parameters"},
    "Choice": COMMON | {"Choices", "Default"},
    "Wait": COMMON | FLOW | {"Seconds", "Timestamp", "SecondsPath", "TimestampPath"},
    "Succeed": COMMON,
    "Fail": {"Type", "Comment", "Error", "Cause"},
    "Parallel": COMMON | FLOW | {"Branches", "Parameters", "ResultSelector", "ResultPath", "Retry", "Catch"},
    "Map": COMMON
    | FLOW
    | {
        "Iterator",
        "ItemProcessor",
        "ItemsPath",
        "ItemSelector",
        "Parameters",
        "MaxConcurrency",
        "ResultSelector",
        "ResultPath",
        "Retry",
        "Catch",
    },
}
TOP = {"Comment", "StartAt", "States", "TimeoutSeconds", "Version"}
CLOUDSOC_TOP = {"Trigger", "Approval"}
WAIT_FIELDS = ("Seconds", "Timestamp", "SecondsPath", "TimestampPath")
# action parameters the engine takes from the incident document when a playbook does not give them
ENGINE_FILLED = ("account_id", "region", "incident")


@dataclass
class Checker:
    file: str
    lines: dict[LinePath, int]
    aws: bool = False  # checking an exported definition: ARNs for resources, no cloudsoc fields
    problems: list[Problem] = field(default_factory=list)

    def add(self, where: LinePath, state: str | None, message: str) -> None:
        line = None
        for n in range(len(where), 0, -1):  # the closest enclosing node that has a line
            if where[:n] in self.lines:
                line = self.lines[where[:n]]
                break
        self.problems.append(Problem(file=self.file, state=state, line=line, message=message))

    # -- machines ---------------------------------------------------------------------------------
    def machine(self, m: Any, at: LinePath, scope: str) -> None:
        """A state machine (the playbook or a Parallel branch / Map processor)."""
        if not isinstance(m, dict):
            self.add(at, scope or None, "a state machine must be a mapping with StartAt and States")
            return
        states = m.get("States")
        if not isinstance(states, dict) or not states:
            self.add(at, scope or None, "States must be a non-empty mapping")
            return
        start = str(m.get("StartAt"))
        if start not in states:
            self.add((*at, "StartAt"), scope or None, f"StartAt {start!r} is not a state")
        for name, state in states.items():
            self.state(str(name), state, (*at, "States", str(name)), f"{scope}{name}", set(states))
        if start in states:
            unreachable = set(states) - _reachable(states, start)
            for name in sorted(unreachable):
                self.add((*at, "States", name), f"{scope}{name}", "unreachable from StartAt")

    def state(self, name: str, s: Any, at: LinePath, label: str, names: set[str]) -> None:
        if not isinstance(s, dict):
            self.add(at, label, "a state must be a mapping")
            return
        kind = s.get("Type")
        if kind not in FIELDS:
            self.add((*at, "Type"), label, f"unknown state type {kind!r} (one of {', '.join(FIELDS)})")
            return
        for key in sorted(set(s) - FIELDS[kind]):
            self.add((*at, key), label, f"field {key!r} is not allowed in a {kind} state")
        self.flow(s, kind, at, label, names)
        self.paths(s, at, label)
        getattr(self, f"check_{kind.lower()}")(s, at, label, names)

    def flow(self, s: dict[str, Any], kind: str, at: LinePath, label: str, names: set[str]) -> None:
        if "Next" in FIELDS[kind]:
            has_next, has_end = "Next" in s, s.get("End") is True
            if has_next == has_end:
                self.add(at, label, "needs exactly one of Next or End: true")
            if "End" in s and s["End"] is not True:
                self.add((*at, "End"), label, "End must be true")
        if "Next" in s and s["Next"] not in names:
            self.add((*at, "Next"), label, f"Next {s['Next']!r} is not a state of this machine")

    def paths(self, s: dict[str, Any], at: LinePath, label: str) -> None:
        for key in ("InputPath", "OutputPath", "ItemsPath", "SecondsPath", "TimestampPath"):
            if key in s and not (s[key] is None and key in ("InputPath", "OutputPath")):
                self.path(s[key], (*at, key), label, key)
        if "ResultPath" in s and s["ResultPath"] is not None and not asl.is_reference_path(s["ResultPath"]):
            self.add((*at, "ResultPath"), label, f"ResultPath {s['ResultPath']!r} is not a reference path")
        for key in ("Parameters", "ResultSelector", "ItemSelector"):
            for k, v in asl.template_paths(s.get(key)):
                self.path(v, (*at, key), label, f"{key} {k}")

    def path(self, value: Any, at: LinePath, label: str, what: str) -> None:
        if isinstance(value, str) and value.startswith("States."):
            self.add(at, label, f"{what}: intrinsic functions ({value.split('(')[0]}) are not supported")
            return
        try:
            asl.parse_path(value)
        except asl.PathError as exc:
            self.add(at, label, f"{what}: {exc}")

    # -- state types ------------------------------------------------------------------------------
    def check_task(self, s: dict[str, Any], at: LinePath, label: str, names: set[str]) -> None:
        self.retry_catch(s, at, label, names)
        res = s.get("Resource")
        if not isinstance(res, str) or not res:
            self.add(at, label, "a Task needs a Resource")
            return
        if self.aws:
            if not res.startswith("arn:"):
                self.add((*at, "Resource"), label, f"Resource {res!r} is not an ARN")
            if "Default" in s:
                self.add((*at, "Default"), label, "Default is a cloudsoc field, not ASL")
            return
        kind, _, arg = res.partition(":")
        if res == "approval":
            self.approval(s, at, label)
        elif kind == "action" and arg:
            self.action(arg, s, at, label)
        elif kind in ("notify", "evidence") and arg:
            pass
        else:
            self.add((*at, "Resource"), label,
                     f"unknown Resource {res!r} (action:<name>, notify:<event>, evidence:<kind> or approval)")  # fmt: skip
        if "Default" in s and res != "approval":
            self.add((*at, "Default"), label, "Default is only for approval tasks")

    def approval(self, s: dict[str, Any], at: LinePath, label: str) -> None:
        if s.get("Default", "deny") not in ("approve", "deny"):
            self.add((*at, "Default"), label, f"Default must be approve or deny, not {s['Default']!r}")
        t = s.get("TimeoutSeconds")
        if t is not None and (not isinstance(t, int) or isinstance(t, bool) or t <= 0):
            self.add((*at, "TimeoutSeconds"), label, "TimeoutSeconds must be a positive integer")

    def action(self, name: str, s: dict[str, Any], at: LinePath, label: str) -> None:
        from cloudsoc.respond.action import ACTIONS

        try:
            cls = ACTIONS.get(name)
        except KeyError:
            self.add(
                (*at, "Resource"), label, f"unknown action {name!r} (known: {', '.join(ACTIONS.names())})"
            )
            return
        params = s.get("Parameters")
        if not isinstance(params, dict):
            self.add(at, label, f"action {name} needs Parameters with its fields")
            return
        fields = cls.params_model.model_fields
        given = {k.removesuffix(".$") for k in params}
        for key in sorted(given - set(fields)):
            self.add(
                (*at, "Parameters"),
                label,
                f"action {name} has no parameter {key!r} (has: {', '.join(fields)})",
            )
        required = {k for k, f in fields.items() if f.is_required()} - set(ENGINE_FILLED)
        for key in sorted(required - given):
            self.add((*at, "Parameters"), label, f"action {name} needs parameter {key!r}")

    def check_pass(self, s: dict[str, Any], at: LinePath, label: str, names: set[str]) -> None:
        pass

    def check_succeed(self, s: dict[str, Any], at: LinePath, label: str, names: set[str]) -> None:
        pass

    def check_fail(self, s: dict[str, Any], at: LinePath, label: str, names: set[str]) -> None:
        for key in ("Error", "Cause"):
            if key in s and not isinstance(s[key], str):
                self.add((*at, key), label, f"{key} must be a string")

    def check_wait(self, s: dict[str, Any], at: LinePath, label: str, names: set[str]) -> None:
        given = [k for k in WAIT_FIELDS if k in s]
        if len(given) != 1:
            self.add(at, label, f"a Wait needs exactly one of {', '.join(WAIT_FIELDS)}")
        if "Seconds" in s and (not isinstance(s["Seconds"], int) or s["Seconds"] < 0):
            self.add((*at, "Seconds"), label, "Seconds must be a non-negative integer")
        if "Timestamp" in s and asl._timestamp(s["Timestamp"]) is None:
            self.add((*at, "Timestamp"), label, f"Timestamp {s['Timestamp']!r} is not ISO-8601")

    def check_choice(self, s: dict[str, Any], at: LinePath, label: str, names: set[str]) -> None:
        choices = s.get("Choices")
        if not isinstance(choices, list) or not choices:
            self.add(at, label, "a Choice needs a non-empty list of Choices")
            return
        for i, rule in enumerate(choices):
            for msg in asl.rule_problems(rule):
                self.add((*at, "Choices", i), label, f"Choices[{i}]: {msg}")
            if isinstance(rule, dict) and "Next" in rule and rule["Next"] not in names:
                self.add(
                    (*at, "Choices", i, "Next"), label, f"Choices[{i}]: Next {rule['Next']!r} is not a state"
                )
        if "Default" in s and s["Default"] not in names:
            self.add((*at, "Default"), label, f"Default {s['Default']!r} is not a state")

    def check_parallel(self, s: dict[str, Any], at: LinePath, label: str, names: set[str]) -> None:
        self.retry_catch(s, at, label, names)
        branches = s.get("Branches")
        if not isinstance(branches, list) or not branches:
            self.add(at, label, "a Parallel needs a non-empty list of Branches")
            return
        for i, b in enumerate(branches):
            self.machine(b, (*at, "Branches", i), f"{label}[{i}]/")

    def check_map(self, s: dict[str, Any], at: LinePath, label: str, names: set[str]) -> None:
        self.retry_catch(s, at, label, names)
        procs = [k for k in ("ItemProcessor", "Iterator") if k in s]
        if len(procs) != 1:
            self.add(at, label, "a Map needs exactly one of ItemProcessor or Iterator")
        else:
            self.machine(s[procs[0]], (*at, procs[0]), f"{label}[*]/")
        if "ItemSelector" in s and "Parameters" in s:
            self.add(at, label, "a Map takes ItemSelector or Parameters, not both")
        mc = s.get("MaxConcurrency", 0)
        if not isinstance(mc, int) or mc < 0:
            self.add((*at, "MaxConcurrency"), label, "MaxConcurrency must be a non-negative integer")

    def retry_catch(self, s: dict[str, Any], at: LinePath, label: str, names: set[str]) -> None:
        for key in ("Retry", "Catch"):
            if key not in s:
                continue
            if not isinstance(s[key], list):
                self.add((*at, key), label, f"{key} must be a list")
                continue
            for i, r in enumerate(s[key]):
                for msg in _retrier(r, key, i == len(s[key]) - 1, names):
                    self.add((*at, key, i), label, f"{key}[{i}]: {msg}")


def _retrier(r: Any, key: str, last: bool, names: set[str]) -> list[str]:
    if not isinstance(r, dict):
        return ["must be a mapping"]
    allowed = {"ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds", "JitterStrategy",
               "Comment"} if key == "Retry" else {"ErrorEquals", "Next", "ResultPath", "Comment"}  # fmt: skip
    out = [f"field {k!r} is not allowed" for k in sorted(set(r) - allowed)]
    errs = r.get("ErrorEquals")
    if not isinstance(errs, list) or not errs or not all(isinstance(e, str) for e in errs):
        out.append("ErrorEquals must be a non-empty list of error names")
    elif "States.ALL" in errs and (len(errs) > 1 or not last):
        out.append("States.ALL must be alone in the last ErrorEquals")
    if key == "Catch":
        if r.get("Next") not in names:
            out.append(f"Next {r.get('Next')!r} is not a state")
        rp = r.get("ResultPath", "$")
        if rp is not None and not asl.is_reference_path(rp):
            out.append(f"ResultPath {rp!r} is not a reference path")
        return out
    checks: dict[str, Callable[[Any], bool]] = {"IntervalSeconds": lambda v: isinstance(v, int) and v >= 1,
              "MaxAttempts": lambda v: isinstance(v, int) and v >= 0,
              "BackoffRate": lambda v: isinstance(v, int | float) and v >= 1.0,
              "MaxDelaySeconds": lambda v: isinstance(v, int) and v >= 1,
              "JitterStrategy": lambda v: v in ("FULL", "NONE")}  # fmt: skip
    for k, ok in checks.items():
        if k in r and (isinstance(r[k], bool) or not ok(r[k])):
            out.append(f"{k} {r[k]!r} is out of range")
    return out


def _reachable(states: dict[str, Any], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name in seen or name not in states:
            continue
        seen.add(name)
        todo += _targets(states[name])
    return seen


def _targets(s: Any) -> list[str]:
    if not isinstance(s, dict):
        return []
    out = [s.get("Next"), s.get("Default") if s.get("Type") == "Choice" else None]
    out += [c.get("Next") for c in s.get("Choices") or [] if isinstance(c, dict)]
    out += [c.get("Next") for c in s.get("Catch") or [] if isinstance(c, dict)]
    return [t for t in out if isinstance(t, str)]


def check_document(
    doc: dict[str, Any], file: str, lines: dict[LinePath, int], *, aws: bool = False
) -> list[Problem]:
    """Every problem of a playbook document (``aws``: of a Step Functions definition)."""
    c = Checker(file, lines, aws)
    allowed = TOP if aws else TOP | CLOUDSOC_TOP
    for key in sorted(set(doc) - allowed):
        c.add((key,), None, f"top-level field {key!r} is not allowed")
    if "Comment" not in doc and not aws:
        c.add((), None, "a playbook needs a Comment saying what it does")
    c.machine(doc, (), "")
    return c.problems
