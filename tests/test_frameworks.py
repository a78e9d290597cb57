"""The bundled framework mappings stay true: to the frameworks' own requirement lists, to the check
registry (every mapped check exists, every check is mapped somewhere), and ``evaluate`` keeps its rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cloudsoc.posture import frameworks
from cloudsoc.posture.check import CHECKS, Result, Status
from cloudsoc.posture.frameworks import Framework, Requirement

SHARED_FRAMEWORKS = Path(__file__).resolve().parents[2] / "shared" / "data" / "frameworks"
BUNDLED = ("cis-aws-7.0", "cis-aws-6.0", "pci-dss-4.0", "hipaa", "soc2", "nist-800-53-r5", "fedramp-moderate")
CIS = ("cis-aws-7.0", "cis-aws-6.0")


def _source(framework_id: str) -> list[dict[str, Any]]:
    """The framework's published requirement list (ids, titles, sections, CIS assessment)."""
    if not SHARED_FRAMEWORKS.is_dir():
        pytest.skip(f"framework requirement lists not present at {SHARED_FRAMEWORKS}")
    data: dict[str, Any] = json.loads((SHARED_FRAMEWORKS / f"{framework_id}.json").read_text())
    reqs: list[dict[str, Any]] = data["requirements"]
    return reqs


def test_the_bundled_frameworks() -> None:
    assert sorted(frameworks.bundled()) == sorted(BUNDLED)


@pytest.mark.parametrize("framework_id", BUNDLED)
def test_requirements_are_the_frameworks_own_in_order(framework_id: str) -> None:
    source = _source(framework_id)
    fw = frameworks.get(framework_id)
    ours = [(r.id, r.title, r.section) for r in fw.requirements]
    theirs = [(str(r["id"]), r["title"], r["section"]) for r in source]
    assert ours == theirs
    if framework_id in CIS:
        assert [r.assessment for r in fw.requirements] == [r["assessment"] for r in source]


@pytest.mark.parametrize("framework_id", BUNDLED)
def test_requirements_are_unique_and_checks_listed_once(framework_id: str) -> None:
    fw = frameworks.get(framework_id)
    ids = [r.id for r in fw.requirements]
    assert len(ids) == len(set(ids))
    for req in fw.requirements:
        assert len(req.checks) == len(set(req.checks)), req.id


@pytest.mark.parametrize("framework_id", [f for f in BUNDLED if f not in CIS])
def test_non_cis_assessment_follows_the_mapping(framework_id: str) -> None:
    """Outside CIS the framework says nothing about automation: a requirement is automated exactly
    when a check evidences it."""
    for req in frameworks.get(framework_id).requirements:
        assert req.assessment == ("automated" if req.checks else "manual"), req.id


@pytest.mark.parametrize("framework_id", BUNDLED)
def test_every_mapped_check_is_registered(framework_id: str) -> None:
    known = set(CHECKS.names())
    reqs = frameworks.get(framework_id).requirements
    assert [(r.id, c) for r in reqs for c in r.checks if c not in known] == []


@pytest.mark.parametrize("framework_id", CIS)
def test_every_cis_automated_requirement_has_a_check(framework_id: str) -> None:
    reqs = frameworks.get(framework_id).requirements
    assert [r.id for r in reqs if r.assessment == "automated" and not r.checks] == []


def test_every_registered_check_is_mapped() -> None:
    mapped = set().union(*(fw.check_ids() for fw in frameworks.bundled().values()))
    assert sorted(set(CHECKS.names()) - mapped) == []


# -- evaluate ------------------------------------------------------------------------------------
A, B = "111111111111", "222222222222"


def _result(check: str, status: Status, account: str, resource: str = "r") -> Result:
    return Result(check, status, account, "us-east-1", f"arn:aws:s3:::{resource}", f"{check} {status}")


def _req(rid: str, section: str, checks: list[str], assessment: str = "automated") -> Requirement:
    spec = {"id": rid, "title": f"requirement {rid}", "section": section, "assessment": assessment}
    return Requirement.model_validate({**spec, "checks": checks})


