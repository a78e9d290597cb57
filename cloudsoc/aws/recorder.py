"""The CloudTrail recorder: every call made through a watched boto3 session becomes the record
CloudTrail would write for it, and ``flush`` delivers the records the way CloudTrail does: gzip
files in the organization trail's bucket and EventBridge events on the live queue.

The caller's identity comes from its access key: keys handed out by the sandbox are registered,
and the keys that calls hand out (AssumeRole, GetFederationToken, GetSessionToken, CreateAccessKey)
are learned from the responses, so a chain of stolen and assumed credentials is written as AWS
would write it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.model import OperationModel

from cloudsoc.aws import trail_shape as shape
from cloudsoc.aws.session import access_key_of, client

Json = dict[str, Any]
EVENT_VERSION = "1.10"
_TLS = {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256"}
_NOT_IMPLEMENTED = ("NotImplemented", "InternalFailure", "InternalError", "UnknownOperationException")


def sandbox_lacks(status: int, code: str | None) -> bool:
    """Whether a failed call means the sandbox does not have the operation (not that AWS refused it)."""
    return status >= 500 or code in _NOT_IMPLEMENTED


@dataclass(frozen=True)
class Actor:
    """Where a session's calls come from: the network address and the client that sends them."""

    source_ip: str
    user_agent: str | None = None  # None: the SDK's own user agent as sent on the wire
    console: bool = False  # calls made from the AWS console
    stamp: str = ""  # appended to the user agent, e.g. the simulation run id
    invoked_by: str | None = None


@dataclass
class LogEntry:
    event_id: str
    event_time: str
    event_name: str
    event_source: str
    account: str
    region: str
    principal: str
    error: str | None = None
    synthetic: bool = False
    note: str = ""
    at: float = 0.0  # the precise moment, where eventTime has whole seconds


