"""Benign activity in the workload accounts, made as real calls through the recorder, so that
detections are always judged against the noise an organization makes: CI/CD deploys, applications
reading their data and secrets, administrators in the console, scheduled jobs, and the occasional
AccessDenied of a developer reaching too far."""

from __future__ import annotations

import io
import random
import time
import zipfile
from collections import Counter
from collections.abc import Callable

import boto3
from botocore.exceptions import ClientError

from cloudsoc.aws.recorder import Actor
from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx

_CLI = ("aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0-1017-aws md/arch#x86_64 lang/python#3.12.6 "
        "md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 md/prompt#off")  # fmt: skip
_CONSOLE = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"
_CI_IP, _OFFICE_IP, _JOB_IP = "20.42.65.92", "198.51.100.24", "10.10.1.15"


class Background:
    """One workload account's regulars. ``step`` makes one action of a randomly chosen persona."""

    def __init__(self, ctx: Ctx, seed: int = 1) -> None:
        self.ctx = ctx
        self.random = random.Random(seed)
        self._sessions: dict[str, boto3.Session] = {}
        self.personas: list[tuple[float, Callable[[], None]]] = [
            (0.35, self.application), (0.2, self.ci_deploy), (0.2, self.administrator),
            (0.15, self.scheduled_job), (0.1, self.developer_denied),
        ]  # fmt: skip

    def step(self) -> str:
        """One action of a persona chosen by weight; returns the persona's name."""
        action = self.random.choices([a for _, a in self.personas], [w for w, _ in self.personas])[0]
        try:
            action()
        except ClientError:  # recorded like any failed call; a regular's day goes on
            return f"{action.__name__} (failed)"
        return action.__name__

    def _session(self, name: str, make: Callable[[], boto3.Session]) -> boto3.Session:
        if name not in self._sessions:
            with self.ctx.recorder.paused():
                self._sessions[name] = make()
        return self._sessions[name]

    # -- personas ----------------------------------------------------------------------------
    def application(self) -> None:
        """The web tier's instance role reads customer data, its database secret and its settings."""
        actor = Actor(self.ctx.res.get("web_private_ip", "10.10.1.20"), "Boto3/1.35.0 md/Botocore#1.35.0 ua/2.0 "
                      "os/linux#5.10.223-211.872.amzn2.x86_64 lang/python#3.9.16 cfg/retry-mode#legacy Botocore/1.35.0")  # fmt: skip
        sess = self._session("app", lambda: self.ctx.instance_role(actor=actor))
        res = self.ctx.res
        choice = self.random.random()
        if choice < 0.5:
            client("s3", session=sess).get_object(Bucket=res["buckets"]["customer-data"], Key="customers.csv")
        elif choice < 0.8:
            client("secretsmanager", session=sess).get_secret_value(SecretId=res["secrets"][0])
        else:
            client("ssm", session=sess).get_parameter(Name=res["parameters"][1], WithDecryption=True)

    def ci_deploy(self) -> None:
        """The pipeline's user assumes the deployer role, uploads an artifact and ships the function."""
        ci = self._session("ci-user", lambda: self.ctx.key_session("svc-deploy", actor=Actor(_CI_IP, _CLI)))
        role = self._session("ci-role", lambda: self.ctx.assume(ci, "cicd-deployer", "github-actions",
                                                                actor=Actor(_CI_IP, _CLI)))  # fmt: skip
        res = self.ctx.res
        version = f"1.4.{self.random.randint(3, 99)}"
        key = f"releases/app-{version}.zip"
        client("s3", session=role).put_object(Bucket=res["buckets"]["artifacts"], Key=key, Body=_zip(version))
        if self.random.random() < 0.3:  # ships the artifact it just uploaded
            client("lambda", session=role).update_function_code(FunctionName=res["function"],
                                                                S3Bucket=res["buckets"]["artifacts"], S3Key=key)  # fmt: skip
        else:
            client("ec2", session=role).describe_instances()

    def administrator(self) -> None:
        """An administrator in the console (signed in through SSO, MFA on) looks around."""
        console = Actor(_OFFICE_IP, _CONSOLE, console=True)
        admin = self._session("admin", lambda: self.ctx.assume(self.ctx.admin(), "PlatformAdmin", "alice.admin@example.com",
                                                               actor=console))  # fmt: skip
        look: Callable[[], object] = self.random.choice([
            lambda: client("ec2", session=admin).describe_instances(),
            lambda: client("ec2", session=admin).describe_security_groups(),
            lambda: client("s3", session=admin).list_buckets(),
            lambda: client("iam", session=admin).list_users(),
            lambda: client("cloudtrail", session=admin).describe_trails(),
            lambda: client("guardduty", session=admin).list_detectors(),
        ])  # fmt: skip
        look()

    def scheduled_job(self) -> None:
        """The nightly backup job snapshots the data volume and prunes the previous snapshot."""
        job = self._session("job", lambda: self.ctx.key_session("svc-backup", actor=Actor(_JOB_IP, _CLI)))
        ec2 = client("ec2", session=job)
        ec2.describe_volumes()
        snap = ec2.create_snapshot(VolumeId=self.ctx.res["data_volume"], Description="nightly backup")[
            "SnapshotId"
        ]
        ec2.delete_snapshot(SnapshotId=snap)

    def developer_denied(self) -> None:
        """A developer's read-only job reaches for something its policy does not allow."""
        job = self._session("job", lambda: self.ctx.key_session("svc-backup", actor=Actor(_JOB_IP, _CLI)))
        service, op = self.random.choice([("iam", "ListRoles"), ("secretsmanager", "GetSecretValue"),
                                          ("s3", "GetBucketPolicy"), ("kms", "Decrypt")])  # fmt: skip
        params = {"SecretId": self.ctx.res["secrets"][1]} if op == "GetSecretValue" else {}
        if op == "GetBucketPolicy":
            params = {"Bucket": self.ctx.res["buckets"]["customer-data"]}
        if op == "Decrypt":
            params = {"CiphertextBlob": b"\x01\x02"}
        self.ctx.denied(job, service, op, params)


def _zip(version: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("handler.py", f"VERSION = {version!r}\ndef handler(event, context):\n    return VERSION\n")
    return buf.getvalue()


def background(contexts: list[Ctx], actions: int, rate: float = 0.0, seed: int = 1) -> Counter[str]:
    """Spread ``actions`` over the accounts' regulars, at most ``rate`` per second when given, and
    deliver their CloudTrail; returns the actions made per persona."""
    done: Counter[str] = Counter()
    regulars = [Background(c, seed + i) for i, c in enumerate(contexts)]
    for i in range(actions):
        started = time.monotonic()
        done[regulars[i % len(regulars)].step()] += 1
        if rate > 0:
            time.sleep(max(0.0, 1 / rate - (time.monotonic() - started)))
    for c in contexts:
        c.flush()
    return done
