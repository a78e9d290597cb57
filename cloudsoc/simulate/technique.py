"""An attack technique: warm-up (what must exist before), detonate (the attack, recorded as
CloudTrail), revert (put the sandbox back), with its ATT&CK ids and the detections it expects.

Techniques live one module each under ``cloudsoc/simulate/techniques/<tactic>/`` and register
with ``@technique``; the id is ``aws.<tactic>.<name>`` as in the public Stratus Red Team catalog.
"""

from __future__ import annotations

import gzip
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

import boto3
from botocore import xform_name
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.parsers import ResponseParserError

from cloudsoc.aws.api import error_code
from cloudsoc.aws.recorder import Actor, Recorder, role_identity, sandbox_lacks
from cloudsoc.aws.sandbox import HOME_REGION, Sandbox, SandboxState
from cloudsoc.aws.session import assume_role, client, make_session, role_arn
from cloudsoc.core.registry import Registry

Json = dict[str, Any]
TECHNIQUES: Registry[type[Technique]] = Registry("technique", "cloudsoc.simulate.techniques")
TACTICS = ("initial-access", "execution", "persistence", "privilege-escalation", "defense-evasion",
           "credential-access", "discovery", "lateral-movement", "exfiltration", "impact")  # fmt: skip

# The intruder's side of the wire: an address outside the organization and a hacker's CLI.
ATTACKER_IP = "185.220.101.47"
ATTACKER_AGENT = ("aws-cli/2.17.20 md/awscrt#0.20.11 ua/2.0 os/linux#6.6.15-amd64 md/arch#x86_64 lang/python#3.11.9 "
                  "md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#kali.2024 md/prompt#off")  # fmt: skip
STOLEN_USER = "svc-deploy"  # the CI/CD user whose access key leaked from a pipeline


class Technique:
    """Subclass, set the class attributes, override ``detonate`` (and ``warmup``/``revert``)."""

    id: ClassVar[str]
    title: ClassVar[str]
    tactic: ClassVar[str]
    attack: ClassVar[tuple[str, ...]]  # MITRE ATT&CK technique ids, e.g. ("T1552.005",)
    expects: ClassVar[tuple[str, ...]]  # names of the cloudsoc rules that must alert
    description: ClassVar[str] = ""
    synthetic: ClassVar[tuple[str, ...]] = ()  # calls the sandbox cannot make, written as records

    def warmup(self, ctx: Ctx) -> Json:
        """Create what the attack needs; returns state for ``detonate`` and ``revert``. Not recorded."""
        return {}

    def detonate(self, ctx: Ctx, state: Json) -> None:
        raise NotImplementedError

    def revert(self, ctx: Ctx, state: Json) -> None:
        """Undo the detonation and the warm-up. Not recorded."""


def technique(cls: type[Technique]) -> type[Technique]:
    """Register a technique; its id comes from its module path (``techniques/<tactic>/<name>.py``)."""
    parts = cls.__module__.split(".")
    tactic, name = parts[-2].replace("_", "-"), parts[-1].replace("_", "-")
    cls.id = f"aws.{tactic}.{name}"
    cls.tactic = tactic
    TECHNIQUES.register(cls.id)(cls)
    return cls


