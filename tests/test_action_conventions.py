"""Meta-tests over every registered response action: the conventions playbooks, the permission
catalog and the reviewers rely on."""

from __future__ import annotations

import importlib
import pkgutil
import re
from typing import Any

import pytest

from cloudsoc.respond.action import ACTIONS, Action, ActionParams

PACKAGE = "cloudsoc.respond.actions"
PERMISSION = re.compile(r"^[a-z][a-z0-9-]*:[A-Z][A-Za-z0-9]+$")  # service:Operation, no wildcards

REGISTERED = list(ACTIONS.items())


def _modules() -> list[str]:
    pkg = importlib.import_module(PACKAGE)
    return [
        m.name.rsplit(".", 1)[-1] for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_")
    ]


def _expected_name(module_stem: str) -> str:
    return module_stem.replace("_", ".", 1)


def test_the_registry_is_not_empty() -> None:
    assert len(REGISTERED) >= 8


@pytest.mark.parametrize(("name", "cls"), REGISTERED, ids=[n for n, _ in REGISTERED])
def test_name_is_the_module_stem(name: str, cls: type[Action[Any]]) -> None:
    module = cls.__module__
    assert module.startswith(f"{PACKAGE}."), f"{name}: defined outside {PACKAGE} ({module})"
    stem = module.rsplit(".", 1)[-1]
    assert name == cls.name == _expected_name(stem), f"{module}: action named {name!r}"


def test_every_action_module_registers_its_action() -> None:
    registered = dict(REGISTERED)
    for stem in _modules():
        assert _expected_name(stem) in registered, f"{PACKAGE}.{stem} registers no action named after it"
    # one registered class per module
    by_module = [cls.__module__ for _, cls in REGISTERED]
    assert len(by_module) == len(set(by_module)), "a module registers more than one action"


@pytest.mark.parametrize(("name", "cls"), REGISTERED, ids=[n for n, _ in REGISTERED])
def test_permissions_are_declared_as_service_operation(name: str, cls: type[Action[Any]]) -> None:
    assert isinstance(cls.permissions, tuple) and cls.permissions, f"{name}: no permissions"
    bad = [p for p in (*cls.permissions, *cls.revert_permissions) if not PERMISSION.match(p)]
    assert not bad, f"{name}: not service:Operation: {bad}"
    if cls.reversible:
        assert cls.revert_permissions, f"{name} is reversible but declares no revert_permissions"


@pytest.mark.parametrize(("name", "cls"), REGISTERED, ids=[n for n, _ in REGISTERED])
def test_params_summary_and_flags(name: str, cls: type[Action[Any]]) -> None:
    assert isinstance(cls.params_model, type) and issubclass(cls.params_model, ActionParams), name
    assert isinstance(cls.summary, str) and len(cls.summary.strip()) >= 10, f"{name}: no summary"
    assert isinstance(cls.reversible, bool) and isinstance(cls.changes_aws, bool), name
    if cls.reversible:  # the base class refuses to undo: a reversible action must override it
        assert cls.undo is not Action.undo, f"{name} is reversible but does not implement undo"
    fields = cls.params_model.model_fields
    assert {"account_id", "region", "incident"} <= set(fields), name
