"""Which playbooks answer an incident: the ``Trigger`` block of each playbook against the incident
document (its triggering alert's rule id, the incident's ATT&CK tags, severity and account tier)."""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase
from typing import Any

from cloudsoc.core.severity import normalize, rank
from cloudsoc.respond.playbook import Playbook, Trigger


def rule_ids(doc: dict[str, Any]) -> set[str]:
    """The rule ids behind the incident: the triggering alert's and any the incident lists."""
    alert, incident = doc.get("alert") or {}, doc.get("incident") or {}
    ids = {alert.get("rule_id")} | set(incident.get("rule_ids") or [])
    return {str(i) for i in ids if i}


def fires(trigger: Trigger, doc: dict[str, Any]) -> bool:
    """Whether ``trigger`` starts on ``doc``: a listed rule (glob) or tag must match when any are
    listed, and every severity and tier filter must hold."""
    incident, account = doc.get("incident") or {}, doc.get("account") or {}
    severity = normalize(incident.get("severity") or (doc.get("alert") or {}).get("severity"))
    tags = {
        str(t).lower() for t in [*(incident.get("tags") or []), *((doc.get("alert") or {}).get("tags") or [])]
    }
    if trigger.rules or trigger.tags:
        ids = rule_ids(doc)
        by_rule = any(fnmatchcase(i, pattern) for pattern in trigger.rules for i in ids)
        by_tag = any(t.lower() in tags for t in trigger.tags)
        if not (by_rule or by_tag):
            return False
    if trigger.min_severity and rank(severity) < rank(trigger.min_severity):
        return False
    if trigger.severities and severity not in trigger.severities:
        return False
    return not trigger.account_tiers or account.get("tier") in trigger.account_tiers


def match(playbooks: Iterable[Playbook], incident_doc: dict[str, Any]) -> list[Playbook]:
    """The playbooks (with a Trigger) that answer the incident, by name."""
    found = [p for p in playbooks if p.trigger is not None and fires(p.trigger, incident_doc)]
    return sorted(found, key=lambda p: p.name)