@dataclass
class Recorder:
    org_id: str
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    records: list[Json] = field(default_factory=list)
    log: list[LogEntry] = field(default_factory=list)
    identities: dict[str, Json] = field(default_factory=dict)  # access key id -> CloudTrail userIdentity
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _paused: int = 0

    # -- identities --------------------------------------------------------------------------
    def register_user(self, access_key: str, account: str, user: str) -> Json:
        ident = user_identity(account, user, access_key)
        self.identities[access_key] = ident
        return ident

    def register_root(self, access_key: str, account: str) -> Json:
        ident = {"type": "Root", "principalId": account, "arn": f"arn:aws:iam::{account}:root",
                 "accountId": account, "accessKeyId": access_key}  # fmt: skip
        self.identities[access_key] = ident
        return ident

    def identity_of(self, session: boto3.Session) -> Json:
        key = access_key_of(session)
        if key not in self.identities:
            raise KeyError(f"access key {key} is unknown to the recorder; register it first")
        return self.identities[key]

    # -- watching sessions -------------------------------------------------------------------
    def watch(self, session: boto3.Session, actor: Actor) -> boto3.Session:
        """Record every call this session's clients make, as ``actor``."""
        key = access_key_of(session)
        events = session.events

        def remember(params: Json, context: Json, **_: Any) -> None:
            context["cloudsoc_params"] = dict(params)

        def agent(request: Any, **_: Any) -> None:
            request.context["cloudsoc_agent"] = request.headers.get("User-Agent", b"")

        def after(http_response: Any, parsed: Json, model: OperationModel, context: Json, **_: Any) -> None:
            if self._paused:
                return
            err = parsed.get("Error") if http_response.status_code >= 300 else None
            if err and sandbox_lacks(http_response.status_code, err.get("Code")):
                return  # the sandbox lacks this call: the caller writes it synthetically
            ua = context.get("cloudsoc_agent", b"")
            wire = ua.decode() if isinstance(ua, bytes) else str(ua)
            self._from_call(key, actor, model, context.get("cloudsoc_params", {}), parsed, err,
                            context.get("client_region") or session.region_name or "us-east-1", wire)  # fmt: skip

        events.register("before-parameter-build.*.*", remember)
        events.register("request-created.*.*", agent)
        events.register("after-call.*.*", after)
        session._cloudsoc_actor = actor  # type: ignore[attr-defined]  # for synthetic records of this session
        return session

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Calls made inside are not recorded (the sandbox's own housekeeping)."""
        self._paused += 1
        try:
            yield
        finally:
            self._paused -= 1

    # -- records -----------------------------------------------------------------------------
    def _from_call(self, key: str, actor: Actor, model: OperationModel, params: Json, parsed: Json,
                   err: Json | None, region: str, wire_agent: str) -> None:  # fmt: skip
        ident = self.identities.get(key)
        if ident is None:
            return
        name = model.name
        ro = shape.read_only(name)
        rec = self._base(ident, actor, shape.event_source(model), shape.event_name(model),
                         shape.event_region(model, region), wire_agent)  # fmt: skip
        rec["requestParameters"] = shape.request_parameters(model, params, region)
        rec["responseElements"] = None if err else shape.response_elements(model, parsed, ro)
        rec["requestID"] = parsed.get("ResponseMetadata", {}).get("RequestId") or str(uuid.uuid4())
        rec["readOnly"] = ro
        if err:
            rec["errorCode"] = str(err.get("Code", "UnknownError"))
            rec["errorMessage"] = str(err.get("Message", ""))
        self._data_event(rec, model, params)
        self._learn(ident, name, params, parsed, rec)
        self._add(rec, synthetic=False)

    def synthetic(self, session: boto3.Session, actor: Actor, service: str, operation: str, params: Json,
                  response: Json | None = None, error: tuple[str, str] | None = None,
                  region: str | None = None, note: str = "") -> Json:  # fmt: skip
        """The record a call the sandbox cannot make would have produced (marked in the run log)."""
        ident = self.identity_of(session)
        model = session._session.get_service_model(service).operation_model(operation)
        reg = region or session.region_name or "us-east-1"
        ro = shape.read_only(operation)
        rec = self._base(ident, actor, shape.event_source(model), shape.event_name(model),
                         shape.event_region(model, reg), "")  # fmt: skip
        rec["requestParameters"] = shape.request_parameters(model, params, reg)
        rec["responseElements"] = None if error else shape.response_elements(model, response or {}, ro)
        rec["requestID"] = str(uuid.uuid4())
        rec["readOnly"] = ro
        if error:
            rec["errorCode"], rec["errorMessage"] = error
        self._data_event(rec, model, params)
        self._learn(ident, operation, params, response or {}, rec)
        self._add(rec, synthetic=True, note=note)
        return rec

    def console_login(
        self, account: str, user: str, actor: Actor, *, mfa: bool, success: bool = True
    ) -> Json:
        """The ``ConsoleLogin`` record of a person signing in to the console as an IAM user."""
        ident = user_identity(account, user, "")
        ident.pop("accessKeyId")
        rec = self._base(
            ident, replace(actor, console=True), "signin.amazonaws.com", "ConsoleLogin", "us-east-1", ""
        )
        rec.update(eventType="AwsConsoleSignIn", readOnly=False, requestParameters=None, requestID=None,
                   responseElements={"ConsoleLogin": "Success" if success else "Failure"},
                   additionalEventData={"LoginTo": "https://console.aws.amazon.com/console/home",
                                        "MobileVersion": "No", "MFAUsed": "Yes" if mfa else "No"})  # fmt: skip
        rec.pop("tlsDetails", None)
        if not success:
            rec["errorMessage"] = "Failed authentication"
        self._add(rec, synthetic=True, note="console sign-in")
        return rec

    def _base(self, ident: Json, actor: Actor, source: str, name: str, region: str, wire_agent: str) -> Json:
        agent = actor.user_agent if actor.user_agent is not None else wire_agent
        if actor.stamp and actor.stamp not in agent:
            agent = f"{agent} {actor.stamp}".strip()
        ident = json.loads(json.dumps(ident))
        rec: Json = {"eventVersion": EVENT_VERSION, "userIdentity": ident, "eventTime": _ts(self.clock()),
                     "eventSource": source, "eventName": name, "awsRegion": region,
                     "sourceIPAddress": actor.invoked_by or actor.source_ip, "userAgent": actor.invoked_by or agent,
                     "eventID": str(uuid.uuid4()), "eventType": "AwsApiCall", "managementEvent": True,
                     "recipientAccountId": ident.get("accountId", ""), "eventCategory": "Management",
                     "tlsDetails": {**_TLS, "clientProvidedHostHeader": _host(source, region)}}  # fmt: skip
        if actor.invoked_by:
            rec["userIdentity"]["invokedBy"] = actor.invoked_by
        if actor.console and name != "ConsoleLogin":
            rec["sessionCredentialFromConsole"] = "true"
        return rec

    @staticmethod
    def _data_event(rec: Json, model: OperationModel, params: Json) -> None:
        if not shape.is_data_event(model):
            return
        rec.update(managementEvent=False, eventCategory="Data", readOnly=shape.read_only(model.name))
        bucket = params.get("Bucket")
        if bucket:
            res = [
                {
                    "type": "AWS::S3::Bucket",
                    "ARN": f"arn:aws:s3:::{bucket}",
                    "accountId": rec["recipientAccountId"],
                }
            ]
            if params.get("Key"):
                res.insert(0, {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{params['Key']}"})
            rec["resources"] = res
        if params.get("SSECustomerAlgorithm"):
            rec["additionalEventData"] = {"SSEApplied": "SSE_C", "x-amz-id-2": secrets.token_hex(16)}

    def _learn(self, ident: Json, name: str, params: Json, parsed: Json, rec: Json) -> None:
        """Credentials a call hands out become identities of their own."""
        if "errorCode" in rec:
            return
        creds = parsed.get("Credentials") or {}
        key = creds.get("AccessKeyId")
        if name == "AssumeRole" and key:
            role = str(params["RoleArn"])
            acct = role.split(":")[4]
            rec["recipientAccountId"] = acct
            rec["resources"] = [{"ARN": role, "accountId": acct, "type": "AWS::IAM::Role"}]
            self.identities[key] = role_identity(role, str(params["RoleSessionName"]), key, _ts(self.clock()),
                                                 mfa="SerialNumber" in params)  # fmt: skip
        elif name == "GetFederationToken" and key:
            self.identities[key] = federated_identity(ident, str(params["Name"]), key, _ts(self.clock()))
        elif name == "GetSessionToken" and key:
            sess = {**json.loads(json.dumps(ident)), "accessKeyId": key}
            sess["sessionContext"] = {"attributes": {"creationDate": _ts(self.clock()),
                                                     "mfaAuthenticated": str("SerialNumber" in params).lower()}}  # fmt: skip
            self.identities[key] = sess
        elif name == "CreateAccessKey":
            made = parsed.get("AccessKey") or {}
            if made.get("AccessKeyId"):
                user = str(made.get("UserName") or ident.get("userName"))
                self.register_user(str(made["AccessKeyId"]), str(ident["accountId"]), user)

    def _add(self, rec: Json, synthetic: bool, note: str = "") -> None:
        with self._lock:
            self.records.append(rec)
            self.log.append(LogEntry(rec["eventID"], rec["eventTime"], rec["eventName"], rec["eventSource"],
                                     rec["recipientAccountId"], rec["awsRegion"], rec["userIdentity"].get("arn", ""),
                                     rec.get("errorCode"), synthetic, note, time.time()))  # fmt: skip

    # -- delivery ----------------------------------------------------------------------------
    def flush(self, archive: boto3.Session, bucket: str, queue_url: str | None = None,
              queue_session: boto3.Session | None = None) -> list[str]:  # fmt: skip
        """Deliver and forget the records so far: one trail file per account, region and minute
        (as CloudTrail delivers), and management events on the live queue."""
        with self._lock:
            records, self.records = self.records, []
        keys = [self._deliver_file(archive, bucket, acct, region, recs)
                for (acct, region), recs in _by_account_region(records).items()]  # fmt: skip
        if queue_url and queue_session is not None:
            send_events(queue_session, queue_url, records)
        return keys

    def _deliver_file(
        self, archive: boto3.Session, bucket: str, acct: str, region: str, recs: list[Json]
    ) -> str:
        now = self.clock()
        key = (f"AWSLogs/{self.org_id}/{acct}/CloudTrail/{region}/{now:%Y/%m/%d}/"
               f"{acct}_CloudTrail_{region}_{now:%Y%m%dT%H%MZ}_{secrets.token_hex(8)}.json.gz")  # fmt: skip
        body = gzip.compress(json.dumps({"Records": recs}, separators=(",", ":")).encode(), 6)
        client("s3", session=archive).put_object(Bucket=bucket, Key=key, Body=body)
        return key


def send_events(session: boto3.Session, queue_url: str, records: list[Json]) -> int:
    """Management events as EventBridge delivers them to an SQS target."""
    sqs = client("sqs", session=session)
    entries = [{"Id": str(i), "MessageBody": json.dumps(eventbridge(r))}
               for i, r in enumerate(r for r in records if r.get("managementEvent", True))]  # fmt: skip
    for start in range(0, len(entries), 10):
        sqs.send_message_batch(QueueUrl=queue_url, Entries=entries[start : start + 10])
    return len(entries)


def eventbridge(rec: Json) -> Json:
    detail_type = ("AWS Console Sign In via CloudTrail" if rec.get("eventType") == "AwsConsoleSignIn"
                   else "AWS API Call via CloudTrail")  # fmt: skip
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": detail_type,
            "source": "aws." + rec["eventSource"].split(".")[0], "account": rec["recipientAccountId"],
            "time": rec["eventTime"], "region": rec["awsRegion"], "resources": [], "detail": rec}  # fmt: skip


def _by_account_region(records: list[Json]) -> dict[tuple[str, str], list[Json]]:
    out: dict[tuple[str, str], list[Json]] = {}
    for r in records:
        out.setdefault((r["recipientAccountId"], r["awsRegion"]), []).append(r)
    return out


def _ts(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_HOSTS = {"ses": "email", "bedrock": "bedrock-runtime"}  # event source -> endpoint name


def _host(source: str, region: str) -> str:
    service = source.removesuffix(".amazonaws.com")
    service = _HOSTS.get(service, service)
    return f"{service}.amazonaws.com" if region == "us-east-1" and service in ("iam", "sts") else \
        f"{service}.{region}.amazonaws.com"  # fmt: skip


def _unique_id(prefix: str, seed: str) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    digest = hashlib.sha256(seed.encode()).digest()
    return prefix + "".join(alphabet[b % 32] for b in digest[:17])


def user_identity(account: str, user: str, access_key: str) -> Json:
    return {"type": "IAMUser", "principalId": _unique_id("AIDA", f"{account}/{user}"),
            "arn": f"arn:aws:iam::{account}:user/{user}", "accountId": account, "accessKeyId": access_key,
            "userName": user}  # fmt: skip


def role_identity(role_arn: str, session_name: str, access_key: str, created: str, mfa: bool = False) -> Json:
    acct = role_arn.split(":")[4]
    role_name = role_arn.rsplit("/", 1)[-1]
    role_id = _unique_id("AROA", role_arn)
    return {"type": "AssumedRole", "principalId": f"{role_id}:{session_name}",
            "arn": f"arn:aws:sts::{acct}:assumed-role/{role_name}/{session_name}", "accountId": acct,
            "accessKeyId": access_key,
            "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": role_id, "arn": role_arn,
                                                 "accountId": acct, "userName": role_name},
                               "attributes": {"creationDate": created, "mfaAuthenticated": str(mfa).lower()}}}  # fmt: skip


def federated_identity(issuer: Json, name: str, access_key: str, created: str) -> Json:
    acct = str(issuer["accountId"])
    return {"type": "FederatedUser", "principalId": f"{acct}:{name}",
            "arn": f"arn:aws:sts::{acct}:federated-user/{name}", "accountId": acct, "accessKeyId": access_key,
            "sessionContext": {"sessionIssuer": {"type": "IAMUser", "principalId": issuer.get("principalId"),
                                                 "arn": issuer.get("arn"), "accountId": acct,
                                                 "userName": issuer.get("userName")},
                               "attributes": {"creationDate": created, "mfaAuthenticated": "false"}}}  # fmt: skip
