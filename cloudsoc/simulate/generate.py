"""A fast, deterministic generator of one day of CloudTrail activity for a multi-account organization.

Files are laid out exactly as an organization trail delivers them to S3::

    AWSLogs/<org-id>/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<time>_<rand>.json.gz
    AWSLogs/<org-id>/<account>/CloudTrail-Digest/<region>/YYYY/MM/DD/<account>_CloudTrail-Digest_...json.gz

Records come from the templates in ``catalog``. The day is cut into one stream per account and region,
each stream into delivery slices (5 minutes, wider when a stream is too quiet to put about 50 records
in a file; busy slices are split into files of at most 1000 records), and every slice is generated
from its own ``random.Random`` seeded with the seed, the account, the region and the slice: the output
is byte-identical for the same arguments whatever the number of workers.

``events`` is the exact number of records written. It includes the scripted benign look-alikes of the
attacks and, with ``attacks=True``, the intrusion campaign; the rest is background activity.

    python -m cloudsoc.simulate.generate OUT_DIR --events 1000000 --workers 2
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import math
import multiprocessing
import re
import sys
from bisect import bisect
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from random import Random

import orjson

from cloudsoc.core.errors import ConfigError
from cloudsoc.simulate import catalog as cat
from cloudsoc.simulate.catalog import CATALOG, HOME_REGION, SERVICES, Api, Call, Ctx, Json, Principal

GZIP_LEVEL = 6
MAX_PER_FILE = 1000
MIN_PER_FILE = 50
WIDTHS = (5, 10, 15, 20, 30, 60, 120, 240, 480, 1440)  # minutes per delivery slice
BIN = 300  # seconds: resolution of the activity curve
HUMAN_SHARE = 0.35  # of the background made by people (the rest by machines)
TASK_EVENTS = 25_000  # background records per worker task
VARIANTS = 6  # precomputed variants of every static API template per account and region
_UUID_CLEAR = ~((0xF << 76) | (0x3 << 62)) & ((1 << 128) - 1)
_UUID_SET = (0x4 << 76) | (0x2 << 62)


@dataclass
class GenerateResult:
    files: int  # CloudTrail log files (digest files are counted in ``digests``)
    events: int  # records written: background + benign look-alikes + attack campaign
    bytes: int  # compressed size of the log files
    attacks: list[dict[str, str]] = field(default_factory=list)  # name, account_id, event_id, event_name
    digests: int = 0
    json_bytes: int = 0  # uncompressed JSON size of the log files
    accounts: list[str] = field(default_factory=list)  # the organization's account ids


# ------------------------------------------------------------------------------------------ the org


@dataclass(frozen=True)
class Account:
    id: str
    env: str
    weight: float


@dataclass(frozen=True)
class Org:
    seed: int
    day: date
    org_id: str
    accounts: tuple[Account, ...]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(a.id for a in self.accounts)


def make_org(seed: int, accounts: int, day: date, org_id: str) -> Org:
    """Account ids (12 digits) and roles from the seed; the first account is the management account."""
    r = Random(f"{seed}:accounts")
    ids: list[str] = []
    while len(ids) < accounts:
        candidate = str(r.randrange(10**11, 10**12))
        if candidate not in ids and candidate != cat.OUTSIDE_ACCOUNT:
            ids.append(candidate)
    profiles = [
        cat.PROFILES[i] if i < len(cat.PROFILES) else (f"workload{i:02d}", 0.08) for i in range(accounts)
    ]
    total = sum(w for _, w in profiles)
    found = (Account(i, env, w / total) for i, (env, w) in zip(ids, profiles, strict=True))
    return Org(seed, day, org_id, tuple(found))


# ----------------------------------------------------------------------------------------- identities


def user_identity(account: str, user: str, key: str = "") -> Json:
    pid = cat.upper_id(Random(f"aida:{account}:{user}"), "AIDA", 17)
    ident: Json = {"type": "IAMUser", "principalId": pid, "arn": f"arn:aws:iam::{account}:user/{user}"}
    ident["accountId"] = account
    if key:
        ident["accessKeyId"] = key
    ident["userName"] = user
    return ident


def console_user_identity(account: str, user: str, key: str, created: str, mfa: bool = True) -> Json:
    ident = user_identity(account, user, key)
    attrs = {"creationDate": created, "mfaAuthenticated": "true" if mfa else "false"}
    ident["sessionContext"] = {"sessionIssuer": {}, "webIdFederationData": {}, "attributes": attrs}
    return ident


def role_identity(account: str, role: str, session: str, key: str, created: str, path: str = "/",
                  invoked_by: str | None = None, ec2: bool = False) -> Json:  # fmt: skip
    """userIdentity of an AssumedRole session."""
    role_arn = f"arn:aws:iam::{account}:role{path}{role}"
    rid = cat.role_id(role_arn)
    issuer = {"type": "Role", "principalId": rid, "arn": role_arn, "accountId": account, "userName": role}
    attrs = {"creationDate": created, "mfaAuthenticated": "false"}
    context: Json = {"sessionIssuer": issuer, "webIdFederationData": {}, "attributes": attrs}
    if ec2:
        context["ec2RoleDelivery"] = "2.0"
    ident: Json = {"type": "AssumedRole", "principalId": f"{rid}:{session}"}
    ident.update(arn=f"arn:aws:sts::{account}:assumed-role/{role}/{session}", accountId=account)
    ident.update(accessKeyId=key, sessionContext=context)
    if invoked_by:
        ident["invokedBy"] = invoked_by
    return ident


def root_identity(account: str, key: str | None = None) -> Json:
    ident: Json = {"type": "Root", "principalId": account, "arn": f"arn:aws:iam::{account}:root"}
    ident["accountId"] = account
    if key is not None:
        ident["accessKeyId"] = key
    return ident


# ----------------------------------------------------------------------------------------- principals

_AWS_NETS = (3, 18, 34, 35, 44, 52, 54)
_ISP_NETS = (24, 67, 71, 73, 76, 81, 86, 92, 98, 108, 151, 174, 176, 188, 212, 213, 217)
_RUNNER_NETS = (4, 13, 20, 40, 52)
_SCANNER_NETS = (3, 44, 52)
SSO_PATH = "/aws-reserved/sso.amazonaws.com/"
SERVICE_LINKED = (
    ("AWSServiceRoleForConfig", "config.amazonaws.com", 3.0),
    ("AWSServiceRoleForAutoScaling", "autoscaling.amazonaws.com", 1.0),
    ("AWSServiceRoleForECS", "ecs.amazonaws.com", 1.0),
    ("AWSServiceRoleForElasticLoadBalancing", "elasticloadbalancing.amazonaws.com", 0.8),
    ("AWSServiceRoleForAmazonGuardDuty", "guardduty.amazonaws.com", 0.8),
    ("AWSServiceRoleForSecurityHub", "securityhub.amazonaws.com", 0.6),
    ("AWSServiceRoleForRDS", "rds.amazonaws.com", 0.4),
)
SERVICE_CALLERS = (
    ("lambda.amazonaws.com", 3.0),
    ("ecs-tasks.amazonaws.com", 2.0),
    ("ec2.amazonaws.com", 1.5),
    ("cloudtrail.amazonaws.com", 1.0),
    ("config.amazonaws.com", 0.8),
    ("backup.amazonaws.com", 0.3),
    ("securityhub.amazonaws.com", 0.5),
    ("events.amazonaws.com", 0.6),
)
SCANNERS = (
    ("cloudsoc-security-audit", "cloudsoc-scan", cat.BOTO[0], 2.0),
    ("DatadogIntegrationRole", "datadog-aws-integration", cat.SDKS[2], 1.0),
    ("prowler-readonly", "prowler-assessment", cat.BOTO[1], 0.4),
)
# Share of each class's calls denied for lack of permission (people explore, machines are tuned).
ERROR_RATE = {"U": 0.04, "H": 0.035, "A": 0.035, "C": 0.015, "F": 0.01, "W": 0.0, "P": 0.015, "S": 0.035}
ERROR_RATE.update({"L": 0.003, "V": 0.0})
DORMANT_USER = "deploy-legacy"  # a programmatic user with no activity of its own
RUNNER_AGENT = "aws-sdk-js/3.540.0 ua/2.0 os/linux#6.5.0-1025-azure lang/js md/nodejs#20.12.2 api/sts#3.540.0"


def _ip(r: Random, nets: tuple[int, ...]) -> str:
    return f"{r.choice(nets)}.{r.randrange(0, 256)}.{r.randrange(0, 256)}.{r.randrange(1, 255)}"


def _zipf(n: int, s: float = 0.9) -> list[float]:
    return [1.0 / (i + 1) ** s for i in range(n)]


class _People:
    """Builds the principals of one account; every random choice comes from one seeded generator."""

    def __init__(self, org: Org, idx: int) -> None:
        self.day = org.day
        self.acct = org.accounts[idx].id
        self.env = org.accounts[idx].env
        self.r = Random(f"{org.seed}:principals:{self.acct}")
        office = Random(f"{org.seed}:office")
        self.office = tuple(_ip(office, _ISP_NETS) for _ in range(3))
        self.roles: list[str] = [
            "OrganizationAccountAccessRole",
            f"{self.env}-lambda-exec",
            f"{self.env}-ecs-exec",
        ]
        self.users: list[str] = [DORMANT_USER]

    def created(self, hour: int) -> str:
        return cat.iso(self.day, hour * 3600 - self.r.randrange(60, 3000))

    def sessions(self, role: str, session: str, path: str = "/", invoked_by: str | None = None,
                 ec2: bool = False) -> tuple[Json, ...]:  # fmt: skip
        """The session identity of each hour of the day (a new session every hour)."""
        r, acct = self.r, self.acct
        return tuple(
            role_identity(
                acct, role, session, cat.upper_id(r, "ASIA"), self.created(h), path, invoked_by, ec2
            )
            for h in range(24)
        )

    def human_ips(self) -> tuple[str, ...]:
        return (self.r.choice(self.office), *(_ip(self.r, _ISP_NETS) for _ in range(self.r.randint(1, 2))))

    def iam_humans(self) -> list[Principal]:
        r, acct = self.r, self.acct
        names = sorted({f"{r.choice(cat.FIRST)}.{r.choice(cat.LAST)}" for _ in range(r.randint(6, 12))})
        self.users += names
        out = []
        for name, w in zip(names, _zipf(len(names)), strict=True):
            ident = user_identity(acct, name, cat.upper_id(r, "AKIA"))
            console = tuple(
                console_user_identity(acct, name, cat.upper_id(r, "ASIA"), self.created(h)) for h in range(24)
            )
            agents = (r.choice(cat.CLI), r.choice(cat.BOTO))
            out.append(Principal("U", name, ident["arn"], w, (ident,) * 24, self.human_ips(), agents, console,
                                 0.45, r.randrange(2), user=name, login=user_identity(acct, name)))  # fmt: skip
        return out

    def sso(self) -> list[Principal]:
        r = self.r
        out = []
        for perm, cls, n in (
            ("ReadOnlyAccess", "H", 5),
            ("PowerUserAccess", "H", 4),
            ("AdministratorAccess", "A", 3),
        ):
            role = f"AWSReservedSSO_{perm}_{cat.hexs(r, 16)}"
            self.roles.append(role)
            for i in range(n):
                email = f"{r.choice(cat.FIRST)}.{r.choice(cat.LAST)}@{cat.EMAIL_DOMAIN}"
                idents = self.sessions(role, email, SSO_PATH)
                agents = (r.choice(cat.CLI), r.choice(cat.BOTO))
                out.append(Principal(cls, email, idents[0]["arn"], 1.0 / (i + 1), idents, self.human_ips(),
                                     agents, idents, 0.6, r.randrange(2)))  # fmt: skip
        return out

    def ci(self) -> list[Principal]:
        r, acct = self.r, self.acct
        self.roles.append("ci-deploy")
        idents = self.sessions("ci-deploy", "GitHubActions")
        runners = tuple(_ip(r, _RUNNER_NETS) for _ in range(4))
        agents = (cat.CLI[0], cat.BOTO[0], *cat.TERRAFORM)
        out = [Principal("C", "ci-deploy", idents[0]["arn"], 3.0, idents, runners, agents)]
        for user, agent, w in (("terraform", cat.TERRAFORM, 1.5), ("svc-jenkins", (cat.CLI[0],), 0.7)):
            ident = user_identity(acct, user, cat.upper_id(r, "AKIA"))
            ips = (r.choice(self.office),)
            out.append(Principal("C", user, ident["arn"], w, (ident,) * 24, ips, agent, user=user))
            self.users.append(user)
        return out

    def app_roles(self) -> list[Principal]:
        r, env = self.r, self.env
        out = []
        for app, w in zip(cat.account_apps(self.acct), _zipf(6, 0.7), strict=True):
            kind = r.choice(("ec2", "ecs", "ecs", "lambda"))
            role = f"{env}-{app}-{kind}-role"
            self.roles.append(role)
            session = {
                "ec2": "i-0" + cat.hexs(r, 16),
                "ecs": cat.hexs(r, 32),
                "lambda": f"{env}-{app}-handler",
            }[kind]
            idents = self.sessions(role, session, ec2=kind == "ec2")
            vpce = "vpce-0" + cat.hexs(r, 16) if env in ("prod", "data") and r.random() < 0.5 else None
            agent = r.choice(cat.SDKS) if kind != "lambda" else cat.BOTO[0]
            private = tuple(
                f"10.{r.randrange(40)}.{r.randrange(256)}.{r.randrange(4, 250)}" for _ in range(3)
            )
            out.append(Principal("P", role, idents[0]["arn"], w, idents, (_ip(r, _AWS_NETS), _ip(r, _AWS_NETS)),
                                 (agent,), tls=r.randrange(2), vpce=vpce, private_ips=private))  # fmt: skip
        for user, agent in (("legacy-uploader", cat.SDKS[2]), ("backup-agent", cat.CLI[0])):
            ident = user_identity(self.acct, user, cat.upper_id(r, "AKIA"))
            ips = (_ip(r, _AWS_NETS),)
            out.append(Principal("P", user, ident["arn"], 0.6, (ident,) * 24, ips, (agent,), user=user))
            self.users.append(user)
        return out

    def scanners(self) -> list[Principal]:
        out = []
        for role, session, agent, w in SCANNERS:
            self.roles.append(role)
            idents = self.sessions(role, session)
            ips = (_ip(self.r, _SCANNER_NETS),)
            out.append(Principal("S", role, idents[0]["arn"], w, idents, ips, (agent,)))
        return out

    def linked(self) -> list[Principal]:
        out = []
        for role, host, w in SERVICE_LINKED:
            self.roles.append(role)
            session = host.split(".")[0].capitalize() + "Session"
            idents = self.sessions(role, session, f"/aws-service-role/{host}/", host)
            ips = (host, host, "AWS Internal")
            out.append(Principal("L", role, idents[0]["arn"], w, idents, ips, (host,), service=host))
        return out

    def services(self, apps: list[Principal]) -> list[Principal]:
        out = []
        for host, w in SERVICE_CALLERS:
            kind = host.split(".")[0].replace("ecs-tasks", "ecs")
            roles = (
                p.arn.split("/")[1]
                for p in apps
                if p.arn.startswith("arn:aws:sts") and f"-{kind}-role/" in p.arn
            )
            targets = tuple(f"arn:aws:iam::{self.acct}:role/{role}" for role in roles)
            ident = {"type": "AWSService", "invokedBy": host}
            p = Principal("V", host, host, w, (ident,) * 24, (host,), (host,), service=host, targets=targets)
            out.append(p)
        return out

    def federated(self) -> list[Principal]:
        r, acct, name = self.r, self.acct, "partner-upload"
        self.users.append("s3-broker")
        issuer = {k: v for k, v in user_identity(acct, "s3-broker").items() if k != "type"}
        issuer = {"type": "IAMUser", **issuer}
        idents = []
        for h in range(24):
            attrs = {"creationDate": self.created(h), "mfaAuthenticated": "false"}
            ident: Json = {"type": "FederatedUser", "principalId": f"{acct}:{name}"}
            ident.update(arn=f"arn:aws:sts::{acct}:federated-user/{name}", accountId=acct)
            ident["accessKeyId"] = cat.upper_id(r, "ASIA")
            ident["sessionContext"] = {
                "sessionIssuer": issuer,
                "webIdFederationData": {},
                "attributes": attrs,
            }
            idents.append(ident)
        ips = (_ip(r, _ISP_NETS),)
        return [Principal("F", name, idents[0]["arn"], 1.0, tuple(idents), ips, (cat.SDKS[0],))]

    def web(self) -> list[Principal]:
        provider = f"arn:aws:iam::{self.acct}:oidc-provider/token.actions.githubusercontent.com"
        sub = f"repo:{cat.ORG_NAME}/{cat.account_apps(self.acct)[0]}-service:ref:refs/heads/main"
        ident = {
            "type": "WebIdentityUser",
            "principalId": f"{provider}:sts.amazonaws.com:{sub}",
            "userName": sub,
        }
        ident["identityProvider"] = provider
        role = (f"arn:aws:iam::{self.acct}:role/ci-deploy",)
        ips = tuple(_ip(self.r, _RUNNER_NETS) for _ in range(4))
        return [Principal("W", sub, provider, 1.0, (ident,) * 24, ips, (RUNNER_AGENT,), targets=role)]


@lru_cache(maxsize=64)
def principals(org: Org, idx: int) -> tuple[tuple[Principal, ...], tuple[str, ...], tuple[str, ...]]:
    """The principals of one account, and its IAM role and user names."""
    b = _People(org, idx)
    apps = b.app_roles()
    found = [
        *b.iam_humans(),
        *b.sso(),
        *b.ci(),
        *apps,
        *b.scanners(),
        *b.linked(),
        *b.services(apps),
        *b.web(),
    ]
    if org.accounts[idx].env in ("prod", "data"):
        found += b.federated()
    for p in found:
        p.err_rate = ERROR_RATE[p.cls]
    return tuple(found), tuple(b.roles), tuple(b.users)


def make_ctx(org: Org, idx: int, region: str) -> Ctx:
    _, roles, users = principals(org, idx)
    acct = org.accounts[idx]
    return cat.make_ctx(org.day, org.org_id, acct.id, acct.env, region, org.ids, (roles, users))


# ---------------------------------------------------------------------------------------------- plans

# Which AWS services (by invokedBy host prefix) make a given call as AWSService or service-linked role.
AFFINITY: dict[str, tuple[str, ...]] = {
    "AssumeRole": ("lambda", "ecs-tasks", "ec2", "events"),
    "GetBucketAcl": ("cloudtrail", "config"),
    "Decrypt": ("ec2",),
    "GenerateDataKey": ("cloudtrail",),
    "Invoke": ("events",),
    "CreateSnapshot": ("backup",),
    "CreateDBSnapshot": ("backup",),
    "DescribeSnapshots": ("backup",),
    "DescribeDBSnapshots": ("backup",),
    "BatchImportFindings": ("securityhub",),
    "RotateKey": ("events",),
    "PutEvaluations": ("config",),
    "CreateNetworkInterface": ("ecs", "rds", "elasticloadbalancing"),
    "DeleteNetworkInterface": ("ecs", "rds", "elasticloadbalancing"),
    "RegisterTargets": ("ecs",),
    "DeregisterTargets": ("ecs",),
    "RunInstances": ("autoscaling",),
    "TerminateInstances": ("autoscaling",),
    "autoscaling": ("autoscaling",),
    "elasticloadbalancing": ("ecs", "config", "elasticloadbalancing"),
    "ecr": ("ecs",),
    "rds": ("rds", "config"),
    "logs": ("ecs", "rds", "config"),
    "ecs": ("ecs", "config"),
    "ec2": ("config", "guardduty", "autoscaling", "elasticloadbalancing", "securityhub"),
}
# How busy each class of principal is relative to the catalog weights.
CLASS_BOOST = {"U": 2.5, "V": 2.0, "S": 0.6, "L": 1.3}
# userAgent of calls made by agents running on instances and containers.
AGENT_FOR = {
    "UpdateInstanceInformation": cat.SSM_AGENT,
    "ListInstanceAssociations": cat.SSM_AGENT,
    "DiscoverPollEndpoint": cat.ECS_AGENT,
}


@dataclass
class Combo:
    """One API called by one class of principal: the principals and precomputed calls to pick from."""

    api: Api
    members: list[Principal]
    pcum: list[float]
    variants: list[Call] | None  # None: the API's dyn builder runs per record
    read_only: bool
    agent: str | None
    cli: str  # suffix of aws-cli user agents: "command/<service>.<operation>"
    endpoint: str
    s3: bool


@dataclass
class Table:
    combos: list[Combo] = field(default_factory=list)
    cum: list[float] = field(default_factory=list)

    def add(self, combo: Combo, weight: float) -> None:
        self.combos.append(combo)
        self.cum.append((self.cum[-1] if self.cum else 0.0) + weight)


@dataclass
class Plan:
    ctx: Ctx
    region: str
    human: Table
    machine: Table
    times: list[str]
    hfrac: tuple[float, ...]
    tls: dict[tuple[str, int], Json] = field(default_factory=dict)


def cli_command(api: Api) -> str:
    """The ``<service>.<operation>`` aws-cli v2 puts at the end of its user agent."""
    name = re.sub(r"\d{8}(v\d)?$", "", api.name)  # Lambda's versioned names: ListFunctions20150331
    kebab = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", name).lower()
    svc = {"monitoring": "cloudwatch", "s3": "s3api", "elasticloadbalancing": "elbv2"}.get(
        api.source, api.source
    )
    return f"{svc}.{kebab}"


def _split(who: str) -> list[tuple[str, float]]:
    """The share of an API's calls made by each class of principal: the first listed makes half."""
    if len(who) == 1:
        return [(who, 1.0)]
    rest = 0.5 / (len(who) - 1)
    return [(cls, 0.5 if i == 0 else rest) for i, cls in enumerate(who)]


