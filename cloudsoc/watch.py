"""The SOC loop: collect what arrived, detect, group alerts into incidents, start the playbooks their
triggers select, run them, deliver notifications, read ticket states back.

One cycle is one pass; ``cloudsoc watch`` repeats it. Every stage is idempotent and persisted
(lake dedup by event id, alerts by rule and event, incidents by alert, executions by playbook and
incident, steps before and after they run, notifications by dedup key), so a killed watcher picks up
where it stopped and several watchers can share one PostgreSQL database.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

import boto3
from sqlalchemy import Connection

from cloudsoc.cases import incidents, timeline
from cloudsoc.cases.detection import detect_new, group_incidents
from cloudsoc.core import db
from cloudsoc.core.config import CONTENT_DIR, Home
from cloudsoc.core.timeutil import parse_time, utcnow
from cloudsoc.detect import rules as rule_loader
from cloudsoc.detect.rules import RuleSet
from cloudsoc.integrations.notifier import Notifier
from cloudsoc.posture.continuous import PostureWatch
from cloudsoc.respond.access import Responder
from cloudsoc.respond.action import ACTIONS, ActionResult
from cloudsoc.respond.engine import Engine, Handler, StepContext, StepSkipped, load_playbooks
from cloudsoc.respond.evidence import Artifact, Locker
from cloudsoc.respond.extract import event_extract
from cloudsoc.respond.triggers import match


@dataclass
class Cycle:
    messages: int = 0
    events: int = 0
    new_alerts: int = 0
    incidents: list[int] = field(default_factory=list)
    executions_started: list[int] = field(default_factory=list)
    executions_run: int = 0
    notifications_sent: int = 0
    posture_changes: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Watch:
    def __init__(self, home: Home, *, queue_url: str | None = None, sqs: Any = None,
                 archive: str | None = None, s3: Any = None, responder: Responder | None = None,
                 org_accounts: list[str] | None = None, posture: bool = False) -> None:  # fmt: skip
        self.home = home
        self.sql = db.connect(home.database_url)
        # Change events make the posture checks look again (the first cycle loads the latest scan).
        self.posture = PostureWatch(home, self.sql) if posture else None
        self.queue_url, self.sqs = queue_url, sqs
        self.archive, self.s3 = archive, s3  # the log archive prefix: files already ingested are skipped
        self.placeholders = {"org_accounts": org_accounts or [], **home.settings.detect.placeholders}
        self.playbooks = load_playbooks([CONTENT_DIR / "playbooks", home.root / "playbooks"])
        self.responder = responder or Responder.for_home(home)
        self.notifier = Notifier.from_home(home, sns_session=self._hub())
        self.locker = Locker.open(home, session=self._hub())
        handlers: dict[str, Handler] = {"notify": self._notify, "evidence": self._evidence}
        self.engine = Engine(self.sql, self.responder, handlers, settings=home.settings.respond)
        self._settled: set[int] = set()  # executions whose evidence and containment are recorded

    @functools.cached_property
    def rules(self) -> RuleSet:
        """Loaded on the first cycle: running playbooks (``cloudsoc playbooks run``) needs no rules."""
        return rule_loader.load(self.home.rule_paths(), self.placeholders)

    @classmethod
    def for_sandbox(cls, home: Home, *, archive: bool = True, posture: bool = False) -> Watch:
        """cloudsoc's own identity in the sandbox organization: the live queue in the security account and
        (unless ``archive`` is off, to measure the live path alone) the log archive."""
        from cloudsoc.aws.sandbox import Sandbox
        from cloudsoc.aws.session import ClientFactory

        sb = Sandbox(home.root)
        state = sb.state()
        reader = ClientFactory.of(sb.soc_session(state, "log-archive"), "s3") if archive else None
        return cls(home, queue_url=state.live_queue_url, sqs=sb.soc_session(state).client("sqs"),
                   archive=f"s3://{state.trail_bucket}/AWSLogs/" if archive else None, s3=reader,
                   org_accounts=sorted(state.accounts.values()), posture=posture)  # fmt: skip

    def _hub(self) -> boto3.Session | None:
        return self.responder.base if self.responder.sandbox else None

    # -- one pass ---------------------------------------------------------------------------
    def cycle(self) -> Cycle:
        started = time.monotonic()
        out = Cycle()
        out.messages = self._collect()
        summary = detect_new(self.home, self.rules, self.sql)
        out.events, out.new_alerts = summary.events, summary.alerts.new
        if self.posture is not None:  # before grouping: a posture alert joins its actor's incident
            out.posture_changes = len(self.posture.cycle().changes)
        out.incidents = group_incidents(self.home, self.sql)
        out.executions_started = self._start(out.incidents)
        out.executions_run = self.engine.work()
        if out.executions_run:
            self.settle()
        out.notifications_sent = len(self.notifier.deliver_due(self.sql).sent)
        self.notifier.sync_tickets(self.sql, self._ticket_state)
        out.seconds = round(time.monotonic() - started, 3)
        return out

    def _collect(self) -> int:
        """The live queue (seconds behind), then the log archive (minutes behind in AWS, but complete:
        it also carries what never reaches the queue, such as exported GuardDuty findings)."""
        from cloudsoc.collect.live import collect_live
        from cloudsoc.lake.ingest import ingest

        taken = 0
        if self.queue_url and self.sqs is not None:
            taken = collect_live(self.sqs, self.queue_url, self.home.root / "spool",
                                 lambda paths: ingest(self.home, paths, workers=1))  # fmt: skip
        if self.archive:
            ingest(self.home, [self.archive], s3=self.s3, workers=1)
        return taken

    def _start(self, touched: list[int]) -> list[int]:
        started: list[int] = []
        for incident_id in touched:
            with self.sql.begin() as conn:
                doc = self.document(conn, incident_id)
                self.notifier.notify(conn, doc, "incident.opened")
            for playbook in match(self.playbooks, doc):
                started.append(self.engine.start(playbook, doc, incident_id))
        return started

    def document(self, conn: Connection, incident_id: int) -> dict[str, Any]:
        """The incident as the playbooks and notifications of this watcher see it."""
        return incidents.document(conn, incident_id, self.responder.tier, self.responder.org_accounts)

    def settle(self) -> None:
        """After playbooks ran: keep every action record as evidence, and mark contained the incidents
        whose finished playbooks changed (or found already changed) what they had to. Idempotent (the
        locker and the timeline ignore what they hold), so a restarted watcher settles everything once."""
        for ex in self.engine.executions():
            if ex.id in self._settled or ex.incident_id is None or ex.status not in ("succeeded", "failed"):
                continue
            actions = [
                s for s in self.engine.steps(ex.id) if s["kind"] == "action" and s["status"] == "succeeded"
            ]
            acted = [self._keep_action(ex.incident_id, ex.playbook, step) for step in actions]
            if any(acted) and ex.status == "succeeded":
                self._mark_contained(ex.incident_id, ex.playbook)
            self._settled.add(ex.id)

    def _keep_action(self, incident_id: int, playbook: str, step: dict[str, Any]) -> bool:
        """Keep an action step's record; whether it changed (or found changed) AWS for real."""
        result = step["output"]
        name = f"action-{step['path'].replace('/', '_')}-{step['attempt']}.json"
        self._keep(incident_id, playbook, "action", name, result, f"state before and after {result['action']}",
                   f"{name} kept")  # fmt: skip
        cls = ACTIONS.get(str(result["action"]))
        return cls.changes_aws and step["mode"] == "apply" and result["status"] in ("applied", "already_done")

    def _keep(self, incident_id: int, playbook: str, kind: str, name: str, data: Any, reason: str,
              summary: str, media_type: str | None = None) -> Artifact:  # fmt: skip
        """Store an artifact in the locker and say so on the incident's timeline."""
        actor = f"playbook:{playbook}"
        art = self.locker.add(
            incident_id, kind, name, data, actor=actor, reason=reason, media_type=media_type
        )
        with self.sql.begin() as conn:
            timeline.add(conn, incident_id, "evidence", f"{summary} ({art.sha256[:12]})", actor=actor,
                         data={"sha256": art.sha256, "name": name}, ref=f"evidence:{art.sha256}")  # fmt: skip
        return art

    def _mark_contained(self, incident_id: int, playbook: str) -> None:
        with self.sql.begin() as conn:
            if incidents.get_row(conn, incident_id)["status"] in ("new", "acknowledged"):
                incidents.set_status(conn, incident_id, "contained", by=f"playbook:{playbook}",
                                     why="the playbook's containment actions are applied")  # fmt: skip

    def _ticket_state(self, incident_id: int, status: str, by: str, why: str) -> None:
        with self.sql.begin() as conn:
            try:
                incidents.set_status(conn, incident_id, status, by=by, why=why)
            except (
                incidents.IncidentError
            ) as exc:  # cloudsoc keeps its own state, and says why on the timeline
                timeline.add(conn, incident_id, "comment", f"ticket state {status!r} from {by} not taken: {exc}",
                             actor="cloudsoc", data={"status": status, "by": by, "why": why})  # fmt: skip

    # -- engine handlers --------------------------------------------------------------------
    def _notify(self, ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
        event = ctx.resource.split(":", 1)[1]
        with self.sql.begin() as conn:
            doc = self.document(conn, _incident(ctx))
            doc.update(ref=ctx.ref, details=params)
            return {"queued": self.notifier.notify(conn, doc, event)}

    def _evidence(self, ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
        kind = ctx.resource.split(":", 1)[1]
        if kind != "event_extract":
            raise ValueError(f"unknown evidence step {kind!r}")
        incident_id = _incident(ctx)
        inc = ctx.document.get("incident") or {}
        start = parse_time(str(inc.get("first_event_at") or inc.get("first_alert_at"))) - timedelta(hours=1)
        data = event_extract(self.home, principals=list(params.get("principals") or []),
                             access_keys=list(params.get("access_keys") or []),
                             resources=list(params.get("resources") or []), account_id=inc.get("account_id"),
                             start=start, end=utcnow())  # fmt: skip
        art = self._keep(incident_id, ctx.playbook, "event_extract", "cloudtrail-extract.jsonl", data,
                         "the intruder's records before containment",
                         f"CloudTrail extract kept ({len(data.splitlines())} records)", "application/x-ndjson")  # fmt: skip
        return {"sha256": art.sha256, "size": art.size}

    def revert(self, incident_id: int, *, by: str) -> list[str]:
        """Undo what the incident's playbooks changed, newest first (false positives, exercises)."""
        done: list[str] = []
        steps = [s for ex in self.engine.executions() if ex.incident_id == incident_id
                 for s in self.engine.steps(ex.id)
                 if s["kind"] == "action" and s["mode"] == "apply" and s["status"] == "succeeded"]  # fmt: skip
        for step in reversed(steps):
            result = ActionResult.model_validate(step["output"])
            cls = ACTIONS.get(result.action)
            if result.status != "applied" or not cls.reversible:
                continue
            p = result.params
            cls.build(self.responder.session(p["account_id"], p.get("region", "us-east-1")), p).revert(result)
            done.append(result.action)
            with self.sql.begin() as conn:
                timeline.add(conn, incident_id, "action", f"reverted {result.action}", actor=by,
                             data={"params": p}, ref=f"revert:{step['execution_id']}:{step['path']}")  # fmt: skip
        return done

    def run(
        self, interval: float = 2.0, cycles: int = 0, on_cycle: Callable[[Cycle], None] | None = None
    ) -> None:
        n = 0
        while True:
            report = self.cycle()
            n += 1
            if on_cycle:
                on_cycle(report)
            if cycles and n >= cycles:
                return
            time.sleep(interval)


def _incident(ctx: StepContext) -> int:
    if ctx.incident_id is None:
        raise StepSkipped(f"{ctx.resource} needs an incident (the execution was started without one)")
    return ctx.incident_id
