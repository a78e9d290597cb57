"""Compliance frameworks as data (``content/frameworks/<id>.yml``): requirement -> check ids.

A requirement's status in a scope (the organization, an account, a section) follows from the results
of its checks there: any FAIL fails it, else any ERROR makes it ERROR, else any PASS passes it, else a
MANUAL result (a check that cannot decide alone) makes it MANUAL, and with no results at all (nothing
of that kind exists) it is NOT_APPLICABLE. A requirement the benchmark assesses by hand, or that has
no automatable AWS evidence (no checks), is MANUAL; the results of its supporting checks go with it
for the auditor.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cloudsoc.core.config import CONTENT_DIR
from cloudsoc.core.errors import ConfigError
from cloudsoc.posture.check import Result

ReqStatus = Literal["PASS", "FAIL", "ERROR", "MANUAL", "NOT_APPLICABLE"]
FRAMEWORKS_DIR = CONTENT_DIR / "frameworks"


class Requirement(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    title: str
    section: str = ""
    assessment: Literal["automated", "manual"] = "automated"
    checks: list[str] = Field(default_factory=list)

    @property
    def manual(self) -> bool:
        return self.assessment == "manual" or not self.checks


class Framework(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    name: str
    version: str = ""
    requirements: list[Requirement]

    def check_ids(self) -> set[str]:
        return {c for r in self.requirements for c in r.checks}


def load(path: Path) -> Framework:
    try:
        fw = Framework.model_validate(yaml.safe_load(path.read_text()))
    except (yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    if fw.id != path.stem:
        raise ConfigError(f"{path}: id {fw.id!r} is not the file name")
    return fw


@functools.cache
def bundled() -> dict[str, Framework]:
    return {p.stem: load(p) for p in sorted(FRAMEWORKS_DIR.glob("*.yml"))}


def get(framework_id: str) -> Framework:
    fws = bundled()
    if framework_id not in fws:
        raise ConfigError(f"unknown framework {framework_id!r}; known: {', '.join(fws)}")
    return fws[framework_id]


def status_of(req: Requirement, results: Iterable[Result]) -> ReqStatus:
    if req.manual:
        return "MANUAL"
    seen = {r.status for r in results}
    for s in ("FAIL", "ERROR", "PASS", "MANUAL"):  # MANUAL: the checks found something a person must judge
        if s in seen:
            return s
    return "NOT_APPLICABLE"


def score(counts: dict[str, int]) -> float | None:
    """Share of the assessable requirements that pass, in percent (none assessable: None)."""
    judged = counts.get("PASS", 0) + counts.get("FAIL", 0) + counts.get("ERROR", 0)
    return round(100.0 * counts.get("PASS", 0) / judged, 1) if judged else None


def evaluate(fw: Framework, results: list[Result]) -> dict[str, Any]:
    """The framework's requirements with their status and score, for the organization, per section and
    per account."""
    by_check: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        by_check[r.check].append(r)
    accounts = sorted({r.account for r in results})
    reqs = []
    org: dict[str, int] = defaultdict(int)
    sections: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    per_account: dict[str, dict[str, int]] = {a: defaultdict(int) for a in accounts}
    for req in fw.requirements:
        mine = [r for c in req.checks for r in by_check.get(c, [])]
        status = status_of(req, mine)
        org[status] += 1
        sections[req.section][status] += 1
        by_account: dict[str, list[Result]] = defaultdict(list)
        for r in mine:
            by_account[r.account].append(r)
        acct_status = {a: status_of(req, by_account[a]) for a in accounts}
        for a, s in acct_status.items():
            per_account[a][s] += 1
        counts = {s: sum(1 for r in mine if r.status == s) for s in ("PASS", "FAIL", "ERROR", "MANUAL")}
        reqs.append({"id": req.id, "title": req.title, "section": req.section, "assessment": req.assessment,
                     "checks": req.checks, "status": status, "accounts": acct_status, "results": counts})  # fmt: skip
    return {
        "framework": fw.id, "name": fw.name, "version": fw.version,
        "score": score(org), "counts": dict(org),
        "sections": {s: {"score": score(c), "counts": dict(c)} for s, c in sections.items()},
        "accounts": {a: {"score": score(c), "counts": dict(c)} for a, c in per_account.items()},
        "requirements": reqs,
    }  # fmt: skip
