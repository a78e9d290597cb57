"""The state database: one SQL schema for SQLite (default) and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    create_engine,
    event,
)

SCHEMA_VERSION = 1
metadata = MetaData()

schema_version = Table("schema_version", metadata, Column("version", Integer, primary_key=True))

# One row per input object ingested: the checkpoint of `cloudsoc ingest`.
ingest_files = Table(
    "ingest_files",
    metadata,
    Column("uri", Text, primary_key=True),
    Column("fingerprint", Text, nullable=False),  # size + mtime or S3 ETag
    Column("kind", String(32), nullable=False),
    Column("status", String(16), nullable=False),  # done | partial | quarantined | skipped
    Column("events", Integer, nullable=False),
    Column("done_at", DateTime(timezone=True), nullable=False),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uri", Text, nullable=False),
    Column("record_index", Integer),
    Column("byte_offset", BigInteger),
    Column("reason", Text, nullable=False),
    Column("stored_path", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

# Lake files whose events the detection run has already evaluated.
detect_files = Table(
    "detect_files",
    metadata,
    Column("path", Text, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rule_id", String(200), nullable=False),
    Column("rule_version", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # sigma | correlation | python | finding
    Column("title", Text, nullable=False),
    Column("severity", String(16), nullable=False),
    Column("tags", JSON, nullable=False),
    Column("account_id", String(32)),
    Column("region", String(32)),
    Column("principal", Text),
    Column("dedup_key", Text, nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("count", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # open | suppressed
    Column("suppressed_by", Text),
    Column("context", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_alerts_dedup", "rule_id", "dedup_key", "first_seen"),
)

# Every event that produced an alert; one row per (rule, event) keeps detection idempotent.
alert_events = Table(
    "alert_events",
    metadata,
    Column("rule_id", String(200), nullable=False),
    Column("event_id", Text, nullable=False),
    Column("alert_id", Integer, nullable=False),
    Column("event_time", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("rule_id", "event_id"),
    Index("ix_alert_events_alert", "alert_id"),
)

suppression_hits = Table(
    "suppression_hits",
    metadata,
    Column("suppression_id", String(200), primary_key=True),
    Column("hits", Integer, nullable=False),
    Column("last_hit", DateTime(timezone=True)),
)

# ---- incidents (cases) ----------------------------------------------------------------------
incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("title", Text, nullable=False),
    Column("severity", String(16), nullable=False),  # the worst alert's
    Column("status", String(24), nullable=False),  # new | acknowledged | contained | ... | false_positive
    Column("account_id", String(32)),
    Column("principal", Text),
    Column("resource", Text),
    Column(
        "group_key", Text, nullable=False
    ),  # what joined its alerts: principal:, resource:, account:, rule:
    Column("assignee", Text),
    Column(
        "entities", JSON, nullable=False
    ),  # access keys, users, roles, instances, buckets, ... seen in its events
    Column("tags", JSON, nullable=False),  # union of its alerts' tags (attack.*)
    Column("first_event_at", DateTime(timezone=True)),  # the first malicious event's eventTime
    Column("first_alert_at", DateTime(timezone=True), nullable=False),
    Column("last_alert_at", DateTime(timezone=True), nullable=False),
    Column("acknowledged_at", DateTime(timezone=True)),
    Column("contained_at", DateTime(timezone=True)),
    Column("eradicated_at", DateTime(timezone=True)),
    Column("resolved_at", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_incidents_group", "group_key", "last_alert_at"),
)

incident_alerts = Table(
    "incident_alerts",
    metadata,
    Column("alert_id", Integer, primary_key=True),  # an alert belongs to one incident
    Column("incident_id", Integer, nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
    Index("ix_incident_alerts_incident", "incident_id"),
)

# Everything that happened to an incident, in order. ``ref`` makes appends idempotent: a resumed
# playbook or a re-run detection writes the same entry once.
incident_timeline = Table(
    "incident_timeline",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", Integer, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column(
        "kind", String(24), nullable=False
    ),  # event|alert|status|comment|assign|action|playbook|evidence|notification
    Column("actor", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("data", JSON, nullable=False),
    Column("ref", Text, nullable=False),
    Index("ux_incident_timeline_ref", "incident_id", "ref", unique=True),
    Index("ix_incident_timeline_at", "incident_id", "at"),
)

# ---- playbook executions (respond) ----------------------------------------------------------
# One row per playbook run. ``definition`` keeps the playbook as it was started, so a resumed run
# follows the same document. A worker owns a run while ``lease_until`` is in the future; it takes the
# lease with a compare-and-set UPDATE, so any number of workers can share the table.
playbook_executions = Table(
    "playbook_executions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("playbook", String(200), nullable=False),
    Column("playbook_hash", String(64), nullable=False),
    Column("definition", JSON, nullable=False),
    Column("incident_id", Integer),
    Column("status", String(16), nullable=False),  # running | waiting | succeeded | failed | cancelled
    Column("input", JSON, nullable=False),
    Column("output", JSON),
    Column("error", JSON),  # {"Error", "Cause"} of a failed run
    Column("current", JSON, nullable=False),  # state paths running or waiting
    Column("wake_at", DateTime(timezone=True)),  # when a waiting run is due again
    Column("lease_owner", Text),
    Column("lease_until", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Index("ux_playbook_executions_incident", "playbook", "incident_id", unique=True),
    Index("ix_playbook_executions_due", "status", "wake_at"),
)

# One row per attempt of a state. ``path`` names the visit uniquely (parallel branch, map index,
# repeated visits); a row is written ``started`` before a task runs and finished after it.
playbook_steps = Table(
    "playbook_steps",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("execution_id", Integer, nullable=False),
    Column("path", Text, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("state", String(200), nullable=False),
    Column("kind", String(32), nullable=False),  # action | notify | evidence | approval | wait | choice | ...
    Column("status", String(16), nullable=False),  # started | succeeded | failed
    Column("mode", String(16)),  # apply | plan (actions), apply (handlers), approval, skipped (why: output)
    Column("input", JSON),
    Column("output", JSON),
    Column("error", JSON),
    Column("due_at", DateTime(timezone=True)),  # a wait's end, an approval's timeout
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Index("ux_playbook_steps_path", "execution_id", "path", "attempt", unique=True),
)

# ---- notification outbox (integrations) -----------------------------------------------------
# One row per message per channel. A message is committed here before anything is sent, so a crash
# or an unreachable service never loses it; (channel, dedup_key) keeps a notification from being
# queued twice.
notify_outbox = Table(
    "notify_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(100), nullable=False),
    Column("dedup_key", Text, nullable=False),
    Column("incident_id", Integer),  # none for digests and test messages
    Column("event", String(64), nullable=False),  # incident.opened | incident.updated | digest | ...
    Column("payload", JSON, nullable=False),  # the rendered message and the document it came from
    Column("status", String(16), nullable=False),  # pending | sent | failed | dead
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_error", Text),
    Column("external_ref", Text),  # ServiceNow sys_id, Jira key, PagerDuty dedup_key, SNS message id
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    Index("ux_notify_outbox_key", "channel", "dedup_key", unique=True),
    Index("ix_notify_outbox_due", "status", "next_attempt_at"),
)

# The ticket a ticketing channel (ServiceNow, Jira) holds for an incident, with the last state read
# from or written to it: later messages update that ticket, and the ticket sync reports changes.
notify_tickets = Table(
    "notify_tickets",
    metadata,
    Column("channel", String(100), nullable=False),
    Column("incident_id", Integer, nullable=False),
    Column("ref", Text, nullable=False),  # sys_id or issue key: what the API addresses
    Column("number", Text, nullable=False),  # what people see: INC0010001, SEC-12
    Column("state", Text, nullable=False),  # ServiceNow state code or Jira status name
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("channel", "incident_id"),
)


# ---- posture -------------------------------------------------------------------------------------
# One row per scan: the inventory it was computed from (file and SHA-256) and how long it took.
posture_scans = Table(
    "posture_scans",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=False),
    Column("trigger", String(32), nullable=False),  # full | partial (some accounts or regions) | import
    Column("inventory_path", Text),
    Column("inventory_sha256", String(64)),
    Column("accounts", JSON, nullable=False),
    Column("regions", JSON, nullable=False),
    Column("counts", JSON, nullable=False),  # status -> results
    Column("collect_seconds", JSON),  # {"collect": s, "evaluate": s}
)

posture_results = Table(
    "posture_results",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("scan_id", String(64), nullable=False),
    Column("check_id", String(200), nullable=False),
    Column("account_id", String(32), nullable=False),
    Column("region", String(32), nullable=False),
    Column("resource", Text, nullable=False),
    Column("status", String(16), nullable=False),  # PASS | FAIL | ERROR | MANUAL
    Column("severity", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("source", String(32), nullable=False),  # cloudsoc | prowler
    Index("ix_posture_results_scan", "scan_id", "check_id"),
)

# Framework scores of each scan: the trend. scope: org | account:<id> | section:<name>
posture_scores = Table(
    "posture_scores",
    metadata,
    Column("scan_id", String(64), nullable=False),
    Column("framework", String(64), nullable=False),
    Column("scope", Text, nullable=False),
    Column("score", JSON),  # percent, or null when nothing was assessable
    Column("counts", JSON, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("scan_id", "framework", "scope"),
)

# The continuous evaluation: the current status of each (check, resource), what changed it and what
# was done about it.
posture_state = Table(
    "posture_state",
    metadata,
    Column("check_id", String(200), nullable=False),
    Column("account_id", String(32), nullable=False),
    Column("region", String(32), nullable=False),
    Column("resource", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("check_id", "account_id", "region", "resource"),
)

posture_changes = Table(
    "posture_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("check_id", String(200), nullable=False),
    Column("account_id", String(32), nullable=False),
    Column("region", String(32), nullable=False),
    Column("resource", Text, nullable=False),
    Column("old_status", String(16)),
    Column("new_status", String(16), nullable=False),
    Column("event_id", Text),  # the CloudTrail event that made cloudsoc look again
    Column("event_name", Text),
    Column("event_time", DateTime(timezone=True)),
    Column("alert_id", Integer),
    Column("fix", JSON),  # the action's result when it was fixed automatically
)

# Lake files whose CloudTrail events the continuous evaluation has looked at.
posture_files = Table(
    "posture_files",
    metadata,
    Column("path", Text, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
)


def connect(url: str) -> Engine:
    """An engine with the schema in place; SQLite gets WAL so readers never block the writer."""
    engine = create_engine(url, future=True)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

    metadata.create_all(engine)
    with engine.begin() as conn:
        if conn.execute(schema_version.select()).first() is None:
            conn.execute(schema_version.insert().values(version=SCHEMA_VERSION))
    return engine