def _members(api: Api, cls: str, pool: list[Principal]) -> list[Principal]:
    wanted = (AFFINITY.get(api.name) or AFFINITY.get(api.source)) if cls in "VL" else None
    if not wanted:
        return pool
    return [p for p in pool if (p.service or "").split(".")[0] in wanted]


def _variants(api: Api, ctx: Ctx, r: Random) -> list[Call] | None:
    if api.dyn is not None:
        return None
    return [cat.request(api, ctx, r) for _ in range(VARIANTS if (api.build or api.req) else 1)]


def make_combo(api: Api, members: list[Principal], ctx: Ctx, variants: list[Call] | None) -> Combo:
    pcum, total = [], 0.0
    for p in members:
        total += p.weight
        pcum.append(total)
    endpoint = SERVICES[api.source].endpoint.format(region=ctx.region)
    return Combo(api, members, pcum, variants, api.is_read, AGENT_FOR.get(api.name), cli_command(api), endpoint,
                 api.source == "s3")  # fmt: skip


@lru_cache(maxsize=1)
def _times(day: date) -> list[str]:
    return [cat.iso(day, s) for s in range(86400)]


@lru_cache(maxsize=64)
def plan(org: Org, idx: int, region: str) -> Plan:
    """Everything precomputed to generate the records of one account in one region."""
    ctx = make_ctx(org, idx, region)
    r = Random(f"{org.seed}:plan:{ctx.account}:{region}")
    pools: dict[str, list[Principal]] = defaultdict(list)
    for p in principals(org, idx)[0]:
        pools[p.cls].append(p)
    human, machine = Table(), Table()
    for api in CATALOG:
        if (SERVICES[api.source].global_ and region != HOME_REGION) or (api.mgmt_only and idx != 0):
            continue
        variants = _variants(api, ctx, r)
        for cls, share in _split(api.who):
            members = _members(api, cls, pools.get(cls, []))
            if members:
                table = human if cls in cat.HUMAN_CLASSES else machine
                table.add(
                    make_combo(api, members, ctx, variants), api.weight * share * CLASS_BOOST.get(cls, 1.0)
                )
    return Plan(ctx, region, human, machine, _times(org.day), curve()[1])


