"""What the sandbox tests of response actions share: the life of an action against the sandbox."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from cloudsoc.respond.action import Action, ActionResult

_BEFORE = object()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def lifecycle(
    make: Action[Any] | Callable[[], Action[Any]],
    view: Callable[[], Any],
    expected: Any,
    reverted: Any = _BEFORE,
) -> ActionResult:
    """Plan (names the change, changes nothing), apply (the sandbox's ``view`` equals ``expected``,
    or ``expected(view)`` passes when it is a check), apply again (already done, changes nothing),
    revert (the sandbox is as before, or ``reverted`` where AWS cannot go back).

    ``make`` is the action, or a function building a fresh one: then "already done" and the
    revert are judged from AWS, not from what the first object remembers.
    """
    build = (lambda: make) if isinstance(make, Action) else make
    before = view()
    plan = build().plan()
    assert plan.changes, "a target in need of the action must plan changes"
    assert view() == before, "plan must not change anything"
    act = build()
    result = act.apply()
    assert result.status == "applied", result
    assert result.changes == plan.changes
    _check(view(), expected)
    again = build().apply()
    assert again.status == "already_done" and again.changes == [], again.changes
    _check(view(), expected)
    assert act.revert(result).status == "reverted"
    assert view() == (before if reverted is _BEFORE else reverted)
    return result


def _check(seen: Any, expected: Any) -> None:
    if callable(expected):
        expected(seen)
    else:
        assert seen == expected
