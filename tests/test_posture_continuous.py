"""Continuous evaluation on the sandbox: a recorded change event makes cloudsoc collect the resource
again, judge it, raise a posture alert, and fix it where the policy allows (only plan elsewhere);
``posture fix`` plans, applies under the tier's approval policy, and judges again."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import delete, select

from cloudsoc.aws.sandbox import Sandbox
from cloudsoc.aws.session import client
from cloudsoc.core import db
from cloudsoc.core.config import AutoFix, Home
from cloudsoc.posture import remediate, run
from cloudsoc.posture.continuous import changes
from cloudsoc.posture.fix import FixItem
from cloudsoc.simulate.runner import Runner
from cloudsoc.watch import Watch

CHECK = "ec2_sg_no_admin_ports_from_internet_ipv4"
RDP = {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}


def _group(home: Home, account: str) -> str:
    return str(Sandbox(home.root).state().resources[account]["security_groups"]["database"])


def _rdp_open(home: Home, account: str) -> bool:
    ec2 = client("ec2", session=Sandbox.account_admin(Sandbox(home.root).state(), account))
    perms = ec2.describe_security_groups(GroupIds=[_group(home, account)])["SecurityGroups"][0][
        "IpPermissions"
    ]
    return any(p.get("FromPort") == 3389 for p in perms)


def _close(home: Home, account: str) -> None:
    if _rdp_open(home, account):
        ec2 = client("ec2", session=Sandbox.account_admin(Sandbox(home.root).state(), account))
        ec2.revoke_security_group_ingress(GroupId=_group(home, account), IpPermissions=[RDP])


@pytest.fixture
def watched(sandbox_home: Home) -> Iterator[Home]:
    """The sandbox with a fresh scan as baseline, dev fixed automatically, prod only planned."""
    home = sandbox_home
    saved = home.settings.posture.auto_fix
    home.settings.posture.auto_fix = [AutoFix(account="dev", check="*")]
    run.scan(home)
    try:
        yield home
    finally:
        home.settings.posture.auto_fix = saved
        for account in ("dev", "prod"):
            _close(home, account)


def _open_rdp(home: Home, account: str) -> str:
    """A deploy pipeline opens RDP to the world on the database tier: recorded, delivered as CloudTrail."""
    ctx = Runner(home).context(account)
    ci = ctx.key_session("svc-deploy", actor=ctx.actor(ip="10.20.1.15", agent="aws-cli/2.17.0 Python/3.12.6"))
    client("ec2", session=ci).authorize_security_group_ingress(
        GroupId=_group(home, account), IpPermissions=[RDP]
    )
    ctx.flush()
    return f"arn:aws:ec2:us-east-1:{ctx.account_id}:security-group/{_group(home, account)}"


def _rows(home: Home, resource: str) -> list[dict[str, Any]]:
    with db.connect(home.database_url).connect() as conn:
        return [r for r in changes(conn, 200) if r["resource"] == resource and r["check_id"] == CHECK][::-1]


def test_a_change_event_raises_a_posture_alert_and_is_fixed_where_allowed(watched: Home) -> None:
    home = watched
    watch = Watch.for_sandbox(home, posture=True)
    with db.connect(home.database_url).connect() as conn:
        before = [r[0] for r in conn.execute(select(db.posture_files.c.path))]
    dev = _open_rdp(home, "dev")
    prod = _open_rdp(home, "prod")
    for _ in range(4):
        watch.cycle()
        if _rows(home, dev) and _rows(home, prod):
            break
    # dev: FAIL on the event, alert raised, fixed by policy, judged again: PASS; the rule is gone
    failed, passed = _rows(home, dev)[:2]
    assert (failed["old_status"], failed["new_status"]) == ("PASS", "FAIL")
    assert failed["event_name"] == "AuthorizeSecurityGroupIngress" and failed["alert_id"]
    assert failed["fix"]["mode"] == "apply" and failed["fix"]["status"] == "applied"
    assert (passed["old_status"], passed["new_status"]) == ("FAIL", "PASS")
    assert not _rdp_open(home, "dev")
    # prod: FAIL and alert, the fix only planned (the incident's own playbook may still contain it)
    prod_fail = _rows(home, prod)[0]
    assert prod_fail["new_status"] == "FAIL" and prod_fail["alert_id"]
    assert prod_fail["fix"]["mode"] == "plan" and prod_fail["fix"]["status"] == "planned"
    assert prod_fail["fix"]["changes"]
    with db.connect(home.database_url).connect() as conn:
        alert = (
            conn.execute(select(db.alerts).where(db.alerts.c.id == prod_fail["alert_id"])).mappings().one()
        )
    assert alert["rule_id"] == f"posture.{CHECK}" and alert["kind"] == "posture"
    # files done are not read again; read again (a pass repeated after a crash) they change nothing that
    # was judged already (prod's group may have been closed since, by the incident's playbook)
    assert watch.posture is not None and watch.posture.cycle().events == 0
    with db.connect(home.database_url).begin() as conn:
        conn.execute(delete(db.posture_files).where(db.posture_files.c.path.not_in(before)))
    again = watch.posture.cycle()
    assert again.events > 0 and [c for c in again.changes if c.resource == dev] == []


def _only(items: list[FixItem], resource: str) -> FixItem:
    [it] = [i for i in items if i.result.resource == resource and i.result.check == CHECK]
    return it


def test_posture_fix_plans_then_applies_under_the_approval_policy(watched: Home) -> None:
    home = watched
    dev, prod = _open_rdp(home, "dev"), _open_rdp(home, "prod")
    run.scan(home)
    planned = remediate.run(home, check=CHECK)
    assert _only(planned, dev).plan["changes"] and _only(planned, dev).outcome == {}
    assert _rdp_open(home, "dev") and _rdp_open(home, "prod")  # planning changed nothing
    refused = _only(remediate.run(home, check=CHECK, resource=prod, apply=True), prod)
    assert refused.outcome["status"] == "refused" and _rdp_open(home, "prod")  # prod needs an approver
    approved = _only(remediate.run(home, check=CHECK, resource=prod, apply=True, approved_by="lead"), prod)
    assert approved.outcome["status"] == "applied" and approved.after == "PASS"
    assert not _rdp_open(home, "prod")
    fixed = _only(remediate.run(home, check=CHECK, resource=dev, apply=True), dev)
    assert fixed.outcome["status"] == "applied" and fixed.after == "PASS" and not _rdp_open(home, "dev")