def _bump(h: float, center: float, width: float) -> float:
    return math.exp(-(((h - center) / width) ** 2))


@lru_cache(maxsize=1)
def curve() -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Relative activity of each 5-minute bin of the day (UTC), and the share of it made by people."""
    hours = [(b + 0.5) * BIN / 3600 for b in range(86400 // BIN)]
    human = [0.04 + _bump(h, 16.5, 3.2) + 0.45 * _bump(h, 10.5, 2.2) for h in hours]  # US and EU office hours
    machine = [1.0 + 0.25 * _bump(h, 2.5, 1.2) + 0.3 * x for h, x in zip(hours, human, strict=True)]
    hs, ms = sum(human), sum(machine)
    total = [HUMAN_SHARE * x / hs + (1 - HUMAN_SHARE) * m / ms for x, m in zip(human, machine, strict=True)]
    frac = tuple(HUMAN_SHARE * x / hs / t for x, t in zip(human, total, strict=True))
    return tuple(total), frac


# --------------------------------------------------------------------------------------------- records


def uuid4(r: Random) -> str:
    h = f"{r.getrandbits(128) & _UUID_CLEAR | _UUID_SET:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _tls(plan: Plan, host: str, i: int) -> Json:
    found = plan.tls.get((host, i))
    if found is None:
        version = "TLSv1.3" if i == 0 else "TLSv1.2"
        found = {"tlsVersion": version, "cipherSuite": cat.CIPHERS[i], "clientProvidedHostHeader": host}
        plan.tls[(host, i)] = found
    return found


def background(plan: Plan, r: Random, sec: int) -> Json:
    """One record of ordinary activity at ``sec`` seconds into the day."""
    rnd = r.random
    table = plan.human if rnd() < plan.hfrac[sec // BIN] else plan.machine
    if not table.combos:
        table = plan.machine if table is plan.human else plan.human
    combo = table.combos[bisect(table.cum, rnd() * table.cum[-1])]
    members = combo.members
    p = members[bisect(combo.pcum, rnd() * combo.pcum[-1])] if len(members) > 1 else members[0]
    if combo.variants is not None:
        call = combo.variants[int(rnd() * len(combo.variants))]
    else:
        assert combo.api.dyn is not None
        call = combo.api.dyn(plan.ctx, r, p, sec)
    return compose(plan, r, sec, combo, p, call)


def _source(r: Random, p: Principal, combo: Combo, call: Call, console: bool) -> tuple[str, str, bool]:
    """sourceIPAddress, userAgent, and whether the call went through a VPC endpoint."""
    rnd = r.random
    vpce = p.vpce is not None and combo.api.source in cat.VPCE_SERVICES
    if call.ip:
        ip = call.ip
    elif vpce:
        ip = p.private_ips[int(rnd() * len(p.private_ips))]
    else:
        ip = p.ips[int(rnd() * len(p.ips))]
    agent = call.agent or combo.agent
    if agent is None:
        agents = cat.CONSOLE if console else p.agents
        agent = agents[int(rnd() * len(agents))]
        if agent[-1] == "/":
            agent += combo.cli
    return ip, agent, vpce


def _error(r: Random, p: Principal, api: Api, call: Call) -> tuple[str | None, str] | None:
    if call.error is not None or call.etype is not None:
        return call.error
    x = r.random()
    if api.err is not None and x < api.err[2]:
        return api.err[0], api.err[1]
    if x > 1.0 - p.err_rate:
        return cat.denied(api.source, api.name, p.arn)
    return None


def compose(plan: Plan, r: Random, sec: int, combo: Combo, p: Principal, call: Call) -> Json:
    """The record, with its fields in the order CloudTrail writes them."""
    api, svc = combo.api, SERVICES[combo.api.source]
    console = call.identity is None and p.console is not None and r.random() < p.console_share
    ident = call.identity or (p.console if console and p.console else p.idents)[sec // 3600]
    ip, agent, vpce = _source(r, p, combo, call, console)
    err = _error(r, p, api, call)
    rec: Json = {"eventVersion": svc.version, "userIdentity": ident, "eventTime": plan.times[sec]}
    rec.update(
        eventSource=svc.host, eventName=api.name, awsRegion=plan.region, sourceIPAddress=ip, userAgent=agent
    )
    if err is not None:
        if err[0]:
            rec["errorCode"] = err[0]
        if err[1]:
            rec["errorMessage"] = err[1]
    rec["requestParameters"] = call.req
    rec["responseElements"] = call.resp if err is None or call.error is not None else None
    if call.extra is not None:
        rec["additionalEventData"] = call.extra
    rec["requestID"] = f"{r.getrandbits(64):016X}" if combo.s3 else uuid4(r)
    rec.update(eventID=uuid4(r), readOnly=combo.read_only)
    if call.resources is not None:
        rec["resources"] = call.resources
    rec.update(
        eventType=call.etype or "AwsApiCall",
        managementEvent=not api.data,
        recipientAccountId=plan.ctx.account,
    )
    if vpce:
        rec.update(vpcEndpointId=p.vpce, vpcEndpointAccountId=plan.ctx.account)
    rec["eventCategory"] = "Data" if api.data else "Management"
    if p.service is None and call.etype != "AwsServiceEvent":
        rec["tlsDetails"] = _tls(plan, call.host or combo.endpoint, p.tls)
    if console:
        rec["sessionCredentialFromConsole"] = "true"
    return rec


# ------------------------------------------------------------------------------------ scripted events


@dataclass(frozen=True)
class Scripted:
    idx: int
    region: str
    sec: int
    record: Json
    attack: str | None  # technique name; None for a benign look-alike


def actor(ident: Json, ip: str, agent: str, console: bool = False) -> Principal:
    """A principal for scripted records: one identity, one address, one user agent, no random errors."""
    idents = (ident,) * 24
    return Principal("X", str(ident.get("arn", "")), str(ident.get("arn", "")), 1.0, idents, (ip,), (agent,),
                     idents if console else None, 1.0 if console else 0.0, err_rate=0.0)  # fmt: skip


class Script:
    """Hand-placed records; each goes through the same composer as the background."""

    def __init__(self, org: Org, tag: str) -> None:
        self.org = org
        self.r = Random(f"{org.seed}:{tag}")
        self.items: list[Scripted] = []

    def ctx(self, idx: int, region: str = HOME_REGION) -> Ctx:
        return plan(self.org, idx, region).ctx

    def add(self, idx: int, sec: int, who: Principal, source: str, name: str, call: Call,
            attack: str | None = None, region: str = HOME_REGION) -> None:  # fmt: skip
        pl = plan(self.org, idx, region)
        combo = make_combo(Api(source, name, 0.0, "X"), [who], pl.ctx, None)
        self.items.append(Scripted(idx, region, sec, compose(pl, self.r, sec, combo, who, call), attack))

    def attacks(self) -> list[dict[str, str]]:
        found = sorted((s for s in self.items if s.attack), key=lambda s: s.sec)
        return [
            {"name": s.attack or "", "account_id": s.record["recipientAccountId"], "event_id": s.record["eventID"],
             "event_name": s.record["eventName"]}
            for s in found
        ]  # fmt: skip


def _pick(org: Org, idx: int, cls: str) -> Principal:
    return next(p for p in principals(org, idx)[0] if p.cls == cls)


def _as(p: Principal, sec: int, console: bool = False, agent: str | None = None) -> Principal:
    """An existing principal making one scripted call."""
    ident = (p.console if console and p.console else p.idents)[sec // 3600]
    return actor(ident, p.ips[0], agent or p.agents[0], console)


# -------------------------------------------------------------------------------------- the intrusion

ATTACKER_IPS = ("185.220.101.47", "45.137.21.9")
KALI_CLI = "aws-cli/2.13.2 Python/3.11.4 Linux/6.5.0-kali3-amd64 exe/x86_64.kali.2023 prompt/off command/"
NEW_USER = "svc-backup-sync"
CAMPAIGN_START = 14 * 3600 + 7 * 60 + 13
# What an attacker with a leaked key tries first; most of it is denied.
PROBES = (
    ("iam", "ListUsers"), ("iam", "ListRoles"), ("s3", "ListBuckets"), ("iam", "GetAccountAuthorizationDetails"),
    ("kms", "ListKeys"), ("cloudtrail", "DescribeTrails"), ("organizations", "DescribeOrganization"),
    ("ec2", "DescribeInstances"), ("rds", "DescribeDBInstances"), ("monitoring", "DescribeAlarms"),
    ("iam", "ListAccessKeys"), ("iam", "ListPolicies"), ("secretsmanager", "ListSecrets"),
    ("iam", "GetAccountSummary"), ("autoscaling", "DescribeAutoScalingGroups"), ("lambda", "ListFunctions20150331"),
    ("elasticloadbalancing", "DescribeLoadBalancers"), ("iam", "ListGroups"), ("sqs", "ListQueues"),
    ("dynamodb", "ListTables"),
)  # fmt: skip


def _victims(org: Org) -> tuple[int, int]:
    """The account the intrusion starts in (prod) and the one it moves to (data)."""
    n = len(org.accounts)
    first, second = min(2, n - 1), min(5, n - 1)
    return first, second if second != first else (first + 1) % n


def _recon(s: Script, a: int, t: int) -> None:
    c = s.ctx(a)
    leaked = actor(
        user_identity(c.account, DORMANT_USER, cat.upper_id(s.r, "AKIA")), ATTACKER_IPS[0], KALI_CLI
    )
    s.add(a, t, leaked, "sts", "GetCallerIdentity", Call(), "recon-get-caller-identity")
    for i in range(40):
        source, name = PROBES[i % len(PROBES)]
        req = {"Host": "s3.amazonaws.com"} if source == "s3" else None
        call = Call(req, error=cat.denied(source, name, leaked.arn))
        s.add(a, t + 30 + i * 6, leaked, source, name, call, "access-denied-burst")


def _persist(s: Script, a: int, t: int) -> str:
    """The leaked user creates a backdoor administrator; returns the backdoor's access key id."""
    c, r = s.ctx(a), s.r
    leaked = actor(user_identity(c.account, DORMANT_USER, cat.upper_id(r, "AKIA")), ATTACKER_IPS[0], KALI_CLI)
    s.add(a, t, leaked, "iam", "CreateUser", cat.create_user(c, r, NEW_USER, t), "iam-create-user")
    key = cat.upper_id(r, "AKIA")
    made = Call({"userName": NEW_USER}, cat.access_key(NEW_USER, key, cat.when(c.day, t + 25)))
    s.add(a, t + 25, leaked, "iam", "CreateAccessKey", made, "iam-create-access-key")
    profile = {"userName": NEW_USER, "createDate": cat.when(c.day, t + 47), "passwordResetRequired": False}
    call = Call({"userName": NEW_USER, "passwordResetRequired": False}, {"loginProfile": profile})
    s.add(a, t + 47, leaked, "iam", "CreateLoginProfile", call, "iam-create-login-profile")
    admin = {"userName": NEW_USER, "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}
    s.add(a, t + 66, leaked, "iam", "AttachUserPolicy", Call(admin), "iam-attach-admin-policy")
    victim = _pick(s.org, a, "U").user or "admin"
    other = Call(
        {"userName": victim}, cat.access_key(victim, cat.upper_id(r, "AKIA"), cat.when(c.day, t + 200))
    )
    backdoor = actor(user_identity(c.account, NEW_USER, key), ATTACKER_IPS[1], KALI_CLI)
    s.add(a, t + 200, backdoor, "iam", "CreateAccessKey", other, "iam-create-access-key-other-user")
    return key


def _console(s: Script, a: int, t: int) -> None:
    """The backdoor user signs in without MFA and opens things up from the console."""
    c, r = s.ctx(a), s.r
    ident = user_identity(c.account, NEW_USER)
    browser = actor(ident, ATTACKER_IPS[1], cat.BROWSERS[1])
    for dt, ok, name in ((0, False, "console-login-failure"), (45, True, "console-login-no-mfa")):
        call = cat.console_login(ident, cat.login_details(r, None, False), ok, cat.BROWSERS[1])
        s.add(a, t + dt, browser, "signin", "ConsoleLogin", call, name)
    session = console_user_identity(
        c.account, NEW_USER, cat.upper_id(r, "ASIA"), cat.iso(c.day, t + 45), False
    )
    web = actor(session, ATTACKER_IPS[1], cat.CONSOLE[0], console=True)
    ssh = cat.sg_ingress(c, r, c.sgs[0], 22, "0.0.0.0/0", "")
    s.add(a, t + 200, web, "ec2", "AuthorizeSecurityGroupIngress", ssh, "sg-open-ssh-world")
    snap = cat.snapshot_share(c, r, c.snapshots[0], cat.OUTSIDE_ACCOUNT)
    s.add(a, t + 260, web, "ec2", "ModifySnapshotAttribute", snap, "snapshot-shared-external")
    ami = cat.image_share(c, r, c.amis[0], cat.OUTSIDE_ACCOUNT)
    s.add(a, t + 300, web, "ec2", "ModifyImageAttribute", ami, "ami-shared-external")
    bucket = c.buckets[1]
    public = {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}
    public["Resource"] = f"arn:aws:s3:::{bucket}/*"
    policy = cat.bucket_call(c, r, bucket, {"bucketPolicy": cat.bucket_policy([public]), "policy": ""})
    s.add(a, t + 400, web, "s3", "PutBucketPolicy", policy, "bucket-policy-public")


def _secrets_burst(s: Script, a: int, t: int, key: str) -> None:
    c = s.ctx(a)
    cli = actor(user_identity(c.account, NEW_USER, key), ATTACKER_IPS[0], KALI_CLI)
    for i in range(24):
        call = Call({"secretId": c.secrets[i % len(c.secrets)]})
        s.add(a, t + i * 4, cli, "secretsmanager", "GetSecretValue", call, "secrets-burst")


def _evasion_steps(s: Script, b: int) -> list[tuple[int, str, str, Call, str, str]]:
    c, r, eu = s.ctx(b), s.r, "eu-west-1"
    trail = {"name": cat.trail_arn(c, cat.LOCAL_TRAIL)}
    flow = {"DeleteFlowLogsRequest": {"FlowLogId": {"content": c.flow_logs[0], "tag": 1}}}
    flow_resp = {
        "xmlns": "http://ec2.amazonaws.com/doc/2016-11-15/",
        "requestId": uuid4(r),
        "unsuccessful": "",
    }
    return [
        (100, "cloudtrail", "StopLogging", Call(trail), "cloudtrail-stop-logging", HOME_REGION),
        (130, "cloudtrail", "PutEventSelectors", cat.event_selectors(c, cat.LOCAL_TRAIL, False, False),
         "cloudtrail-event-selectors-no-management", HOME_REGION),
        (160, "s3", "PutBucketLifecycle", cat.lifecycle(c, r, c.trail_bucket, 1, "cleanup"),
         "cloudtrail-bucket-lifecycle-expire", HOME_REGION),
        (200, "cloudtrail", "DeleteTrail", Call(trail), "cloudtrail-delete-trail", HOME_REGION),
        (300, "ec2", "DeleteFlowLogs", Call(flow, {"DeleteFlowLogsResponse": flow_resp}), "vpc-flow-logs-deleted",
         HOME_REGION),
        (400, "guardduty", "UpdateDetector", cat.update_detector(c, False), "guardduty-detector-disabled",
         HOME_REGION),
        (430, "guardduty", "DeleteDetector", Call({"detectorId": s.ctx(b, eu).detector}),
         "guardduty-detector-deleted", eu),
        (500, "config", "StopConfigurationRecorder", Call({"configurationRecorderName": "default"}),
         "config-recorder-stopped", HOME_REGION),
    ]  # fmt: skip


def _evasion(s: Script, a: int, b: int, t: int) -> None:
    """From the backdoor user into the second account through the organization role, then blinding it."""
    ca, c, r = s.ctx(a), s.ctx(b), s.r
    src = actor(user_identity(ca.account, NEW_USER, cat.upper_id(r, "AKIA")), ATTACKER_IPS[0], KALI_CLI)
    role = f"arn:aws:iam::{c.account}:role/OrganizationAccountAccessRole"
    s.add(
        b, t, src, "sts", "AssumeRole", cat.assume_role(c, r, role, NEW_USER, t), "cross-account-assume-role"
    )
    key, created = cat.upper_id(r, "ASIA"), cat.iso(c.day, t)
    me = actor(role_identity(c.account, "OrganizationAccountAccessRole", NEW_USER, key, created), ATTACKER_IPS[0],
               KALI_CLI)  # fmt: skip
    for dt, source, name, call, attack, region in _evasion_steps(s, b):
        s.add(b, t + dt, me, source, name, call, attack, region)


def _root(s: Script, b: int, t: int) -> None:
    c, r = s.ctx(b), s.r
    login = root_identity(c.account, "")
    call = cat.console_login(login, cat.login_details(r, None, False), True, cat.BROWSERS[0])
    s.add(
        b,
        t,
        actor(login, ATTACKER_IPS[1], cat.BROWSERS[0]),
        "signin",
        "ConsoleLogin",
        call,
        "root-console-login",
    )
    web = actor(root_identity(c.account, cat.upper_id(r, "ASIA")), ATTACKER_IPS[1], cat.CONSOLE[1], True)
    s.add(b, t + 100, web, "iam", "GetAccountSummary", Call(), "root-api-usage")
    s.add(b, t + 160, web, "iam", "ListUsers", Call(), "root-api-usage")
    key = {"accessKeyId": cat.upper_id(r, "AKIA"), "status": "Active", "createDate": cat.when(c.day, t + 200)}
    s.add(b, t + 200, web, "iam", "CreateAccessKey", Call(None, {"accessKey": key}), "root-api-usage")


def campaign(org: Org) -> Script:
    """The intrusion: leaked key, backdoor admin, exposure, secrets, lateral move, evasion, root use."""
    s = Script(org, "campaign")
    a, b = _victims(org)
    t = CAMPAIGN_START
    _recon(s, a, t)
    key = _persist(s, a, t + 400)
    _console(s, a, t + 700)
    _secrets_burst(s, a, t + 1300, key)
    _evasion(s, a, b, t + 1800)
    _root(s, b, t + 3600)
    return s


# --------------------------------------------------------------------------------- benign look-alikes


def _twin_access(s: Script, a: int) -> None:
    """Sign-ins with MFA (one mistyped password), a key rotation, onboarding a read-only user."""
    c, r = s.ctx(a), s.r
    user, admin = _pick(s.org, a, "U"), _pick(s.org, a, "A")
    mfa = f"arn:aws:iam::{c.account}:mfa/{user.user}"
    for t, ok in ((10 * 3600 + 720, True), (16 * 3600 + 600, False), (16 * 3600 + 650, True)):
        call = cat.console_login(user.login or {}, cat.login_details(r, mfa, ok), ok, cat.BROWSERS[0])
        s.add(a, t, _as(user, t), "signin", "ConsoleLogin", call)
    t, me, old = 11 * 3600 + 1800, user.user or "", cat.upper_id(r, "AKIA")
    made = Call({"userName": me}, cat.access_key(me, cat.upper_id(r, "AKIA"), cat.when(c.day, t)))
    s.add(a, t, _as(user, t), "iam", "CreateAccessKey", made)
    s.add(
        a,
        t + 60,
        _as(user, t),
        "iam",
        "UpdateAccessKey",
        Call({"userName": me, "accessKeyId": old, "status": "Inactive"}),
    )
    s.add(a, t + 180, _as(user, t), "iam", "DeleteAccessKey", Call({"userName": me, "accessKeyId": old}))
    t, hire = 15 * 3600, f"{r.choice(cat.FIRST)}.{r.choice(cat.LAST)}"
    web = _as(admin, t, console=True)
    s.add(a, t, web, "iam", "CreateUser", cat.create_user(c, r, hire, t, [{"key": "team", "value": "data"}]))
    s.add(a, t + 40, web, "iam", "AttachUserPolicy", Call({"userName": hire, "policyArn": cat.READ_ONLY}))
    profile = {"userName": hire, "createDate": cat.when(c.day, t + 70), "passwordResetRequired": True}
    call = Call({"userName": hire, "passwordResetRequired": True}, {"loginProfile": profile})
    s.add(a, t + 70, web, "iam", "CreateLoginProfile", call)


def _twin_exposure(s: Script, a: int) -> None:
    """Private and load-balancer ingress, normal secret reads, in-organization sharing and policies."""
    c, r = s.ctx(a), s.r
    admin, ci, app = _pick(s.org, a, "A"), _pick(s.org, a, "C"), _pick(s.org, a, "P")
    dr = cat.in_org(c, r)
    t = 10 * 3600 + 1200
    private = cat.sg_ingress(c, r, c.sgs[1], 443, "10.20.0.0/16", "internal https")
    s.add(a, t, _as(admin, t, True), "ec2", "AuthorizeSecurityGroupIngress", private)
    public = cat.sg_ingress(c, r, c.sgs[2], 443, "0.0.0.0/0", "public https on the load balancer")
    s.add(a, t + 240, _as(ci, t, agent=cat.TERRAFORM[0]), "ec2", "AuthorizeSecurityGroupIngress", public)
    for i in range(4):
        t = 10 * 3600 + 2400 + i * 900
        s.add(a, t, _as(app, t), "secretsmanager", "GetSecretValue", Call({"secretId": c.secrets[0]}))
    t, arn = 11 * 3600 + 120, f"arn:aws:s3:::{c.buckets[0]}/*"
    org_only = {"StringEquals": {"aws:PrincipalOrgID": s.org.org_id}}
    grants: list[Json] = [
        {"Principal": {"AWS": f"arn:aws:iam::{dr}:root"}},
        {"Principal": "*", "Condition": org_only},
    ]
    for i, grant in enumerate(grants):
        stmt = {"Sid": "OrgRead", "Effect": "Allow", "Action": "s3:GetObject", "Resource": arn, **grant}
        call = cat.bucket_call(c, r, c.buckets[0], {"bucketPolicy": cat.bucket_policy([stmt]), "policy": ""})
        s.add(a, t + i * 180, _as(ci, t), "s3", "PutBucketPolicy", call)
    t = 13 * 3600
    s.add(
        a,
        t,
        _as(admin, t, True),
        "ec2",
        "ModifySnapshotAttribute",
        cat.snapshot_share(c, r, c.snapshots[1], dr),
    )
    s.add(a, t + 300, _as(ci, t), "ec2", "ModifyImageAttribute", cat.image_share(c, r, c.amis[1], dr))


def _twin_logging(s: Script, a: int) -> None:
    """Trail, detector and recorder changes that keep logging on; retention rules; one denied call."""
    c, r = s.ctx(a), s.r
    admin, ci, h = _pick(s.org, a, "A"), _pick(s.org, a, "C"), _pick(s.org, a, "H")
    t = 12 * 3600
    denied = Call({"instancesSet": {}, "filterSet": {}}, error=cat.denied("ec2", "DescribeInstances", h.arn))
    s.add(a, t, _as(h, t), "ec2", "DescribeInstances", denied)
    t += 1800
    web = _as(admin, t, True)
    s.add(a, t, web, "cloudtrail", "UpdateTrail", cat.update_trail(c, cat.LOCAL_TRAIL, c.trail_bucket))
    s.add(
        a,
        t + 120,
        web,
        "cloudtrail",
        "PutEventSelectors",
        cat.event_selectors(c, cat.LOCAL_TRAIL, True, True),
    )
    t = 13 * 3600 + 600
    exports = cat.lifecycle(c, r, c.buckets[3], 365, "expire-exports", "exports/")
    s.add(a, t, _as(ci, t), "s3", "PutBucketLifecycle", exports)
    retain = cat.lifecycle(c, r, c.trail_bucket, 2555, "retain-7-years")
    s.add(a, t + 120, _as(admin, t, True), "s3", "PutBucketLifecycle", retain)
    t = 13 * 3600 + 1200
    web = _as(admin, t, True)
    s.add(a, t, web, "guardduty", "UpdateDetector", cat.update_detector(c, True, "FIFTEEN_MINUTES"))
    s.add(
        a,
        t + 120,
        web,
        "config",
        "StartConfigurationRecorder",
        Call({"configurationRecorderName": "default"}),
    )


def twins(org: Org) -> Script:
    """Benign records that look like the intrusion's: a good detection leaves them alone."""
    s = Script(org, "twins")
    a = min(2, len(org.accounts) - 1)
    _twin_access(s, a)
    _twin_exposure(s, a)
    _twin_logging(s, a)
    return s


# ----------------------------------------------------------------------------------- slices and files


@dataclass(frozen=True)
class Slice:
    index: int
    start: int  # seconds into the day
    width: int  # seconds
    count: int  # background records
    scripted: tuple[Json, ...] = ()


@dataclass(frozen=True)
class Task:
    org: Org
    idx: int
    region: str
    slices: tuple[Slice, ...]
    out: str
    level: int

    @property
    def size(self) -> int:
        return sum(s.count for s in self.slices)


@dataclass(frozen=True)
class LogFile:
    idx: int
    region: str
    key: str  # path below the output folder: the S3 key
    sha256: str  # of the uncompressed content, as digests record it
    oldest: str
    newest: str
    delivered: int  # seconds into the day
    records: int
    size: int
    json_size: int


def _apportion(total: int, weights: list[float]) -> list[int]:
    """Integers proportional to ``weights`` that sum to ``total`` exactly (largest remainder)."""
    whole = sum(weights)
    raw = [total * w / whole for w in weights]
    base = [int(x) for x in raw]
    for i in sorted(range(len(raw)), key=lambda i: (base[i] - raw[i], i))[: total - sum(base)]:
        base[i] += 1
    return base


def _width(expected: float) -> int:
    """Delivery slice in seconds: 5 minutes unless the stream is too quiet to fill its files."""
    for minutes in WIDTHS:
        if expected * minutes / 1440 >= MIN_PER_FILE:
            return minutes * 60
    return WIDTHS[-1] * 60


def _streams(org: Org) -> list[tuple[int, str, float]]:
    return [(i, region, a.weight * w) for i, a in enumerate(org.accounts) for region, w in cat.REGIONS]


def _layout(org: Org, background_events: int) -> list[tuple[int, str, int, int, int]]:
    """(account index, region, slice index, width, background records) of every slice of the day."""
    activity = curve()[0]
    slices: list[tuple[int, str, int, int]] = []
    weights: list[float] = []
    for idx, region, share in _streams(org):
        width = _width(background_events * share)
        per = width // BIN
        for k in range(86400 // width):
            slices.append((idx, region, k, width))
            weights.append(share * sum(activity[k * per : (k + 1) * per]))
    counts = _apportion(background_events, weights)
    return [(*s, n) for s, n in zip(slices, counts, strict=True)]


def make_tasks(
    org: Org, background_events: int, scripted: list[Scripted], out: Path, level: int
) -> list[Task]:
    """Cut the day into slices with exact record counts, grouped into tasks, the biggest first."""
    layout = _layout(org, background_events)
    widths = {(idx, region): w for idx, region, _, w, _ in layout}
    extra: dict[tuple[int, str, int], list[Json]] = defaultdict(list)
    for s in scripted:
        extra[(s.idx, s.region, s.sec // widths[(s.idx, s.region)])].append(s.record)
    grouped: dict[tuple[int, str], list[Slice]] = defaultdict(list)
    for idx, region, k, width, n in layout:
        grouped[(idx, region)].append(Slice(k, k * width, width, n, tuple(extra.get((idx, region, k), ()))))
    found = [
        Task(org, idx, region, tuple(chunk), str(out), level)
        for (idx, region), slices in grouped.items()
        for chunk in _chunks(slices)
    ]
    return sorted(found, key=lambda t: -t.size)


def _chunks(slices: list[Slice]) -> Iterator[list[Slice]]:
    chunk: list[Slice] = []
    for s in slices:
        chunk.append(s)
        if sum(x.count for x in chunk) >= TASK_EVENTS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _seconds(r: Random, s: Slice) -> list[int]:
    """Sorted event times inside a slice, following the activity curve."""
    first = s.start // BIN
    cum: list[float] = []
    total = 0.0
    for w in curve()[0][first : first + s.width // BIN]:
        total += w
        cum.append(total)
    rnd = r.random
    return sorted((first + bisect(cum, rnd() * total)) * BIN + int(rnd() * BIN) for _ in range(s.count))


def _stamp(day: date, sec: int, seconds: bool = False) -> str:
    sec = min(sec, 86399)
    hhmm = f"{sec // 3600:02d}{sec % 3600 // 60:02d}"
    return f"{day:%Y%m%d}T{hhmm}{sec % 60:02d}Z" if seconds else f"{day:%Y%m%d}T{hhmm}Z"


def _folder(org: Org, account: str, kind: str, region: str, day: date | None = None) -> str:
    return f"AWSLogs/{org.org_id}/{account}/{kind}/{region}/{day or org.day:%Y/%m/%d}"


def write_gz(path: Path, data: bytes, level: int) -> int:
    payload = gzip.compress(data, compresslevel=level, mtime=0)
    path.write_bytes(payload)
    return len(payload)


def _write_slice(task: Task, pl: Plan, s: Slice) -> list[LogFile]:
    org, account = task.org, pl.ctx.account
    r = Random(f"{org.seed}:{account}:{task.region}:{s.index}")
    records = [background(pl, r, sec) for sec in _seconds(r, s)]
    if s.scripted:
        records = sorted(records + list(s.scripted), key=itemgetter("eventTime"))
    if not records:
        return []
    delivered = min(s.start + s.width, 86340)
    folder = _folder(org, account, "CloudTrail", task.region)
    Path(task.out, folder).mkdir(parents=True, exist_ok=True)
    step = math.ceil(len(records) / math.ceil(len(records) / MAX_PER_FILE))
    out = []
    for i in range(0, len(records), step):
        part = records[i : i + step]
        name = f"{account}_CloudTrail_{task.region}_{_stamp(org.day, delivered)}_{cat.alnum(r, 16)}.json.gz"
        data = orjson.dumps({"Records": part})
        size = write_gz(Path(task.out, folder, name), data, task.level)
        digest = hashlib.sha256(data).hexdigest()
        first, last = part[0]["eventTime"], part[-1]["eventTime"]
        key = f"{folder}/{name}"
        out.append(
            LogFile(task.idx, task.region, key, digest, first, last, delivered, len(part), size, len(data))
        )
    return out


def run_task(task: Task) -> list[LogFile]:
    """Write every file of one task (in a worker process)."""
    pl = plan(task.org, task.idx, task.region)
    return [f for s in task.slices for f in _write_slice(task, pl, s)]


def _run(tasks: list[Task], workers: int) -> Iterable[list[LogFile]]:
    if workers <= 1 or len(tasks) <= 1:
        yield from map(run_task, tasks)
        return
    with multiprocessing.get_context("spawn").Pool(min(workers, len(tasks))) as pool:
        yield from pool.imap_unordered(run_task, tasks)


# -------------------------------------------------------------------------------------------- digests


def _digest_name(org: Org, account: str, region: str, day: date, stamp: str) -> str:
    name = f"{account}_CloudTrail-Digest_{region}_{cat.ORG_TRAIL}_{region}_{stamp}.json.gz"
    return f"{_folder(org, account, 'CloudTrail-Digest', region, day)}/{name}"


def _digest(org: Org, idx: int, region: str, end: int, files: list[LogFile], prev: Json) -> Json:
    account, bucket = org.accounts[idx].id, plan(org, 0, HOME_REGION).ctx.org_trail_bucket
    logs = [
        {"s3Bucket": bucket, "s3Object": f.key, "hashValue": f.sha256, "hashAlgorithm": "SHA-256",
         "newestEventTime": f.newest, "oldestEventTime": f.oldest}
        for f in files
    ]  # fmt: skip
    digest: Json = {"awsAccountId": account, "digestStartTime": cat.iso(org.day, end - 3600)}
    digest.update(digestEndTime=cat.iso(org.day, end), digestS3Bucket=bucket)
    digest["digestS3Object"] = _digest_name(org, account, region, org.day, _stamp(org.day, end, True))
    digest["digestPublicKeyFingerprint"] = cat.hexs(Random(f"{org.seed}:signing-key:{region}"), 32)
    digest["digestSignatureAlgorithm"] = "SHA256withRSA"
    digest["newestEventTime"] = max((f.newest for f in files), default=None)
    digest["oldestEventTime"] = min((f.oldest for f in files), default=None)
    return {**digest, **prev, "logFiles": logs}


def _previous(org: Org, bucket: str, key: str, sha256: str, r: Random) -> Json:
    return {
        "previousDigestS3Bucket": bucket,
        "previousDigestS3Object": key,
        "previousDigestHashValue": sha256,
        "previousDigestHashAlgorithm": "SHA-256",
        "previousDigestSignature": cat.hexs(r, 512),
    }


def write_digests(org: Org, out: Path, files: list[LogFile], level: int) -> int:
    """One chained digest per account, region and hour whose digest is delivered the same day."""
    by_stream: dict[tuple[int, str], list[LogFile]] = defaultdict(list)
    for f in sorted(files, key=lambda f: (f.delivered, f.key)):
        by_stream[(f.idx, f.region)].append(f)
    bucket = plan(org, 0, HOME_REGION).ctx.org_trail_bucket
    written = 0
    for idx, region, _ in _streams(org):
        r = Random(f"{org.seed}:digest:{org.accounts[idx].id}:{region}")
        offset = r.randrange(30, 290)
        yesterday = date.fromordinal(org.day.toordinal() - 1)
        first = _digest_name(
            org, org.accounts[idx].id, region, yesterday, f"{yesterday:%Y%m%d}T2305{offset % 60:02d}Z"
        )
        prev = _previous(org, bucket, first, cat.hexs(r, 64), r)
        for hour in range(23):
            lo, hi = hour * 3600 + offset, (hour + 1) * 3600 + offset
            digest = _digest(
                org, idx, region, hi, [f for f in by_stream[(idx, region)] if lo <= f.delivered < hi], prev
            )
            data = orjson.dumps(digest)
            path = out / digest["digestS3Object"]
            path.parent.mkdir(parents=True, exist_ok=True)
            write_gz(path, data, level)
            written += 1
            prev = _previous(org, bucket, digest["digestS3Object"], hashlib.sha256(data).hexdigest(), r)
    return written


# -------------------------------------------------------------------------------------------- the API


def generate_day(
    out_dir: Path,
    *,
    events: int,
    accounts: int = 6,
    day: date = date(2026, 11, 20),
    seed: int = 7,
    attacks: bool = True,
    workers: int = 1,
    org_id: str = "o-exampleorg1",
) -> GenerateResult:
    """Write one day of an organization's CloudTrail under ``out_dir``: ``events`` records in all."""
    if accounts < 1:
        raise ConfigError("accounts must be at least 1")
    org = make_org(seed, accounts, day, org_id)
    scripts = [twins(org), *([campaign(org)] if attacks else [])]
    scripted = [item for s in scripts for item in s.items]
    if events < len(scripted):
        raise ConfigError(f"events must be at least {len(scripted)} (the scripted records)")
    out = Path(out_dir)
    tasks = make_tasks(org, events - len(scripted), scripted, out, GZIP_LEVEL)
    files = [f for batch in _run(tasks, workers) for f in batch]
    digests = write_digests(org, out, files, GZIP_LEVEL)
    return GenerateResult(
        files=len(files),
        events=sum(f.records for f in files),
        bytes=sum(f.size for f in files),
        attacks=scripts[1].attacks() if attacks else [],
        digests=digests,
        json_bytes=sum(f.json_size for f in files),
        accounts=list(org.ids),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cloudsoc.simulate.generate", description=__doc__.split("\n")[0]
    )
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--accounts", type=int, default=6)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--day", type=date.fromisoformat, default=date(2026, 11, 20))
    parser.add_argument("--org-id", default="o-exampleorg1")
    parser.add_argument("--no-attacks", action="store_true")
    a = parser.parse_args(argv)
    result = generate_day(a.out_dir, events=a.events, accounts=a.accounts, day=a.day, seed=a.seed,
                          attacks=not a.no_attacks, workers=a.workers, org_id=a.org_id)  # fmt: skip
    sys.stdout.write(orjson.dumps(asdict(result), option=orjson.OPT_INDENT_2).decode() + "\n")
    return 0


if __name__ == "__main__":
    # Run through the package module so that worker processes unpickle the same classes.
    from cloudsoc.simulate.generate import main as _main

    raise SystemExit(_main())
