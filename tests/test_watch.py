"""The SOC loop against the sandbox: an intruder's calls arrive on the live queue, become alerts, an
incident, and a playbook that contains the intruder; evidence is kept and verifies; revert restores."""

from __future__ import annotations

from cloudsoc.aws.sandbox import Sandbox
from cloudsoc.aws.session import client
from cloudsoc.cases import incidents, sla, timeline
from cloudsoc.core.config import Home
from cloudsoc.respond.evidence import Locker
from cloudsoc.simulate.runner import Runner
from cloudsoc.watch import Watch

TECHNIQUE = "aws.persistence.iam-create-admin-user"


def _keys(home: Home, user: str) -> dict[str, str]:
    iam = client("iam", session=Sandbox.account_admin(Sandbox(home.root).state(), "dev"))
    return {k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]}


def _quarantined(home: Home, user: str) -> bool:
    iam = client("iam", session=Sandbox.account_admin(Sandbox(home.root).state(), "dev"))
    return "cloudsoc-quarantine" in iam.list_user_policies(UserName=user)["PolicyNames"]


def test_intruder_contained_from_the_live_queue_and_reverted(sandbox_home: Home) -> None:
    home = sandbox_home
    state = Sandbox(home.root).state()
    stolen = state.keys["dev/svc-deploy"]["AccessKeyId"]
    assert _keys(home, "svc-deploy")[stolen] == "Active"
    runner = Runner(home)
    watch = Watch.for_sandbox(home)
    runner.run(TECHNIQUE, "dev")
    try:
        for _ in range(5):
            if watch.cycle().executions_run:
                break
        with watch.sql.connect() as conn:
            rows = [r for r in incidents.list_rows(conn, status=None) if "svc-deploy" in r["entities"]["users"]
                    and r["account_id"] == state.accounts["dev"]]  # fmt: skip
            assert len(rows) == 1
            inc = rows[0]
            kinds = {e["kind"] for e in timeline.entries(conn, inc["id"])}
        assert inc["status"] == "contained" and stolen in inc["entities"]["access_keys"]
        assert kinds >= {"event", "alert", "playbook", "action", "evidence", "status"}
        assert sla.durations(inc)["mttd"] is not None and sla.durations(inc)["mttc"] is not None
        assert _keys(home, "svc-deploy")[stolen] == "Inactive" and _quarantined(home, "svc-deploy")
        locker = Locker.open(home)
        assert locker.verify(inc["id"]).ok
        names = {a.name for a in locker.artifacts(inc["id"])}
        assert "cloudtrail-extract.jsonl" in names and any(n.startswith("action-") for n in names)
        assert watch.cycle().executions_started == []  # the same incident never starts its playbook twice
        reverted = watch.revert(inc["id"], by="analyst")
        assert "iam.deactivate_access_key" in reverted
        assert _keys(home, "svc-deploy")[stolen] == "Active" and not _quarantined(home, "svc-deploy")
    finally:
        runner.revert(TECHNIQUE)