FW = Framework(
    id="t",
    name="Test",
    requirements=[
        _req("R1", "S1", ["ok"]),
        _req("R2", "S1", ["ok", "err"]),
        _req("R3", "S2", ["err", "bad"]),
        _req("R4", "S2", ["nothing"]),
        _req("R5", "S2", ["bad"], assessment="manual"),
        _req("R6", "S1", []),
        _req("R7", "S3", []),
    ],
)
RESULTS = [
    _result("ok", "PASS", A),
    _result("ok", "PASS", B),
    _result("err", "ERROR", A),
    _result("bad", "FAIL", B),
    _result("bad", "PASS", B, "other"),
]


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["PASS", "ERROR", "FAIL"], "FAIL"),
        (["FAIL", "PASS"], "FAIL"),
        (["PASS", "ERROR"], "ERROR"),
        (["PASS", "PASS"], "PASS"),
        ([], "NOT_APPLICABLE"),
    ],
)
def test_status_fail_beats_error_beats_pass(statuses: list[Status], expected: str) -> None:
    req = _req("R", "S", ["c"])
    assert frameworks.status_of(req, [_result("c", s, A, str(i)) for i, s in enumerate(statuses)]) == expected


def test_manual_requirement_stays_manual_with_its_supporting_results() -> None:
    supported = _req("R", "S", ["c"], assessment="manual")
    assert frameworks.status_of(supported, [_result("c", "FAIL", A)]) == "MANUAL"
    assert frameworks.status_of(_req("R", "S", []), []) == "MANUAL"
    out = frameworks.evaluate(FW, RESULTS)
    r5 = next(r for r in out["requirements"] if r["id"] == "R5")
    assert r5["status"] == "MANUAL"
    assert r5["results"] == {"PASS": 1, "FAIL": 1, "ERROR": 0, "MANUAL": 0}
    assert r5["accounts"] == {A: "MANUAL", B: "MANUAL"}


def test_evaluate_statuses_per_requirement_and_account() -> None:
    out = frameworks.evaluate(FW, RESULTS)
    status = {r["id"]: r["status"] for r in out["requirements"]}
    assert status == {"R1": "PASS", "R2": "ERROR", "R3": "FAIL", "R4": "NOT_APPLICABLE", "R5": "MANUAL",
                      "R6": "MANUAL", "R7": "MANUAL"}  # fmt: skip
    accounts = {r["id"]: r["accounts"] for r in out["requirements"]}
    assert accounts["R2"] == {A: "ERROR", B: "PASS"}
    assert accounts["R3"] == {A: "ERROR", B: "FAIL"}
    assert accounts["R4"] == {A: "NOT_APPLICABLE", B: "NOT_APPLICABLE"}


def test_evaluate_scores_count_pass_over_pass_fail_error() -> None:
    out = frameworks.evaluate(FW, RESULTS)
    assert out["counts"] == {"PASS": 1, "ERROR": 1, "FAIL": 1, "NOT_APPLICABLE": 1, "MANUAL": 3}
    assert out["score"] == 33.3  # 1 of PASS+FAIL+ERROR = 3; MANUAL and NOT_APPLICABLE do not count
    assert {s: v["score"] for s, v in out["sections"].items()} == {"S1": 50.0, "S2": 0.0, "S3": None}
    # A: R1 PASS, R2 ERROR, R3 ERROR; B: R1 PASS, R2 PASS, R3 FAIL
    assert {a: v["score"] for a, v in out["accounts"].items()} == {A: 33.3, B: 66.7}
    assert out["accounts"][B]["counts"] == {"PASS": 2, "FAIL": 1, "NOT_APPLICABLE": 1, "MANUAL": 3}


def test_evaluate_without_results() -> None:
    out = frameworks.evaluate(FW, [])
    assert out["score"] is None
    assert out["accounts"] == {}
    assert out["counts"] == {"NOT_APPLICABLE": 4, "MANUAL": 3}
