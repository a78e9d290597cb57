"""A playbook as an AWS Step Functions state machine, for organizations that run their response
in AWS: action, notify and evidence tasks invoke the ``cloudsoc-respond`` Lambda function with
``{action, params}``; an approval waits for a task token (its timeout takes the default decision);
every other state is carried over unchanged."""

from __future__ import annotations

import copy
from typing import Any

from cloudsoc.respond.playbook import Playbook, Problem
from cloudsoc.respond.validate import check_document

FUNCTION = "cloudsoc-respond"
WAIT_FOR_TOKEN = "arn:aws:states:::lambda:invoke.waitForTaskToken"


def function_arn(region: str, account: str, function: str = FUNCTION) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{function}"


def export(playbook: Playbook, *, region: str = "us-east-1", account: str = "123456789012",
           function: str = FUNCTION, approval_timeout_minutes: int = 60) -> dict[str, Any]:  # fmt: skip
    """The Step Functions definition (Amazon States Language) of ``playbook``."""
    ctx = _Ctx(function_arn(region, account, function), playbook, approval_timeout_minutes)
    d = playbook.definition
    out: dict[str, Any] = {"Comment": d.get("Comment", playbook.name), "StartAt": d["StartAt"]}
    if "TimeoutSeconds" in d:
        out["TimeoutSeconds"] = d["TimeoutSeconds"]
    out["States"] = ctx.states(d["States"])
    return out


def check(definition: dict[str, Any], name: str = "<export>") -> list[Problem]:
    """Problems of a Step Functions definition against the ASL rules (every Next resolves, one of
    Next/End, reachable states, well-formed paths, Retry/Catch, ARNs as resources, no cloudsoc field)."""
    return check_document(definition, name, {}, aws=True)


class _Ctx:
    def __init__(self, arn: str, playbook: Playbook, timeout_minutes: int) -> None:
        self.arn = arn
        self.default = playbook.approval.default
        self.timeout = (playbook.approval.timeout_minutes or timeout_minutes) * 60

    def states(self, states: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, s in states.items():
            s = copy.deepcopy(s)
            if s["Type"] == "Parallel":
                s["Branches"] = [self.machine(b) for b in s["Branches"]]
            elif s["Type"] == "Map":
                key = "ItemProcessor" if "ItemProcessor" in s else "Iterator"
                s[key] = {**s[key], **self.machine(s[key])}
            elif s["Type"] == "Task" and s["Resource"] == "approval":
                out.update(self.approval(name, s, set(states) | set(out)))
                continue
            elif s["Type"] == "Task":
                s = self.task(s)
            out[name] = s
        return out

    def machine(self, m: dict[str, Any]) -> dict[str, Any]:
        return {**m, "States": self.states(m["States"])}

    def task(self, s: dict[str, Any]) -> dict[str, Any]:
        res = str(s["Resource"])
        action = res.split(":", 1)[1] if res.startswith("action:") else res
        params = {"params": s["Parameters"]} if "Parameters" in s else {"params.$": "$"}
        return {**s, "Resource": self.arn, "Parameters": {"action": action, **params}}

    def approval(self, name: str, s: dict[str, Any], taken: set[str]) -> dict[str, Any]:
        """The approval task and the Pass state its timeout leads to (the default decision)."""
        default = s.pop("Default", self.default)
        timeout_state = _unique(f"{name} timed out", taken)
        params = {"params": s["Parameters"]} if "Parameters" in s else {"params.$": "$"}
        task = {k: v for k, v in s.items() if k not in ("Next", "End", "OutputPath")}
        task.update(Resource=WAIT_FOR_TOKEN, TimeoutSeconds=s.get("TimeoutSeconds", self.timeout),
                    Parameters={"FunctionName": self.arn, "Payload": {"action": "approval", "state": name,
                                                                      "token.$": "$$.Task.Token", **params}})  # fmt: skip
        catch = {
            "ErrorEquals": ["States.Timeout"],
            "Next": timeout_state,
            "ResultPath": s.get("ResultPath", "$"),
        }
        task["Catch"] = [catch, *s.get("Catch", [])]
        # the decision passes through a Pass state so OutputPath and Next apply to both outcomes
        task["Next"] = after = _unique(f"{name} decided", taken | {timeout_state})
        decision = {
            "approved": default == "approve",
            "by": "timeout",
            "reason": f"no decision; default {default}",
        }
        flow = {"Next": s["Next"]} if "Next" in s else {"End": True}
        out_path = {"OutputPath": s["OutputPath"]} if "OutputPath" in s else {}
        timed_out = {
            "Type": "Pass",
            "Result": decision,
            "ResultPath": s.get("ResultPath", "$"),
            **out_path,
            **flow,
        }
        return {name: task, timeout_state: timed_out, after: {"Type": "Pass", **out_path, **flow}}


def _unique(name: str, taken: set[str]) -> str:
    n, candidate = 1, name
    while candidate in taken:
        n += 1
        candidate = f"{name} {n}"
    return candidate