@dataclass
class Ctx:
    """What a technique acts with: the sandbox, the target account, the recorder and the run id."""

    sandbox: Sandbox
    state: SandboxState
    recorder: Recorder
    account: str = "prod"
    region: str = HOME_REGION
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    findings: list[Json] = field(default_factory=list)

    @property
    def account_id(self) -> str:
        return self.state.account(self.account)

    @property
    def res(self) -> Json:
        """The landing zone's resources in the target account (instances, buckets, secrets, ...)."""
        resources: Json = self.state.resources[self.state.name_of(self.account_id)]
        return resources

    @property
    def stamp(self) -> str:
        return f"cloudsoc-simulate/{self.run_id}"

    def actor(
        self, ip: str = ATTACKER_IP, agent: str | None = ATTACKER_AGENT, console: bool = False
    ) -> Actor:
        return Actor(source_ip=ip, user_agent=agent, console=console, stamp=self.stamp)

    # -- sessions ----------------------------------------------------------------------------
    def admin(self, region: str | None = None) -> boto3.Session:
        """The organization's own administrator in the target account: for warm-up and revert."""
        return self.sandbox.account_admin(self.state, self.account_id, region or self.region)

    def attacker(
        self, user: str = STOLEN_USER, region: str | None = None, actor: Actor | None = None
    ) -> boto3.Session:
        """The stolen access key of ``user`` in the target account, used from the intruder's machine."""
        return self.key_session(user, region, actor or self.actor())

    def key_session(self, user: str, region: str | None = None, actor: Actor | None = None) -> boto3.Session:
        """A recorded session with the access key the landing zone gave ``user`` in the target account."""
        k = self.state.keys[f"{self.state.name_of(self.account_id)}/{user}"]
        self.recorder.register_user(k["AccessKeyId"], k["Account"], k["UserName"])
        sess = make_session(k["AccessKeyId"], k["SecretAccessKey"], region=region or self.region,
                            endpoint=self.state.endpoint)  # fmt: skip
        return self.recorder.watch(sess, actor or self.actor())

    def with_key(self, access_key: str, secret: str, token: str | None = None, *, actor: Actor | None = None,
                 region: str | None = None) -> boto3.Session:  # fmt: skip
        """A recorded session for credentials the recorder already knows (from an earlier call)."""
        sess = make_session(
            access_key, secret, token, region=region or self.region, endpoint=self.state.endpoint
        )
        return self.recorder.watch(sess, actor or self.actor())

    def assume(self, via: boto3.Session, role: str, session_name: str, actor: Actor | None = None,
               **extra: Any) -> boto3.Session:  # fmt: skip
        """Assume ``role`` (a name in the target account, or an ARN) through the recorded ``via``."""
        arn = role if role.startswith("arn:") else role_arn(self.account_id, role)
        return self.recorder.watch(assume_role(via, arn, session_name, **extra), actor or self.actor())

    def instance_role(self, role: str = "web-app-role", actor: Actor | None = None) -> boto3.Session:
        """Credentials of an instance profile role, as the EC2 metadata service hands them out."""
        admin = self.sandbox.admin_session(self.state, self.region)
        with self.recorder.paused():
            sess = assume_role(admin, role_arn(self.account_id, role), self.res["instances"]["web"])
        creds = sess.get_credentials()
        assert creds is not None
        created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.recorder.identities[creds.access_key] = role_identity(
            role_arn(self.account_id, role), self.res["instances"]["web"], creds.access_key, created
        )
        self.recorder.identities[creds.access_key]["sessionContext"]["ec2RoleDelivery"] = "2.0"
        return self.recorder.watch(sess, actor or self.actor())

    # -- calls -------------------------------------------------------------------------------
    def call(self, session: boto3.Session, service: str, operation: str, params: Json | None = None, *,
             response: Json | None = None, region: str | None = None) -> Json:  # fmt: skip
        """Make the call; where the sandbox cannot, write the record the real call would produce."""
        params = params or {}
        try:
            # one attempt: a call the sandbox lacks is not worth retrying
            once = client(service, session=session, region=region, attempts=1)
            out: Json = getattr(once, xform_name(operation))(**params)
            return out
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if not sandbox_lacks(status, error_code(exc)):
                raise
        except (EndpointConnectionError, NotImplementedError, ResponseParserError):  # the sandbox's HTML 500
            pass
        return self.synthetic(session, service, operation, params, response=response, region=region)

    def synthetic(self, session: boto3.Session, service: str, operation: str, params: Json, *,
                  response: Json | None = None, error: tuple[str, str] | None = None,
                  region: str | None = None) -> Json:  # fmt: skip
        """Write the record of a call without making it (a denied call, or one the sandbox lacks)."""
        actor = self._actor_of(session)
        self.recorder.synthetic(session, actor, service, operation, params, response=response, error=error,
                                region=region or self.region, note=f"{service}:{operation} written synthetically")  # fmt: skip
        return response or {}

    def denied(
        self, session: boto3.Session, service: str, operation: str, params: Json | None = None
    ) -> None:
        """An AccessDenied call (the sandbox does not enforce IAM, so it is written, not made)."""
        arn = self.recorder.identity_of(session).get("arn", "")
        msg = f"User: {arn} is not authorized to perform: {service}:{operation} because no identity-based policy allows it"
        self.synthetic(session, service, operation, params or {}, error=("AccessDenied", msg))

    def console_login(self, user: str, *, mfa: bool, success: bool = True, ip: str = ATTACKER_IP) -> None:
        agent = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
        self.recorder.console_login(self.account_id, user, self.actor(ip, agent, console=True), mfa=mfa,
                                    success=success)  # fmt: skip

    def _actor_of(self, session: boto3.Session) -> Actor:
        return getattr(session, "_cloudsoc_actor", None) or self.actor()

    # -- findings ----------------------------------------------------------------------------
    def guardduty_finding(self, finding_type: str, severity: float, title: str, description: str,
                          resource: Json, action: Json | None = None) -> Json:  # fmt: skip
        """A GuardDuty finding as the service writes it, delivered with the trail on flush."""
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        fid = uuid.uuid4().hex
        detector = self.res.get("guardduty_detectors", {}).get(self.region, "")
        finding = {"schemaVersion": "2.0", "accountId": self.account_id, "region": self.region, "partition": "aws",
                   "id": fid, "arn": f"arn:aws:guardduty:{self.region}:{self.account_id}:detector/{detector}/finding/{fid}",
                   "type": finding_type, "resource": resource, "createdAt": now, "updatedAt": now,
                   "severity": severity, "title": title, "description": description,
                   "service": {"serviceName": "guardduty", "detectorId": detector, "action": action or {},
                               "eventFirstSeen": now, "eventLastSeen": now, "archived": False, "count": 1,
                               "additionalInfo": {"sample": False, "cloudsocRun": self.run_id}}}  # fmt: skip
        self.findings.append(finding)
        return finding

    def flush(self) -> list[str]:
        """Deliver what was recorded: trail files to the log archive, events to the live queue."""
        archive = self.sandbox.account_admin(self.state, "log-archive")
        security = self.sandbox.account_admin(self.state, "security")
        with self.recorder.paused():
            keys = self.recorder.flush(archive, self.state.trail_bucket, self.state.live_queue_url, security)
            keys += self._flush_findings(archive)
        return keys

    def _flush_findings(self, archive: boto3.Session) -> list[str]:
        keys = []
        for f in self.findings:
            event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "GuardDuty Finding",
                     "source": "aws.guardduty", "account": f["accountId"], "time": f["createdAt"][:19] + "Z",
                     "region": f["region"], "resources": [], "detail": f}  # fmt: skip
            key = f"AWSLogs/{f['accountId']}/GuardDuty/{f['region']}/{datetime.now(UTC):%Y/%m/%d}/{f['id']}.jsonl.gz"
            body = gzip.compress(json.dumps(event).encode() + b"\n")
            client("s3", session=archive).put_object(Bucket=self.state.trail_bucket, Key=key, Body=body)
            keys.append(key)
        self.findings = []
        return keys
