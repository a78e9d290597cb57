"""Message templates: ``string.Template`` files whose first line is the subject (email subject, SNS
subject, PagerDuty summary, ticket title) and whose remaining lines are the body.

Lookup for a channel of type T and an event E: the channel's ``template`` setting, else
``content/notify/T.E.tmpl``, ``default.E.tmpl``, ``T.tmpl``, ``default.tmpl`` (an event's own
template, such as the digest's, wins over a channel type's general one)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

from cloudsoc.core.config import CONTENT_DIR
from cloudsoc.integrations.config import NotifyError

TEMPLATE_DIR = CONTENT_DIR / "notify"

HEADLINES = {
    "incident.opened": "New {severity} incident #{id}",
    "incident.updated": "Incident #{id} is {status}",
    "action.applied": "Response action on incident #{id}",
    "approval.requested": "Approval needed on incident #{id}",
    "playbook.finished": "Playbook finished on incident #{id}",
    "test": "Test message from cloudsoc",
    "digest": "Daily digest",
}

# Every name a template may use; anything else is a configuration error found at load time.
FIELDS = (
    "event", "headline", "id", "title", "severity", "status", "account_id", "account_tier", "region",
    "principal", "resource", "tags", "first_event_at", "first_alert_at", "entities", "rule", "alert_title",
    "detail", "count", "date", "incidents", "link",
)  # fmt: skip


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def find(channel_type: str, event: str, configured: str | None, home_root: Path) -> Path:
    if configured:
        for base in (home_root, TEMPLATE_DIR):
            if (base / configured).is_file():
                return base / configured
        raise NotifyError(f"template {configured!r} not found in {home_root} or {TEMPLATE_DIR}")
    for name in (f"{channel_type}.{event}", f"default.{event}", channel_type, "default"):
        if (TEMPLATE_DIR / f"{name}.tmpl").is_file():
            return TEMPLATE_DIR / f"{name}.tmpl"
    raise NotifyError(f"no template for {channel_type} {event} in {TEMPLATE_DIR}")


def check(path: Path) -> list[str]:
    """Problems with a template file: placeholders no message provides, bad ``$`` syntax."""
    tmpl = Template(path.read_text())
    if not tmpl.is_valid():
        return [f"{path}: invalid $ placeholder (write $$ for a dollar sign)"]
    unknown = sorted(set(tmpl.get_identifiers()) - set(FIELDS))
    return [f"{path}: unknown placeholders {unknown}; known: {', '.join(FIELDS)}"] if unknown else []


def render(path: Path, fields: dict[str, str]) -> Rendered:
    text = Template(path.read_text()).safe_substitute(fields)
    subject, _, body = text.partition("\n")
    return Rendered(subject.strip(), body.strip("\n"))


def fields(doc: dict[str, Any], event: str) -> dict[str, str]:
    """The flat strings a template sees, from the incident document and the event."""
    inc = doc.get("incident") or {}
    alert = doc.get("alert") or {}
    out = {k: _text(inc.get(k)) for k in ("id", "title", "severity", "status", "account_id", "region",
                                          "principal", "resource", "first_event_at", "first_alert_at")}  # fmt: skip
    out.update(
        event=event,
        account_tier=_text((doc.get("account") or {}).get("tier")),
        tags=", ".join(str(t) for t in inc.get("tags") or []),
        entities=_entities(inc.get("entities") or {}),
        rule=_text(alert.get("rule_id")),
        alert_title=_text(alert.get("title")),
        detail=_detail(doc),
        link=_text(doc.get("link")),
    )
    digest = doc.get("digest") or {}
    out.update(count=_text(digest.get("count")), date=_text(digest.get("date")), incidents=_digest(digest))
    out["headline"] = HEADLINES.get(event, event).format(
        **{k: out[k] or "?" for k in ("id", "severity", "status")}
    )
    return out


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _entities(entities: dict[str, Any]) -> str:
    lines = [f"{kind}: {', '.join(map(str, vals[:10]))}{' ...' if len(vals) > 10 else ''}"
             for kind, vals in sorted(entities.items()) if vals]  # fmt: skip
    return "\n".join(lines) or "none recorded"


def _detail(doc: dict[str, Any]) -> str:
    """What the event adds to the incident: the action applied, the approval asked, a note."""
    parts = []
    for key in ("action", "approval", "playbook"):
        item = doc.get(key)
        if isinstance(item, dict):
            parts.append(
                f"{key}: " + ", ".join(f"{k}={v}" for k, v in item.items() if not isinstance(v, dict | list))
            )
    if doc.get("note"):
        parts.append(str(doc["note"]))
    return "\n".join(parts)


def _digest(digest: dict[str, Any]) -> str:
    return "\n".join(f"- #{i['id']} [{i['severity']}] {i['title']} ({i['status']}, account {i.get('account_id')})"
                     for i in digest.get("incidents") or [])  # fmt: skip
