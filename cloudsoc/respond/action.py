"""Response actions: one small registered class each (see ``cloudsoc/respond/actions/``).

An action reads the state of its target, works out the changes that would contain it (``plan``: read
only, the dry run), makes them (``apply``) and, where the change can be undone, puts the recorded
state back (``revert``). Idempotent: an empty plan means already done; a target that no longer
exists counts as done. Every result carries the state before and after the change, which the
evidence locker keeps.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Generic, Literal, TypeVar

import boto3
from pydantic import BaseModel, ConfigDict, Field

from cloudsoc.aws.session import client
from cloudsoc.core.errors import CloudSOCError
from cloudsoc.core.registry import Registry
from cloudsoc.core.timeutil import utcnow


class ActionError(CloudSOCError):
    """An action that cannot run (bad parameters, refused call, nothing to revert)."""


class ActionParams(BaseModel):
    """Where an action acts; each action extends this with the target's own fields."""

    model_config = ConfigDict(extra="forbid")
    account_id: str
    region: str = "us-east-1"
    incident: str = ""  # tags and names created by the action carry the incident id


class Plan(BaseModel):
    action: str
    params: dict[str, Any]
    before: dict[str, Any]  # the target's state as read
    changes: list[str]  # what apply would do, in words; empty: nothing to do

    @property
    def empty(self) -> bool:
        return not self.changes


Status = Literal["planned", "applied", "already_done", "reverted", "failed"]


class ActionResult(BaseModel):
    action: str
    params: dict[str, Any]
    status: Status
    changes: list[str] = Field(default_factory=list)
    before: dict[str, Any] = Field(default_factory=dict)
    after: dict[str, Any] = Field(default_factory=dict)
    applied: dict[str, Any] = Field(default_factory=dict)  # what apply made (ids of snapshots, policies, ...)
    artifacts: dict[str, Any] = Field(default_factory=dict)  # captured evidence (console output, metadata)
    error: str | None = None
    started_at: str = ""
    finished_at: str = ""


P = TypeVar("P", bound=ActionParams)


class Action(ABC, Generic[P]):
    """Subclasses set the class attributes and implement ``read``, ``changes`` and ``change``
    (and ``undo`` when ``reversible``)."""

    name: ClassVar[str]
    summary: ClassVar[str]
    permissions: ClassVar[tuple[str, ...]]  # IAM actions that plan + apply need
    revert_permissions: ClassVar[tuple[str, ...]] = ()
    params_model: ClassVar[type[ActionParams]]
    reversible: ClassVar[bool] = True
    changes_aws: ClassVar[bool] = True  # False: it only captures evidence (safe to run in a dry run)

    def __init__(self, session: boto3.Session, params: P) -> None:
        self.session = session
        self.params = params
        self._clients: dict[str, Any] = {}

    @classmethod
    def build(cls, session: boto3.Session, params: dict[str, Any]) -> Action[Any]:
        return cls(session, cls.params_model.model_validate(params))  # type: ignore[arg-type]

    def client(self, service: str) -> Any:
        """One client per service for the action's life: an action makes tens of calls, and making a
        client costs more than a call."""
        if service not in self._clients:
            self._clients[service] = client(service, region=self.params.region, session=self.session)
        return self._clients[service]

    # -- what each action implements ---------------------------------------------------------
    @abstractmethod
    def read(self) -> dict[str, Any]:
        """The target's current state, as much as apply changes and revert restores."""

    @abstractmethod
    def changes(self, state: dict[str, Any]) -> list[str]:
        """The changes apply would make to a target in ``state``; empty when already done."""

    @abstractmethod
    def change(self, state: dict[str, Any]) -> dict[str, Any]:
        """Make the changes; return what revert needs beyond ``state`` (ids of what was created)."""

    def undo(self, before: dict[str, Any], applied: dict[str, Any]) -> None:
        raise ActionError(f"{self.name} cannot be reverted")

    def capture(self, state: dict[str, Any], applied: dict[str, Any]) -> dict[str, Any]:
        """Evidence the action collected (override in capture actions)."""
        return {}

    # -- the protocol callers use ------------------------------------------------------------
    def plan(self) -> Plan:
        state = self.read()
        return Plan(action=self.name, params=self._params(), before=state, changes=self.changes(state))

    def apply(self) -> ActionResult:
        started = utcnow().isoformat()
        plan = self.plan()
        if plan.empty:
            return self._result("already_done", plan, plan.before, {}, started)
        applied = self.change(plan.before)
        after = self.read()
        result = self._result("applied", plan, after, applied, started)
        result.artifacts = self.capture(after, applied)
        return result

    def revert(self, result: ActionResult) -> ActionResult:
        if not self.reversible:
            raise ActionError(f"{self.name} cannot be reverted")
        started = utcnow().isoformat()
        if result.status == "applied":
            self.undo(result.before, result.applied)
        after = self.read()
        return ActionResult(action=self.name, params=self._params(), status="reverted", before=result.after,
                            after=after, started_at=started, finished_at=utcnow().isoformat())  # fmt: skip

    def _params(self) -> dict[str, Any]:
        return self.params.model_dump(mode="json")

    def _result(self, status: Status, plan: Plan, after: dict[str, Any], applied: dict[str, Any],
                started: str) -> ActionResult:  # fmt: skip
        return ActionResult(action=self.name, params=plan.params, status=status, changes=plan.changes,
                            before=plan.before, after=after, applied=applied, started_at=started,
                            finished_at=utcnow().isoformat())  # fmt: skip


ACTIONS: Registry[type[Action[Any]]] = Registry("action", "cloudsoc.respond.actions")


def action(cls: type[Action[Any]]) -> type[Action[Any]]:
    """Register an action class under its ``name``."""
    return ACTIONS.register(cls.name)(cls)
