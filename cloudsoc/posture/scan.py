"""Evaluating checks over an inventory: every check in every account (and region) it holds."""

from __future__ import annotations

from collections.abc import Iterable

from cloudsoc.posture.check import CHECKS, CheckSpec, Result, run_check
from cloudsoc.posture.inventory import GLOBAL, Inventory


def select(check_ids: Iterable[str] | None = None, services: set[str] | None = None) -> list[CheckSpec]:
    specs = [spec for _, spec in CHECKS.items()]
    if check_ids is not None:
        wanted = set(check_ids)
        specs = [s for s in specs if s.id in wanted]
    if services is not None:
        specs = [s for s in specs if services & set(s.services)]
    return specs


def evaluate(inventory: Inventory, specs: list[CheckSpec] | None = None, accounts: Iterable[str] | None = None,
             regions: list[str] | None = None) -> list[Result]:  # fmt: skip
    """Results of ``specs`` (default: every check) in ``accounts`` and, for regional checks, ``regions``
    (default: every account and region collected)."""
    out: list[Result] = []
    for account in accounts if accounts is not None else sorted(inventory.accounts):
        for spec in specs if specs is not None else select():
            places = (
                [GLOBAL] if spec.scope == "account" else regions if regions is not None else inventory.regions
            )
            for region in places:
                out.extend(run_check(spec, inventory, account, region))
    return out
