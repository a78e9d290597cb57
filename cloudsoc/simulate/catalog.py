"""Templates for the CloudTrail generator: services, per-account resources, principals and the API catalog.

Every API in ``CATALOG`` says which principals call it and how often, and how its requestParameters
look: either a template whose ``"$token"`` strings are filled from the account's resources, or a
builder returning a whole ``Call`` (requestParameters, responseElements and the optional parts of a
record) shaped the way CloudTrail writes it. Templates and static builders are evaluated a few times
per account and region ahead of time; dynamic builders (``dyn``) run per record because their content
depends on the caller or on the event time.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from random import Random
from typing import Any

from cloudsoc.aws.api import BLOCK_ALL_PUBLIC_ACCESS

Json = dict[str, Any]

ORG_NAME = "examplecorp"
EMAIL_DOMAIN = "example.com"
REGIONS = (("us-east-1", 0.72), ("eu-west-1", 0.16), ("us-west-2", 0.12))
HOME_REGION = "us-east-1"
OUTSIDE_ACCOUNT = "491827365012"  # an account id that is not part of the organization
ORG_TRAIL = "org-trail"
LOCAL_TRAIL = "account-audit-trail"
CIPHERS = ("TLS_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

# Principal classes: U IAM human users, H SSO users, A admins, C CI/CD, F federated users,
# W web-identity (OIDC) callers, P application roles, S scanners, L service-linked roles, V AWS services.
HUMAN_CLASSES = "UHACFW"


# ---------------------------------------------------------------------------------------------- time


def iso(day: date, sec: int) -> str:
    """ISO time of ``sec`` seconds after the start of ``day`` (may fall on another day)."""
    d = day + timedelta(days=sec // 86400)
    s = sec % 86400
    return f"{d.isoformat()}T{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}Z"


def when(day: date, sec: int) -> str:
    """The ``Nov 20, 2026, 3:04:05 PM`` form IAM and STS responses use."""
    d = day + timedelta(days=sec // 86400)
    s = sec % 86400
    h = s // 3600
    ampm = "AM" if h < 12 else "PM"
    return (
        f"{MONTHS[d.month - 1]} {d.day}, {d.year}, {(h % 12) or 12}:{s % 3600 // 60:02d}:{s % 60:02d} {ampm}"
    )


def epoch_ms(day: date, sec: int) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() + sec) * 1000


# ----------------------------------------------------------------------------------------- random ids


def hexs(r: Random, n: int) -> str:
    return f"{r.getrandbits(4 * n):0{n}x}"


def upper_id(r: Random, prefix: str, n: int = 16) -> str:
    return prefix + "".join(r.choices(UPPER, k=n))


def alnum(r: Random, n: int) -> str:
    return "".join(r.choices(ALNUM, k=n))


def amz_id(r: Random) -> str:
    return base64.b64encode(r.randbytes(57)).decode()


def token(r: Random, n: int = 160) -> str:
    """A session token look-alike (base64 text of ``n`` characters)."""
    return "IQoJb3JpZ2luX2VjE" + base64.b64encode(r.randbytes(n * 3 // 4)).decode()[: n - 17]


# ------------------------------------------------------------------------------------------- services


@dataclass(frozen=True)
class Service:
    host: str  # eventSource
    endpoint: str  # TLS host header, {region} substituted
    version: str  # eventVersion
    prefix: str  # IAM action prefix
    global_: bool = False


def _svc(
    name: str, version: str = "1.08", prefix: str = "", endpoint: str = "", glob: bool = False
) -> Service:
    return Service(
        f"{name}.amazonaws.com",
        endpoint or f"{name}.{{region}}.amazonaws.com",
        version,
        prefix or name,
        glob,
    )


SERVICES: dict[str, Service] = {
    "ec2": _svc("ec2", "1.10"),
    "s3": _svc("s3", "1.10", endpoint="s3.{region}.amazonaws.com"),
    "iam": _svc("iam", "1.08", endpoint="iam.amazonaws.com", glob=True),
    "sts": _svc("sts", "1.08"),
    "kms": _svc("kms", "1.08"),
    "lambda": _svc("lambda", "1.08"),
    "monitoring": _svc("monitoring", "1.08", "cloudwatch"),
    "logs": _svc("logs", "1.08"),
    "dynamodb": _svc("dynamodb", "1.08"),
    "rds": _svc("rds", "1.08"),
    "ecs": _svc("ecs", "1.08"),
    "eks": _svc("eks", "1.08"),
    "ecr": _svc("ecr", "1.08", endpoint="api.ecr.{region}.amazonaws.com"),
    "cloudformation": _svc("cloudformation", "1.08"),
    "config": _svc("config", "1.08"),
    "guardduty": _svc("guardduty", "1.08"),
    "securityhub": _svc("securityhub", "1.08"),
    "cloudtrail": _svc("cloudtrail", "1.09"),
    "organizations": _svc("organizations", "1.08", glob=True),
    "sns": _svc("sns", "1.08"),
    "sqs": _svc("sqs", "1.08"),
    "route53": _svc("route53", "1.08", endpoint="route53.amazonaws.com", glob=True),
    "elasticloadbalancing": _svc("elasticloadbalancing", "1.08"),
    "autoscaling": _svc("autoscaling", "1.08"),
    "ssm": _svc("ssm", "1.08"),
    "secretsmanager": _svc("secretsmanager", "1.08"),
    "tagging": _svc("tagging", "1.08", "tag"),
    "ce": _svc("ce", "1.08", endpoint="ce.us-east-1.amazonaws.com", glob=True),
    "signin": _svc("signin", "1.09", endpoint="signin.aws.amazon.com", glob=True),
}

# Services that application roles reach through interface/gateway VPC endpoints.
VPCE_SERVICES = frozenset({"s3", "kms", "secretsmanager", "ssm", "dynamodb", "sqs", "logs", "ecr"})

_DENIED_IAM = "User: {arn} is not authorized to perform: {action} because no identity-based policy allows the {action} action"
_DENIED: dict[str, tuple[str, str]] = {
    "ec2": ("Client.UnauthorizedOperation", "You are not authorized to perform this operation."),
    "s3": ("AccessDenied", "Access Denied"),
    "iam": ("AccessDenied", _DENIED_IAM),
    "sts": ("AccessDenied", _DENIED_IAM),
    "kms": ("AccessDenied", _DENIED_IAM),
    "cloudtrail": ("AccessDenied", _DENIED_IAM),
    "organizations": ("AccessDenied", "You don't have permissions to access this resource."),
    "monitoring": ("AccessDenied", _DENIED_IAM),
    "rds": ("AccessDenied", _DENIED_IAM),
    "autoscaling": ("AccessDenied", _DENIED_IAM),
    "elasticloadbalancing": ("AccessDenied", _DENIED_IAM),
    "sns": ("AuthorizationError", _DENIED_IAM),
    "sqs": ("AccessDenied", "Access to the resource The specified queue does not exist is denied."),
}
_DENIED_DEFAULT = ("AccessDeniedException", _DENIED_IAM)


def denied(source: str, name: str, arn: str) -> tuple[str, str]:
    """The errorCode and errorMessage a service writes when a principal lacks permission."""
    code, msg = _DENIED.get(source, _DENIED_DEFAULT)
    action = f"{SERVICES[source].prefix}:{name}"
    return code, msg.format(arn=arn, action=action)


# ------------------------------------------------------------------------------------ user agents

CLI = (
    "aws-cli/2.15.30 Python/3.11.8 Linux/5.15.0-1055-aws exe/x86_64.ubuntu.22 prompt/off command/",
    "aws-cli/2.17.4 Python/3.11.9 Darwin/23.5.0 exe/x86_64 prompt/off command/",
    "aws-cli/2.13.25 Python/3.11.6 Windows/10 exe/AMD64 prompt/off command/",
)
BOTO = (
    "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#5.10.213-201.855.amzn2.x86_64 md/arch#x86_64 "
    "lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.69",
    "Boto3/1.35.10 md/Botocore#1.35.10 ua/2.0 os/macos#23.5.0 md/arch#arm64 lang/python#3.12.4 "
    "md/pyimpl#CPython cfg/retry-mode#standard Botocore/1.35.10",
)
TERRAFORM = (
    "APN/1.0 HashiCorp/1.0 Terraform/1.7.5 (+https://www.terraform.io) terraform-provider-aws/5.42.0 "
    "(+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.26.0 os/linux lang/go#1.22.1 "
    "md/GOOS#linux md/GOARCH#amd64",
)
SDKS = (
    "aws-sdk-java/2.25.10 Linux/5.10.213-201.855.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS "
    "Java/17.0.10 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy",
    "aws-sdk-js/3.540.0 ua/2.0 os/linux#5.10.213-201.855.amzn2.x86_64 lang/js md/nodejs#20.11.1 "
    "api/client#3.540.0",
    "aws-sdk-go/1.50.30 (go1.21.8; linux; amd64)",
    "aws-sdk-go-v2/1.25.3 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64",
)
SSM_AGENT = "aws-sdk-go/1.44.331 (go1.20.12; linux; amd64) amazon-ssm-agent/3.3.131.0"
ECS_AGENT = "aws-sdk-go/1.44.298 (go1.20.8; linux; amd64) amazon-ecs-agent/1.82.1"
CONSOLE = (
    "console.amazonaws.com",
    "AWS Internal",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
)
BROWSERS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.2 Safari/605.1.15",
)


# ------------------------------------------------------------------------------------------ accounts

PROFILES = (
    ("management", 0.07),
    ("security", 0.13),
    ("prod", 0.33),
    ("staging", 0.14),
    ("dev", 0.13),
    ("data", 0.20),
)
APPS = tuple(
    [
        "orders",
        "payments",
        "catalog",
        "search",
        "ingest",
        "reporting",
        "auth",
        "notifications",
        "billing",
        "inventory",
        "checkout",
    ]
)
FIRST = (
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "kofi",
    "lena", "mateo", "nina", "omar", "priya", "quinn", "rosa", "sam", "tara", "uma", "victor",
    "wei", "xavier", "yuki", "zara",
)  # fmt: skip
LAST = (
    "nguyen", "smith", "garcia", "kim", "patel", "muller", "rossi", "silva", "tanaka", "johnson",
    "brown", "lopez", "chen", "novak", "ahmed", "dubois", "okafor", "larsen",
)  # fmt: skip


@dataclass(frozen=True)
class Ctx:
    """The resources one account owns in one region, referenced by the builders."""

    day: date
    org_id: str
    account: str
    env: str
    region: str
    org: tuple[str, ...]
    mgmt: str
    apps: tuple[str, ...]
    instances: tuple[str, ...]
    sgs: tuple[str, ...]
    vpcs: tuple[str, ...]
    subnets: tuple[str, ...]
    enis: tuple[str, ...]
    volumes: tuple[str, ...]
    snapshots: tuple[str, ...]
    amis: tuple[str, ...]
    keys: tuple[str, ...]
    buckets: tuple[str, ...]
    secrets: tuple[str, ...]
    params: tuple[str, ...]
    functions: tuple[str, ...]
    tables: tuple[str, ...]
    dbs: tuple[str, ...]
    clusters: tuple[str, ...]
    eks: tuple[str, ...]
    stacks: tuple[str, ...]
    queues: tuple[str, ...]
    topics: tuple[str, ...]
    log_groups: tuple[str, ...]
    zones: tuple[str, ...]
    lbs: tuple[str, ...]
    tgs: tuple[str, ...]
    asgs: tuple[str, ...]
    repos: tuple[str, ...]
    roles: tuple[str, ...]
    users: tuple[str, ...]
    detector: str
    flow_logs: tuple[str, ...]
    trail_bucket: str
    org_trail_bucket: str

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account}:{resource}"

    @property
    def role_arns(self) -> tuple[str, ...]:
        """ARNs of the roles workloads assume (not the SSO or service-linked ones)."""
        own = (n for n in self.roles if not n.startswith(("AWSReservedSSO_", "AWSServiceRoleFor")))
        return tuple(f"arn:aws:iam::{self.account}:role/{n}" for n in own)


def _ids(r: Random, prefix: str, n: int, k: int = 16) -> tuple[str, ...]:
    return tuple(prefix + hexs(r, k) for _ in range(n))


def _trail_bucket(account: str) -> str:
    return f"aws-cloudtrail-logs-{account}-{hexs(Random(f'trail:{account}'), 8)}"


def _ec2_ids(r: Random) -> dict[str, Any]:
    return {
        "instances": _ids(r, "i-0", 24),
        "sgs": _ids(r, "sg-0", 12),
        "vpcs": _ids(r, "vpc-0", 2),
        "subnets": _ids(r, "subnet-0", 6),
        "enis": _ids(r, "eni-0", 16),
        "volumes": _ids(r, "vol-0", 20),
        "snapshots": _ids(r, "snap-0", 10),
        "amis": _ids(r, "ami-0", 5),
        "flow_logs": _ids(r, "fl-0", 3),
        "keys": tuple(
            f"{hexs(r, 8)}-{hexs(r, 4)}-4{hexs(r, 3)}-a{hexs(r, 3)}-{hexs(r, 12)}" for _ in range(5)
        ),
        "detector": hexs(r, 32),
        "zones": tuple("Z" + "".join(r.choices(UPPER[:26] + "0123456789", k=13)) for _ in range(2)),
    }


def _data_names(r: Random, env: str, acct: str, region: str, apps: tuple[str, ...]) -> dict[str, Any]:
    kinds = ("assets", "data", "uploads", "exports", "artifacts", "backups")
    arn = f"{region}:{acct}"
    return {
        "buckets": tuple(f"{ORG_NAME}-{env}-{a}-{k}" for a, k in zip(apps, kinds, strict=True)),
        "secrets": tuple(
            f"arn:aws:secretsmanager:{arn}:secret:{env}/{a}/{s}-{alnum(r, 6)}"
            for a in apps
            for s in ("db-credentials", "api-key")
        ),
        "params": tuple(f"/{env}/{a}/{p}" for a in apps for p in ("db_host", "feature_flags", "log_level")),
        "functions": tuple(f"{env}-{a}-{f}" for a in apps[:4] for f in ("handler", "worker")),
        "tables": tuple(f"{env}-{a}-{t}" for a in apps[:4] for t in ("items", "sessions")),
        "dbs": tuple(f"{env}-{a}-db" for a in apps[:3]),
        "clusters": (f"{env}-apps", f"{env}-batch"),
        "eks": (f"{env}-platform",),
        "stacks": tuple(f"{env}-{a}-{s}" for a in apps for s in ("service", "network")),
        "queues": tuple(f"https://sqs.{region}.amazonaws.com/{acct}/{env}-{a}-events" for a in apps[:5]),
        "topics": tuple(f"arn:aws:sns:{arn}:{env}-{a}-alerts" for a in apps[:4]),
        "log_groups": tuple(f"/aws/lambda/{env}-{a}-handler" for a in apps[:4])
        + tuple(f"/ecs/{env}-{a}" for a in apps),
        "lbs": tuple(
            f"arn:aws:elasticloadbalancing:{arn}:loadbalancer/app/{env}-{a}-alb/{hexs(r, 16)}"
            for a in apps[:3]
        ),
        "tgs": tuple(
            f"arn:aws:elasticloadbalancing:{arn}:targetgroup/{env}-{a}-tg/{hexs(r, 16)}" for a in apps[:5]
        ),
        "asgs": tuple(f"{env}-{a}-asg" for a in apps[:3]),
        "repos": tuple(f"{a}-service" for a in apps[:5]),
    }


def account_apps(account: str) -> tuple[str, ...]:
    """The applications an account runs (the same in every region)."""
    return tuple(Random(f"apps:{account}").sample(APPS, 6))


def make_ctx(
    day: date,
    org_id: str,
    account: str,
    env: str,
    region: str,
    org: tuple[str, ...],
    iam: tuple[tuple[str, ...], ...],
) -> Ctx:
    """Resources of one account in one region; ``iam`` is (role names, user names) of the account."""
    r = Random(f"ctx:{account}:{region}")
    apps = account_apps(account)
    return Ctx(
        day=day,
        org_id=org_id,
        account=account,
        env=env,
        region=region,
        org=org,
        mgmt=org[0],
        apps=apps,
        roles=iam[0],
        users=iam[1],
        trail_bucket=_trail_bucket(account),
        org_trail_bucket=_trail_bucket(org[0]),
        **_ec2_ids(r),
        **_data_names(r, env, account, region, apps),
    )


# ---------------------------------------------------------------------------------------- principals


@dataclass
class Principal:
    """One caller: what it looks like in userIdentity, where it calls from, and with what."""

    cls: str
    name: str  # user, role or service name
    arn: str
    weight: float
    idents: tuple[Json, ...]  # userIdentity per hour of the day
    ips: tuple[str, ...]
    agents: tuple[str, ...]
    console: tuple[Json, ...] | None = None  # userIdentity per hour for console sessions
    console_share: float = 0.0
    tls: int = 0  # index into CIPHERS
    service: str | None = None  # invokedBy host of a service or service-linked role
    user: str | None = None  # IAM user name
    targets: tuple[str, ...] = ()  # role ARNs this principal assumes
    login: Json | None = None  # userIdentity of its ConsoleLogin records
    vpce: str | None = None  # VPC endpoint its calls go through
    private_ips: tuple[str, ...] = ()
    err_rate: float = 0.01


# ------------------------------------------------------------------------------------------ the calls


@dataclass(frozen=True)
class Call:
    """The per-API part of one record."""

    req: Json | None = None
    resp: Json | None = None
    resources: list[Json] | None = None
    extra: Json | None = None  # additionalEventData
    host: str | None = None  # tlsDetails.clientProvidedHostHeader when it is not the service endpoint
    identity: Json | None = None  # userIdentity override (service events)
    etype: str | None = None  # eventType override
    ip: str | None = None  # sourceIPAddress override
    agent: str | None = None  # userAgent override
    error: tuple[str | None, str] | None = None  # (errorCode, errorMessage) decided by the builder


Static = Callable[[Ctx, Random], Call]
Fields = Callable[[Ctx, Random], Json]
Req = Callable[[Ctx, Random], Json | None]
Dyn = Callable[[Ctx, Random, Principal, int], Call]

_READ_PREFIXES = tuple(
    ["Describe", "Get", "List", "Lookup", "Head", "Select", "Filter", "Search", "Discover", "Batch"]
)
_READ_NAMES = frozenset(
    [
        "Decrypt",
        "Encrypt",
        "GenerateDataKey",
        "AssumeRole",
        "AssumeRoleWithWebIdentity",
        "Query",
        "ValidateTemplate",
    ]
)


@dataclass(frozen=True)
class Api:
    source: str
    name: str
    weight: float
    who: str
    req: Json | Req | None = None  # a template (see ``fill``) or a function
    build: Static | None = None
    dyn: Dyn | None = None
    read_only: bool | None = None
    data: bool = False
    err: tuple[str, str, float] | None = None  # an API-specific error: code, message, rate
    mgmt_only: bool = False

    @property
    def is_read(self) -> bool:
        if self.read_only is not None:
            return self.read_only
        return self.name in _READ_NAMES or (
            self.name.startswith(_READ_PREFIXES) and not self.name.startswith("BatchUpdate")
        )


# --------------------------------------------------------------------------------------- templates


def _pick(attr: str) -> Callable[[Ctx, Random], Any]:
    return lambda c, r: r.choice(getattr(c, attr))


def _private_ip(c: Ctx, r: Random) -> str:
    return f"10.{r.randrange(0, 40)}.{r.randrange(0, 256)}.{r.randrange(4, 250)}"


def _uuid(c: Ctx, r: Random) -> str:
    return f"{hexs(r, 8)}-{hexs(r, 4)}-4{hexs(r, 3)}-a{hexs(r, 3)}-{hexs(r, 12)}"


_PICKS = (
    "instance:instances sg:sgs vpc:vpcs subnet:subnets eni:enis volume:volumes snapshot:snapshots ami:amis "
    "bucket:buckets secret:secrets param:params fn:functions table:tables db:dbs cluster:clusters stack:stacks "
    "queue:queues topic:topics log_group:log_groups zone:zones lb:lbs tg:tgs asg:asgs repo:repos role:roles "
    "user:users org_account:org app:apps"
)
TOKENS: dict[str, Callable[[Ctx, Random], Any]] = {
    **{k: _pick(attr) for k, attr in (item.split(":") for item in _PICKS.split())},
    "account": lambda c, r: c.account,
    "region": lambda c, r: c.region,
    "env": lambda c, r: c.env,
    "svc": lambda c, r: f"{c.env}-{r.choice(c.apps)}",
    "eks": lambda c, r: c.eks[0],
    "detector": lambda c, r: c.detector,
    "key_arn": lambda c, r: c.arn("kms", f"key/{r.choice(c.keys)}"),
    "fn_arn": lambda c, r: c.arn("lambda", f"function:{r.choice(c.functions)}"),
    "table_arn": lambda c, r: c.arn("dynamodb", f"table/{r.choice(c.tables)}"),
    "db_arn": lambda c, r: c.arn("rds", f"db:{r.choice(c.dbs)}"),
    "policy_arn": lambda c, r: f"arn:aws:iam::{c.account}:policy/{c.env}-{r.choice(c.apps)}-access",
    "trail_arn": lambda c, r: f"arn:aws:cloudtrail:{HOME_REGION}:{c.account}:trail/{LOCAL_TRAIL}",
    "task_def": lambda c, r: f"{c.env}-{r.choice(c.apps)}:{r.randrange(10, 300)}",
    "queue_name": lambda c, r: r.choice(c.queues).rsplit("/", 1)[1],
    "stream": lambda c, r: f"{c.day:%Y/%m/%d}/[$LATEST]{hexs(r, 32)}",
    "params3": lambda c, r: r.sample(c.params, 3),
    "ip": _private_ip,
    "uuid": _uuid,
    "akid": lambda c, r: upper_id(r, "AKIA"),
    "hex8": lambda c, r: hexs(r, 8),
    "hex32": lambda c, r: hexs(r, 32),
    "hex64": lambda c, r: hexs(r, 64),
    "image_tag": lambda c, r: hexs(r, 7),
    "month_start": lambda c, r: f"{c.day:%Y-%m}-01",
    "day": lambda c, r: c.day.isoformat(),
}


class _Lazy(dict[str, str]):
    """Fills ``{token}`` placeholders of a ``"$..."`` template string."""

    def __init__(self, c: Ctx, r: Random) -> None:
        super().__init__()
        self.c, self.r = c, r

    def __missing__(self, key: str) -> str:
        return str(TOKENS[key](self.c, self.r))


def fill(template: Any, c: Ctx, r: Random) -> Any:
    """A copy of ``template`` where ``"$name"`` is a token's value and ``"$...{name}..."`` is formatted.

    Tokens are the keys of ``TOKENS``; ``"$$x"`` stands for the literal text ``"$x"``.
    """
    if isinstance(template, str) and template.startswith("$"):
        body = template[1:]
        if body.startswith("$"):  # "$$x" is the literal "$x"
            return body
        return body.format_map(_Lazy(c, r)) if "{" in body else TOKENS[body](c, r)
    if isinstance(template, dict):
        return {k: fill(v, c, r) for k, v in template.items()}
    if isinstance(template, list):
        return [fill(v, c, r) for v in template]
    return template


def request(api: Api, c: Ctx, r: Random) -> Call:
    """The precomputable Call of an API without a builder."""
    if api.build is not None:
        return api.build(c, r)
    if callable(api.req):
        return Call(api.req(c, r))
    return Call(fill(api.req, c, r))


def _svc_api(source: str) -> Callable[..., Api]:
    def make(name: str, weight: float, who: str, req: Json | Req | None = None, **kw: Any) -> Api:
        return Api(source, name, weight, who, req, **kw)

    return make


# ------------------------------------------------------------------------------------ shape helpers


def items(key: str, *values: Any) -> Json:
    """The ``{"items": [{key: value}, ...]}`` lists EC2 writes."""
    return {"items": [{key: v} for v in values]}


def filters(name: str, value: str) -> Json:
    return {"items": [{"name": name, "valueSet": items("value", value)}]}


def _ec2_ok(r: Random) -> Json:
    return {
        "requestId": f"{hexs(r, 8)}-{hexs(r, 4)}-4{hexs(r, 3)}-8{hexs(r, 3)}-{hexs(r, 12)}",
        "_return": True,
    }


def s3_extra(r: Random, out: int = 0, inb: int = 0) -> Json:
    return {
        "SignatureVersion": "SigV4",
        "CipherSuite": "TLS_AES_128_GCM_SHA256",
        "bytesTransferredIn": inb,
        "AuthenticationMethod": "AuthHeader",
        "x-amz-id-2": amz_id(r),
        "bytesTransferredOut": out,
    }


def bucket_res(account: str, bucket: str) -> list[Json]:
    return [{"accountId": account, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}]


def bucket_call(c: Ctx, r: Random, bucket: str, req: Json, resp: Json | None = None) -> Call:
    """A bucket-level S3 call: bucketName and Host first, as S3 writes them."""
    host = f"{bucket}.s3.{c.region}.amazonaws.com"
    full = {"bucketName": bucket, "Host": host, **req}
    return Call(full, resp, bucket_res(c.account, bucket), s3_extra(r), host)


def _s3_sub(sub: str, **more: Any) -> Static:
    return lambda c, r: bucket_call(c, r, r.choice(c.buckets), {sub: "", **fill(more, c, r)})


def _s3_object(name: str) -> Static:
    def build(c: Ctx, r: Random) -> Call:
        b = r.choice(c.buckets)
        key = f"{r.choice(c.apps)}/{c.day:%Y/%m/%d}/{hexs(r, 8)}-{hexs(r, 4)}.json.gz"
        size = r.randrange(800, 4_000_000)
        out, inb = (size, 0) if name == "GetObject" else (0, size if name == "PutObject" else 0)
        resp = None
        if name == "PutObject":
            resp = {
                "x-amz-server-side-encryption": "aws:kms",
                "x-amz-server-side-encryption-aws-kms-key-id": c.arn("kms", f"key/{c.keys[0]}"),
                "x-amz-server-side-encryption-bucket-key-enabled": "true",
            }
        call = bucket_call(c, r, b, {"key": key}, resp)
        res = [{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{b}/{key}"}, *(call.resources or [])]
        return Call(call.req, resp, res, s3_extra(r, out, inb), call.host)

    return build


def _list_objects(c: Ctx, r: Random) -> Call:
    req = {"list-type": "2", "prefix": f"{r.choice(c.apps)}/", "delimiter": "/", "encoding-type": "url"}
    return bucket_call(c, r, r.choice(c.buckets), {**req, "max-keys": "1000"})


def _ddb(template: Json) -> Static:
    """A DynamoDB data event: the filled template and the table in resources[]."""

    def build(c: Ctx, r: Random) -> Call:
        req = fill(template, c, r)
        arn = c.arn("dynamodb", f"table/{req['tableName']}")
        return Call(req, None, [{"accountId": c.account, "type": "AWS::DynamoDB::Table", "ARN": arn}])

    return build


def _kms_res(c: Ctx, key: str) -> list[Json]:
    return [{"accountId": c.account, "type": "AWS::KMS::Key", "ARN": c.arn("kms", f"key/{key}")}]


def _kms(name: str) -> Static:
    contexts: tuple[Json, ...] = (
        {"aws:s3:arn": "$arn:aws:s3:::{bucket}"},
        {"SecretARN": "$secret", "SecretVersionId": "$uuid"},
        {"PARAMETER_ARN": "$arn:aws:ssm:{region}:{account}:parameter{param}"},
        {"aws:lambda:FunctionArn": "$fn_arn"},
    )

    def build(c: Ctx, r: Random) -> Call:
        key = r.choice(c.keys)
        if name == "Decrypt":
            req = {
                "encryptionAlgorithm": "SYMMETRIC_DEFAULT",
                "encryptionContext": fill(r.choice(contexts), c, r),
            }
        elif name == "GenerateDataKey":
            ctx = {"aws:s3:arn": f"arn:aws:s3:::{r.choice(c.buckets)}/{r.choice(c.apps)}/"}
            req = {"keyId": c.arn("kms", f"key/{key}"), "keySpec": "AES_256", "encryptionContext": ctx}
        else:
            req = {"keyId": f"alias/{c.env}-{r.choice(c.apps)}", "encryptionAlgorithm": "SYMMETRIC_DEFAULT"}
        return Call(req, None, _kms_res(c, key))

    return build


def _rotate_key(c: Ctx, r: Random) -> Call:
    key = r.choice(c.keys)
    ident = {"accountId": c.account, "invokedBy": "AWS Internal"}
    extra = {"keyId": c.arn("kms", f"key/{key}")}
    return Call(
        None, None, _kms_res(c, key), extra, None, ident, "AwsServiceEvent", "AWS Internal", "AWS Internal"
    )


def _create_grant(c: Ctx, r: Random) -> Call:
    key = r.choice(c.keys)
    ebs = f"ebs.{c.region}.amazonaws.com"
    req = {
        "keyId": c.arn("kms", f"key/{key}"),
        "granteePrincipal": ebs,
        "retiringPrincipal": ebs,
        "operations": [
            "Decrypt",
            "Encrypt",
            "GenerateDataKeyWithoutPlaintext",
            "ReEncryptFrom",
            "ReEncryptTo",
        ],
        "constraints": {"encryptionContextSubset": {"aws:ebs:id": r.choice(c.volumes)}},
    }
    return Call(req, {"grantId": hexs(r, 64), "keyId": c.arn("kms", f"key/{key}")}, _kms_res(c, key))


# ---------------------------------------------------------------------------------------------- EC2


def _sg_rule(port: int, cidr: str, desc: str) -> Json:
    rng = {"items": [{"cidrIp": cidr, "description": desc} if desc else {"cidrIp": cidr}]}
    return {
        "ipProtocol": "tcp",
        "fromPort": port,
        "toPort": port,
        "groups": {},
        "ipRanges": rng,
        "ipv6Ranges": {},
        "prefixListIds": {},
    }


def sg_ingress(c: Ctx, r: Random, sg: str, port: int, cidr: str, desc: str) -> Call:
    """AuthorizeSecurityGroupIngress for one TCP port from one IPv4 range."""
    rule = {
        "groupOwnerId": c.account,
        "groupId": sg,
        "securityGroupRuleId": "sgr-0" + hexs(r, 16),
        "isEgress": False,
        "ipProtocol": "tcp",
        "fromPort": port,
        "toPort": port,
        "cidrIpv4": cidr,
        **({"description": desc} if desc else {}),
    }
    req = {"groupId": sg, "ipPermissions": {"items": [_sg_rule(port, cidr, desc)]}}
    return Call(req, {**_ec2_ok(r), "securityGroupRuleSet": {"items": [rule]}})


def _benign_ingress(c: Ctx, r: Random) -> Call:
    port, cidr, desc = r.choice(
        (
            (443, f"10.{r.randrange(16, 64)}.0.0/16", "internal https"),
            (5432, f"10.{r.randrange(16, 64)}.{r.randrange(0, 255)}.0/24", "app subnet to postgres"),
            (22, f"172.{r.randrange(16, 32)}.{r.randrange(0, 255)}.0/24", "bastion subnet"),
            (443, "0.0.0.0/0", "public https on the load balancer"),
            (80, "0.0.0.0/0", "http redirect on the load balancer"),
        )
    )
    return sg_ingress(c, r, r.choice(c.sgs), port, cidr, desc)


def _revoke_ingress(c: Ctx, r: Random) -> Call:
    req = {"groupId": r.choice(c.sgs), "ipPermissions": {"items": [_sg_rule(8080, "10.0.0.0/8", "legacy")]}}
    return Call(req, _ec2_ok(r))


def snapshot_share(c: Ctx, r: Random, snap: str, account: str) -> Call:
    """ModifySnapshotAttribute adding createVolumePermission for one account."""
    perm = {"add": items("userId", account)}
    req = {"snapshotId": snap, "createVolumePermission": perm, "attributeType": "CREATE_VOLUME_PERMISSION"}
    return Call(req, _ec2_ok(r))


def image_share(c: Ctx, r: Random, ami: str, account: str) -> Call:
    """ModifyImageAttribute adding launchPermission for one account."""
    req = {
        "imageId": ami,
        "launchPermission": {"add": items("userId", account)},
        "attributeType": "launchPermission",
    }
    return Call(req, _ec2_ok(r))


def in_org(c: Ctx, r: Random) -> str:
    """Another account of the organization."""
    return r.choice([a for a in c.org if a != c.account] or [c.account])


_STATES = {
    "StartInstances": ((0, "pending"), (80, "stopped")),
    "StopInstances": ((64, "stopping"), (16, "running")),
    "TerminateInstances": ((32, "shutting-down"), (16, "running")),
}


def _instances_state(name: str) -> Static:
    def build(c: Ctx, r: Random) -> Call:
        i = r.choice(c.instances)
        (cur, now), (pcode, prev) = _STATES[name]
        item = {"instanceId": i, "currentState": {"code": cur, "name": now}}
        item["previousState"] = {"code": pcode, "name": prev}
        return Call(
            {"instancesSet": items("instanceId", i)}, {**_ec2_ok(r), "instancesSet": {"items": [item]}}
        )

    return build


def _create_eni(c: Ctx, r: Random) -> Call:
    fn, subnet, sg, ip = r.choice(c.functions), r.choice(c.subnets), r.choice(c.sgs), _private_ip(c, r)
    desc = f"AWS Lambda VPC ENI-{fn}-{_uuid(c, r)}"
    req = {
        "subnetId": subnet,
        "description": desc,
        "groupSet": items("groupId", sg),
        "privateIpAddressesSet": {},
    }
    eni = {
        "networkInterfaceId": "eni-0" + hexs(r, 16),
        "subnetId": subnet,
        "vpcId": c.vpcs[0],
        "availabilityZone": f"{c.region}a",
        "description": desc,
        "ownerId": c.account,
        "requesterId": upper_id(r, "AROA", 17),
        "requesterManaged": True,
        "status": "pending",
        "macAddress": ":".join(hexs(r, 2) for _ in range(6)),
        "privateIpAddress": ip,
        "sourceDestCheck": True,
        "interfaceType": "lambda",
        "groupSet": {"items": [{"groupId": sg, "groupName": f"{c.env}-lambda"}]},
        "privateIpAddressesSet": {"item": [{"privateIpAddress": ip, "primary": True}]},
        "tagSet": {},
    }
    return Call(req, {"requestId": _uuid(c, r), "networkInterface": eni})


def _create_snapshot(c: Ctx, r: Random) -> Call:
    vol = r.choice(c.volumes)
    resp = {
        "requestId": _uuid(c, r),
        "snapshotId": "snap-0" + hexs(r, 16),
        "volumeId": vol,
        "status": "pending",
        "progress": "",
        "ownerId": c.account,
        "volumeSize": r.choice((8, 20, 50, 100, 200)),
        "encrypted": True,
        "kmsKeyId": c.arn("kms", f"key/{c.keys[0]}"),
    }
    return Call({"volumeId": vol, "description": f"AWS Backup snapshot of {vol}"}, resp)


def _create_sg(c: Ctx, r: Random) -> Call:
    name = f"{c.env}-{r.choice(c.apps)}-{r.choice(('svc', 'db', 'cache'))}"
    req = {"groupName": name, "groupDescription": f"{name} security group", "vpcId": c.vpcs[0]}
    sg = "sg-0" + hexs(r, 16)
    return Call(req, {**_ec2_ok(r), "groupId": sg, "securityGroupArn": c.arn("ec2", f"security-group/{sg}")})


def _launch_template_version(c: Ctx, r: Random) -> Call:
    lt = "lt-0" + hexs(r, 16)
    body = {
        "LaunchTemplateId": lt,
        "SourceVersion": "$Latest",
        "LaunchTemplateData": {"ImageId": r.choice(c.amis)},
    }
    version: Json = {"launchTemplateId": lt, "launchTemplateName": f"{c.env}-{r.choice(c.apps)}"}
    version.update({"versionNumber": r.randrange(2, 60), "defaultVersion": False})
    resp = {"CreateLaunchTemplateVersionResponse": {"launchTemplateVersion": version}}
    return Call({"CreateLaunchTemplateVersionRequest": body}, resp)


def run_instances(c: Ctx, r: Random, sec: int) -> Call:
    i, subnet, sg, ip = "i-0" + hexs(r, 16), r.choice(c.subnets), r.choice(c.sgs), _private_ip(c, r)
    req = {
        "instancesSet": {"items": [{"minCount": 1, "maxCount": 1}]},
        "launchTemplate": {"launchTemplateId": "lt-0" + hexs(r, 16), "version": str(r.randrange(2, 40))},
        "subnetId": subnet,
        "disableApiTermination": False,
        "disableApiStop": False,
        "clientToken": _uuid(c, r),
    }
    inst = {
        "instanceId": i,
        "imageId": r.choice(c.amis),
        "instanceState": {"code": 0, "name": "pending"},
        "privateDnsName": f"ip-{ip.replace('.', '-')}.ec2.internal",
        "amiLaunchIndex": 0,
        "instanceType": r.choice(("m6i.large", "c6i.xlarge", "t3.medium")),
        "launchTime": epoch_ms(c.day, sec),
        "placement": {"availabilityZone": f"{c.region}{r.choice('abc')}", "tenancy": "default"},
        "monitoring": {"state": "disabled"},
        "subnetId": subnet,
        "vpcId": c.vpcs[0],
        "privateIpAddress": ip,
        "stateReason": {"code": "pending", "message": "pending"},
        "architecture": "x86_64",
        "rootDeviceType": "ebs",
        "rootDeviceName": "/dev/xvda",
        "virtualizationType": "hvm",
        "groupSet": {"items": [{"groupId": sg, "groupName": f"{c.env}-app"}]},
        "metadataOptions": {"state": "pending", "httpTokens": "required", "httpPutResponseHopLimit": 2},
    }
    resp: Json = {"requestId": _uuid(c, r), "reservationId": "r-0" + hexs(r, 16), "ownerId": c.account}
    resp["instancesSet"] = {"items": [inst]}
    res = [{"accountId": c.account, "type": "AWS::EC2::Instance", "ARN": c.arn("ec2", f"instance/{i}")}]
    return Call(req, resp, res)


# -------------------------------------------------------------------------------------- S3 and IAM


def bucket_policy(statements: list[Json]) -> Json:
    return {"Version": "2012-10-17", "Statement": statements}


def _benign_bucket_policy(c: Ctx, r: Random) -> Call:
    b = r.choice(c.buckets)
    arn = f"arn:aws:s3:::{b}"
    tls: Json = {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*"}
    tls.update({"Resource": [arn, f"{arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
    cloudfront = {
        "StringEquals": {"AWS:SourceArn": f"arn:aws:cloudfront::{c.account}:distribution/E2Q{hexs(r, 8)}"}
    }
    grant = r.choice(
        (
            {
                "Principal": {"AWS": f"arn:aws:iam::{in_org(c, r)}:root"},
                "Action": ["s3:GetObject", "s3:ListBucket"],
            },
            {
                "Principal": "*",
                "Action": "s3:GetObject",
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": c.org_id}},
            },
            {
                "Principal": {"Service": "cloudfront.amazonaws.com"},
                "Action": "s3:GetObject",
                "Condition": cloudfront,
            },
        )
    )
    allow = {"Sid": "AllowOrgRead", "Effect": "Allow", **grant, "Resource": [arn, f"{arn}/*"]}
    return bucket_call(c, r, b, {"bucketPolicy": bucket_policy([tls, allow]), "policy": ""})


def lifecycle(c: Ctx, r: Random, bucket: str, days: int, rule_id: str, prefix: str = "") -> Call:
    """PutBucketLifecycle (the event of PutBucketLifecycleConfiguration) expiring objects after ``days``."""
    rule = {"Filter": {"Prefix": prefix}, "Expiration": {"Days": days}, "ID": rule_id, "Status": "Enabled"}
    conf = {"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/", "Rule": rule}
    return bucket_call(c, r, bucket, {"lifecycle": "", "LifecycleConfiguration": conf})


def access_key(user: str, key: str, created: str) -> Json:
    return {"accessKey": {"userName": user, "accessKeyId": key, "status": "Active", "createDate": created}}


def _self_key(c: Ctx, r: Random, p: Principal, sec: int) -> Call:
    user = p.user or p.name
    return Call({"userName": user}, access_key(user, upper_id(r, "AKIA"), when(c.day, sec)))


def _key_op(status: str | None) -> Dyn:
    def dyn(c: Ctx, r: Random, p: Principal, sec: int) -> Call:
        req = {"userName": p.user or p.name, "accessKeyId": upper_id(r, "AKIA")}
        return Call({**req, "status": status} if status else req)

    return dyn


def create_user(c: Ctx, r: Random, user: str, sec: int, tags: list[Json] | None = None) -> Call:
    req: Json = {"userName": user, **({"tags": tags} if tags else {})}
    made = {"path": "/", "userName": user, "userId": upper_id(r, "AIDA", 17)}
    made.update({"arn": f"arn:aws:iam::{c.account}:user/{user}", "createDate": when(c.day, sec)})
    return Call(req, {"user": made})


def _benign_user(c: Ctx, r: Random, p: Principal, sec: int) -> Call:
    return create_user(
        c, r, f"{r.choice(FIRST)}.{r.choice(LAST)}", sec, [{"key": "team", "value": r.choice(c.apps)}]
    )


def policy_doc(statement: Json) -> str:
    """IAM writes policy documents into requestParameters as JSON text."""
    return '{"Version":"2012-10-17","Statement":[' + json.dumps(statement, separators=(",", ":")) + "]}"


# ---------------------------------------------------------------------------------------------- STS


def role_id(arn: str) -> str:
    return upper_id(Random(arn), "AROA", 17)


def credentials(r: Random, c: Ctx, sec: int, ttl: int) -> Json:
    return {
        "accessKeyId": upper_id(r, "ASIA"),
        "sessionToken": token(r),
        "expiration": when(c.day, sec + ttl),
    }


def _session_name(c: Ctx, r: Random, p: Principal) -> str:
    svc = (p.service or "").split(".")[0]
    if svc == "lambda":
        return r.choice(c.functions)
    if svc == "ecs-tasks":
        return hexs(r, 32)
    if svc == "ec2":
        return r.choice(c.instances)
    if svc:
        return f"{svc}-{hexs(r, 10)}"
    return f"{p.name.split('@')[0].split('/')[-1]}-{r.randrange(10**9, 10**10)}"


def assume_role(c: Ctx, r: Random, role: str, session: str, sec: int, ttl: int = 3600) -> Call:
    """AssumeRole of ``role`` (an ARN) in the account of ``c``."""
    name = role.rsplit("/", 1)[-1]
    req = {"roleArn": role, "roleSessionName": session, "durationSeconds": ttl}
    arn = f"arn:aws:sts::{c.account}:assumed-role/{name}/{session}"
    resp = {
        "credentials": credentials(r, c, sec, ttl),
        "assumedRoleUser": {"assumedRoleId": f"{role_id(role)}:{session}"},
    }
    resp["assumedRoleUser"]["arn"] = arn
    return Call(req, resp, [{"accountId": c.account, "type": "AWS::IAM::Role", "ARN": role}])


def _assume(c: Ctx, r: Random, p: Principal, sec: int) -> Call:
    return assume_role(c, r, r.choice(p.targets or c.role_arns), _session_name(c, r, p), sec)


def _web_identity(c: Ctx, r: Random, p: Principal, sec: int) -> Call:
    call = assume_role(c, r, r.choice(p.targets or c.role_arns), "GitHubActions", sec)
    provider = f"arn:aws:iam::{c.account}:oidc-provider/token.actions.githubusercontent.com"
    resp = {**(call.resp or {}), "subjectFromWebIdentityToken": p.name, "provider": provider}
    resp["audience"] = "sts.amazonaws.com"
    return Call(call.req, resp, call.resources)


def _session_token(c: Ctx, r: Random, p: Principal, sec: int) -> Call:
    return Call({"durationSeconds": 43200}, {"credentials": credentials(r, c, sec, 43200)})


# ---------------------------------------------------------------------------------- other services


def _update_code(c: Ctx, r: Random) -> Call:
    fn = r.choice(c.functions)
    req = {
        "functionName": fn,
        "s3Bucket": c.buckets[4],
        "s3Key": f"lambda/{fn}/{hexs(r, 40)}.zip",
        "publish": True,
    }
    resp = {
        "functionName": fn,
        "functionArn": c.arn("lambda", f"function:{fn}"),
        "runtime": r.choice(("python3.12", "nodejs20.x", "java21")),
        "role": f"arn:aws:iam::{c.account}:role/{c.env}-lambda-exec",
        "handler": "app.handler",
        "codeSize": r.randrange(200_000, 9_000_000),
        "timeout": 30,
        "memorySize": 512,
        "codeSha256": base64.b64encode(r.randbytes(32)).decode(),
        "version": str(r.randrange(2, 200)),
        "state": "Pending",
        "lastUpdateStatus": "InProgress",
        "architectures": ["x86_64"],
    }
    return Call({**req, "dryRun": False}, resp)


_METRICS = (
    {"namespace": "AWS/EC2", "metricName": "CPUUtilization", "dimensions": [{"name": "InstanceId", "value": "$instance"}]},
    {"namespace": "AWS/Lambda", "metricName": "Errors", "dimensions": [{"name": "FunctionName", "value": "$fn"}]},
    {"namespace": "AWS/SQS", "metricName": "ApproximateNumberOfMessagesVisible",
     "dimensions": [{"name": "QueueName", "value": "$queue_name"}]},
    {"namespace": "AWS/DynamoDB", "metricName": "ConsumedReadCapacityUnits",
     "dimensions": [{"name": "TableName", "value": "$table"}]},
)  # fmt: skip


def _metric_data(c: Ctx, r: Random, p: Principal, sec: int) -> Call:
    queries = []
    for i in range(r.randint(1, 3)):
        stat = {"metric": fill(r.choice(_METRICS), c, r), "period": 300, "stat": "Average"}
        queries.append({"id": f"m{i}", "metricStat": stat, "returnData": True})
    return Call(
        {"metricDataQueries": queries, "startTime": when(c.day, sec - 10800), "endTime": when(c.day, sec)}
    )


def _metric_stats(c: Ctx, r: Random, p: Principal, sec: int) -> Call:
    req = {
        **fill(r.choice(_METRICS), c, r),
        "startTime": when(c.day, sec - 3600),
        "endTime": when(c.day, sec),
    }
    return Call({**req, "period": 60, "statistics": ["Average", "Maximum"]})


def _lookup_events(c: Ctx, r: Random, p: Principal, sec: int) -> Call:
    key, value = r.choice(
        (("EventName", "ConsoleLogin"), ("Username", r.choice(c.users)), ("ReadOnly", "false"))
    )
    req = {"lookupAttributes": [{"attributeKey": key, "attributeValue": value}], "maxResults": 50}
    return Call({**req, "startTime": when(c.day, sec - 86400), "endTime": when(c.day, sec)})


def _filter_logs(c: Ctx, r: Random, p: Principal, sec: int) -> Call:
    start = epoch_ms(c.day, sec - 3600)
    req = {"logGroupName": r.choice(c.log_groups), "startTime": start, "endTime": start + 3_600_000}
    return Call(
        {
            **req,
            "filterPattern": r.choice(("ERROR", "?Exception ?Timeout", '"status=500"')),
            "interleaved": True,
        }
    )


def _start_query(c: Ctx, r: Random, p: Principal, sec: int) -> Call:
    q = "fields @timestamp, @message | filter @message like /ERROR/ | sort @timestamp desc | limit 50"
    start, end = epoch_ms(c.day, sec - 3600) // 1000, epoch_ms(c.day, sec) // 1000
    req = {"logGroupNames": [r.choice(c.log_groups)], "startTime": start, "endTime": end, "queryString": q}
    return Call(req, {"queryId": _uuid(c, r)})


def _put_evaluations(c: Ctx, r: Random, p: Principal, sec: int) -> Call:
    kind, rid = r.choice(
        (("AWS::EC2::SecurityGroup", r.choice(c.sgs)), ("AWS::S3::Bucket", r.choice(c.buckets)))
    )
    ev = {"complianceResourceType": kind, "complianceResourceId": rid}
    ev.update(
        {
            "complianceType": r.choice(("COMPLIANT", "NON_COMPLIANT")),
            "orderingTimestamp": when(c.day, sec - 60),
        }
    )
    return Call(
        {"evaluations": [ev], "resultToken": base64.b64encode(r.randbytes(96)).decode(), "testMode": False}
    )


def _change_set(c: Ctx, r: Random) -> Call:
    stack = r.choice(c.stacks)
    req = {
        "stackName": stack,
        "templateURL": f"https://{c.buckets[4]}.s3.amazonaws.com/cfn/{stack}/{hexs(r, 12)}.yaml",
        "parameters": [{"parameterKey": "ImageTag", "parameterValue": hexs(r, 7)}],
        "capabilities": ["CAPABILITY_NAMED_IAM"],
        "changeSetName": f"deploy-{hexs(r, 8)}",
        "changeSetType": "UPDATE",
    }
    resp = {"id": c.arn("cloudformation", f"changeSet/{req['changeSetName']}/{_uuid(c, r)}")}
    resp["stackId"] = c.arn("cloudformation", f"stack/{stack}/{_uuid(c, r)}")
    return Call(req, resp)


def trail_arn(c: Ctx, name: str) -> str:
    return f"arn:aws:cloudtrail:{HOME_REGION}:{c.account}:trail/{name}"


def event_selectors(c: Ctx, trail: str, management: bool, data: bool) -> Call:
    """PutEventSelectors with one basic selector."""
    resources = [{"type": "AWS::S3::Object", "values": [f"arn:aws:s3:::{c.buckets[1]}/"]}] if data else []
    sel = {"readWriteType": "All", "includeManagementEvents": management, "dataResources": resources}
    sel["excludeManagementEventSources"] = []
    return Call(
        {"trailName": trail, "eventSelectors": [sel]},
        {"trailARN": trail_arn(c, trail), "eventSelectors": [sel]},
    )


def update_trail(c: Ctx, trail: str, bucket: str) -> Call:
    """UpdateTrail turning on log file validation, which keeps logging on."""
    req = {
        "name": trail,
        "isMultiRegionTrail": True,
        "enableLogFileValidation": True,
        "includeGlobalServiceEvents": True,
    }
    resp = {
        "name": trail,
        "s3BucketName": bucket,
        "includeGlobalServiceEvents": True,
        "isMultiRegionTrail": True,
    }
    resp.update(
        {"trailARN": trail_arn(c, trail), "logFileValidationEnabled": True, "isOrganizationTrail": False}
    )
    return Call(req, resp)


def update_detector(c: Ctx, enable: bool, frequency: str | None = None) -> Call:
    req: Json = {"detectorId": c.detector, "enable": enable}
    if frequency:
        req["findingPublishingFrequency"] = frequency
    return Call(req, None)


def _update_instance_info(c: Ctx, r: Random) -> Json:
    ip = _private_ip(c, r)
    return {
        "instanceId": r.choice(c.instances),
        "agentVersion": "3.3.131.0",
        "agentStatus": "Active",
        "platformType": "Linux",
        "platformName": "Amazon Linux",
        "platformVersion": "2023",
        "iPAddress": ip,
        "computerName": f"ip-{ip.replace('.', '-')}.ec2.internal",
        "agentName": "amazon-ssm-agent",
        "availabilityZone": f"{c.region}{r.choice('abc')}",
        "availabilityZoneId": f"use1-az{r.randint(1, 6)}",
    }


def login_details(r: Random, mfa_device: str | None, used_mfa: bool) -> Json:
    """additionalEventData of a ConsoleLogin record."""
    login_to = (
        "https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_"
        f"{HOME_REGION}_{hexs(r, 16)}"
    )
    extra: Json = {"LoginTo": login_to, "MobileVersion": "No"}
    if used_mfa and mfa_device:
        extra["MFAIdentifier"] = mfa_device
    extra["MFAUsed"] = "Yes" if used_mfa else "No"
    return extra


def console_login(identity: Json, extra: Json, ok: bool, agent: str) -> Call:
    """A ConsoleLogin call; failures carry only an errorMessage, as sign-in writes them."""
    resp = {"ConsoleLogin": "Success" if ok else "Failure"}
    error = None if ok else (None, "Failed authentication")
    return Call(None, resp, None, extra, None, identity, "AwsConsoleSignIn", agent=agent, error=error)


def _console_login(c: Ctx, r: Random, p: Principal, sec: int) -> Call:
    ok = r.random() >= 0.01  # a mistyped password once in a while
    mfa = f"arn:aws:iam::{c.account}:mfa/{p.user or p.name}"
    return console_login(p.login or p.idents[0], login_details(r, mfa, ok), ok, r.choice(BROWSERS))


# ------------------------------------------------------------------------------------------ catalog
# One API per row: name, weight, who, then the requestParameters template or a builder. ``who`` lists
# the principal classes calling the API, the first making half of the calls; weights are relative.

ec2, s3, iam, sts, kms = (_svc_api(n) for n in ("ec2", "s3", "iam", "sts", "kms"))
lam, cw, logs, ddb, rds = (_svc_api(n) for n in ("lambda", "monitoring", "logs", "dynamodb", "rds"))
ecs, eks, ecr, cfn, cfg = (_svc_api(n) for n in ("ecs", "eks", "ecr", "cloudformation", "config"))
gd, sh, ct, org, sns = (
    _svc_api(n) for n in ("guardduty", "securityhub", "cloudtrail", "organizations", "sns")
)
sqs, r53, elb, asg = (_svc_api(n) for n in ("sqs", "route53", "elasticloadbalancing", "autoscaling"))
ssm, sm, tag, ce, signin = (_svc_api(n) for n in ("ssm", "secretsmanager", "tagging", "ce", "signin"))

HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"
_NOF: Json = {"filterSet": {}}
_INSTANCE = {"instancesSet": items("instanceId", "$instance"), "filterSet": {}}
_BY_TAG = {"instancesSet": {}, "filterSet": filters("tag:Name", "$svc")}
_TAGS = {"tagSet": {"items": [{"key": "Name", "value": "$svc"}, {"key": "env", "value": "$env"}]}}
_SGS = {"securityGroupSet": {}, "securityGroupIdSet": items("groupId", "$sg"), "filterSet": {}}
_ENIS = {"networkInterfaceIdSet": items("networkInterfaceId", "$eni"), "filterSet": {}}
_SNAPS = {"snapshotSet": {}, "ownersSet": items("owner", "self"), "restorableBySet": {}, "filterSet": {}}
_IMAGES = {"executableBySet": {}, "imagesSet": items("imageId", "$ami"), "ownersSet": {}, "filterSet": {}}
_ATTRS = {"accountAttributeNameSet": items("attributeName", "supported-platforms"), "filterSet": {}}
_LT_VERSIONS = {
    "DescribeLaunchTemplateVersionsRequest": {"LaunchTemplateVersion": {"content": "$$Latest", "tag": 1}}
}
_TYPES = {"DescribeInstanceTypesRequest": {"InstanceType": {"content": "m6i.large", "tag": 1}}}
_INLINE = {"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": ["arn:aws:sqs:*:*:*-events"]}
_TRUST = {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
_S3_READ = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
_TASK = "$arn:aws:ecs:{region}:{account}:task/{cluster}/{hex32}"
_INSTANCE_ARN = "$arn:aws:ecs:{region}:{account}:container-instance/{cluster}/{hex32}"
_MEDIA = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
]
_IMAGE = {"registryId": "$account", "repositoryName": "$repo", "imageIds": [{"imageTag": "latest"}]}
_TASK_DEF = {
    "family": "$svc",
    "networkMode": "awsvpc",
    "requiresCompatibilities": ["FARGATE"],
    "cpu": "512",
    "memory": "1024",
    "executionRoleArn": "$arn:aws:iam::{account}:role/{env}-ecs-exec",
    "containerDefinitions": [
        {"name": "app", "image": "${account}.dkr.ecr.{region}.amazonaws.com/{repo}:{image_tag}"}
    ],
}
_QUERY = {
    "tableName": "$table",
    "keyConditionExpression": "#pk = :pk",
    "expressionAttributeNames": {"#pk": "pk"},
}
_QUERY["expressionAttributeValues"] = {":pk": HIDDEN}
_SUBSCRIBE = {
    "topicArn": "$topic",
    "protocol": "sqs",
    "endpoint": "$arn:aws:sqs:{region}:{account}:{svc}-events",
}
_QUEUE_ATTRS = {"VisibilityTimeout": "120", "MessageRetentionPeriod": "345600"}
_ALARM: Json = {
    "alarmName": "${svc}-5xx",
    "metricName": "HTTPCode_Target_5XX_Count",
    "namespace": "AWS/ApplicationELB",
}
_ALARM.update(
    {"statistic": "Sum", "period": 60, "evaluationPeriods": 5, "threshold": 10.0, "alarmActions": ["$topic"]}
)
_ALARM["comparisonOperator"] = "GreaterThanThreshold"
_STACK_STATES = ["CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"]
_TEMPLATE = {"templateURL": "$https://{bucket}.s3.amazonaws.com/cfn/{stack}/{hex8}.yaml"}
_RECORD = {"name": "${app}.{env}.examplecorp.com", "type": "CNAME", "tTL": 300}
_RECORD["resourceRecords"] = [{"value": "${env}-alb-{hex8}.{region}.elb.amazonaws.com"}]
_UPSERT = {"changes": [{"action": "UPSERT", "resourceRecordSet": _RECORD}]}
_TARGETS = {
    "targetGroupArn": "$tg",
    "targets": [{"id": "$ip", "port": 8080, "availabilityZone": "${region}a"}],
}
_COMPLIANCE = {"configRuleName": "restricted-ssh", "complianceTypes": ["NON_COMPLIANT"], "limit": 100}
_SELECT = {
    "expression": "SELECT resourceId, resourceType WHERE resourceType = 'AWS::EC2::Instance'",
    "limit": 100,
}
_GD_CRITERIA = {"criterion": {"service.archived": {"eq": ["false"]}, "severity": {"gte": 4}}}
_SH_FILTERS = {"RecordState": [{"value": "ACTIVE", "comparison": "EQUALS"}]}
_FSBP = (
    "$arn:aws:securityhub:{region}:{account}:subscription/aws-foundational-security-best-practices/v/1.0.0"
)
_FINDING = {
    "id": _FSBP + "/EC2.19/finding/{hex32}",
    "productArn": "$arn:aws:securityhub:{region}::product/aws/securityhub",
}
_RESOLVE = {"findingIdentifiers": [_FINDING], "workflow": {"status": "RESOLVED"}}
_RESOLVE["note"] = {"text": "accepted risk", "updatedBy": "secops"}
_COST = {
    "timePeriod": {"start": "$month_start", "end": "$day"},
    "granularity": "DAILY",
    "metrics": ["UnblendedCost"],
}

E_NO_POLICY = ("NoSuchBucketPolicy", "The bucket policy does not exist", 0.3)
E_NO_SSE = (
    "ServerSideEncryptionConfigurationNotFoundError",
    "The server side encryption configuration was not found",
    0.1,
)
E_NO_PAB = (
    "NoSuchPublicAccessBlockConfiguration",
    "The public access block configuration was not found",
    0.1,
)
E_NO_TAGS = ("NoSuchTagSet", "The TagSet does not exist", 0.2)
E_NO_CORS = ("NoSuchCORSConfiguration", "The CORS configuration does not exist", 0.5)
E_NO_SITE = ("NoSuchWebsiteConfiguration", "The specified bucket does not have a website configuration", 0.8)
E_NO_REPL = ("ReplicationConfigurationNotFoundError", "The replication configuration was not found", 0.7)
E_NO_ROLE = ("NoSuchEntityException", "The role with name legacy-batch-role cannot be found.", 0.02)
E_CIPHER = ("InvalidCiphertextException", "", 0.002)
E_NO_PARAM = ("ParameterNotFound", "", 0.01)
E_NO_SECRET = ("ResourceNotFoundException", "Secrets Manager can't find the specified secret.", 0.003)
E_LOG_EXISTS = ("ResourceAlreadyExistsException", "The specified log group already exists", 0.5)
E_NO_STACK = ("ValidationError", "Stack with id legacy-network does not exist", 0.03)

# fmt: off
EC2: list[Api] = [
    ec2("DescribeInstances", 55, "SLHUPA", build=lambda c, r: Call(fill(r.choice((_INSTANCE, _BY_TAG)), c, r))),
    ec2("DescribeSecurityGroups", 14, "SLHA", _SGS),
    ec2("DescribeVpcs", 7, "SLH", {"vpcSet": {}, **_NOF}),
    ec2("DescribeSubnets", 7, "SLHC", {"subnetSet": {}, "filterSet": filters("vpc-id", "$vpc")}),
    ec2("DescribeNetworkInterfaces", 11, "LSP", _ENIS),
    ec2("DescribeVolumes", 7, "SLH", {"volumeSet": {}, **_NOF}),
    ec2("DescribeSnapshots", 4, "SVH", _SNAPS),
    ec2("DescribeImages", 5, "SLCH", _IMAGES),
    ec2("DescribeRegions", 6, "SHCP", {"regionSet": {}, "allRegions": False}),
    ec2("DescribeAvailabilityZones", 5, "CLSH", {"availabilityZoneSet": {}, "availabilityZoneIdSet": {}}),
    ec2("DescribeInstanceStatus", 8, "LSH", {**_INSTANCE, "includeAllInstances": False}),
    ec2("DescribeTags", 6, "PSH", {"filterSet": filters("resource-id", "$instance")}),
    ec2("DescribeRouteTables", 3, "SH", {"routeTableIdSet": {}, **_NOF}),
    ec2("DescribeKeyPairs", 2, "SH", {"keySet": {}}),
    ec2("DescribeAddresses", 2, "SH", {"publicIpsSet": {}, "allocationIdsSet": {}, **_NOF}),
    ec2("DescribeLaunchTemplates", 2, "CLS", {"DescribeLaunchTemplatesRequest": {"MaxResults": 200}}),
    ec2("DescribeLaunchTemplateVersions", 2, "LC", _LT_VERSIONS),
    ec2("DescribeFlowLogs", 2, "SH", {"DescribeFlowLogsRequest": {"MaxResults": 1000}}),
    ec2("DescribeNatGateways", 2, "SH", {"DescribeNatGatewaysRequest": {"MaxResults": 1000}}),
    ec2("DescribeInternetGateways", 2, "SH", {"internetGatewayIdSet": {}, **_NOF}),
    ec2("DescribeNetworkAcls", 2, "SH", {"networkAclIdSet": {}, **_NOF}),
    ec2("DescribeVpcEndpoints", 2, "SH", {"DescribeVpcEndpointsRequest": {"MaxResults": 1000}}),
    ec2("DescribeAccountAttributes", 3, "CLSH", _ATTRS),
    ec2("DescribeInstanceTypes", 2, "LCH", _TYPES),
    ec2("DescribeVolumesModifications", 0.6, "S", {"DescribeVolumesModificationsRequest": {}}),
    ec2("DescribeSnapshotAttribute", 0.6, "S", {"snapshotId": "$snapshot", "attributeType": "CREATE_VOLUME_PERMISSION"}),
    ec2("GetEbsEncryptionByDefault", 1, "S", {"GetEbsEncryptionByDefaultRequest": {}}),
    ec2("CreateTags", 1.0, "LCA", build=lambda c, r: Call(fill({"resourcesSet": items("resourceId", "$instance"), **_TAGS}, c, r), _ec2_ok(r))),
    ec2("CreateNetworkInterface", 0.8, "L", build=_create_eni),
    ec2("DeleteNetworkInterface", 0.7, "L", {"networkInterfaceId": "$eni"}),
    ec2("StartInstances", 0.15, "HA", build=_instances_state("StartInstances")),
    ec2("StopInstances", 0.15, "HA", build=_instances_state("StopInstances")),
    ec2("TerminateInstances", 0.3, "LC", build=_instances_state("TerminateInstances")),
    ec2("RunInstances", 0.3, "LC", dyn=lambda c, r, p, s: run_instances(c, r, s)),
    ec2("CreateSnapshot", 0.3, "V", build=_create_snapshot),
    ec2("CreateSecurityGroup", 0.05, "CA", build=_create_sg),
    ec2("AuthorizeSecurityGroupIngress", 0.12, "AC", build=_benign_ingress),
    ec2("RevokeSecurityGroupIngress", 0.06, "AC", build=_revoke_ingress),
    ec2("CreateLaunchTemplateVersion", 0.1, "C", build=_launch_template_version),
    ec2("ModifySnapshotAttribute", 0.03, "A", build=lambda c, r: snapshot_share(c, r, r.choice(c.snapshots), in_org(c, r))),
    ec2("ModifyImageAttribute", 0.03, "C", build=lambda c, r: image_share(c, r, r.choice(c.amis), in_org(c, r))),
]

S3: list[Api] = [
    s3("GetBucketAcl", 22, "VSL", build=_s3_sub("acl")),
    s3("GetBucketLocation", 10, "SPCH", build=_s3_sub("location")),
    s3("GetBucketPolicy", 5, "SH", build=_s3_sub("policy"), err=E_NO_POLICY),
    s3("GetBucketEncryption", 4, "S", build=_s3_sub("encryption"), err=E_NO_SSE),
    s3("GetBucketVersioning", 4, "SC", build=_s3_sub("versioning")),
    s3("GetBucketPublicAccessBlock", 4, "S", build=_s3_sub("publicAccessBlock"), err=E_NO_PAB),
    s3("GetBucketTagging", 3, "SC", build=_s3_sub("tagging"), err=E_NO_TAGS),
    s3("GetBucketLogging", 2, "S", build=_s3_sub("logging")),
    s3("GetBucketPolicyStatus", 2, "S", build=_s3_sub("policyStatus")),
    s3("GetBucketOwnershipControls", 2, "S", build=_s3_sub("ownershipControls")),
    s3("GetBucketNotification", 1, "SC", build=_s3_sub("notification")),
    s3("GetBucketCors", 1, "SC", build=_s3_sub("cors"), err=E_NO_CORS),
    s3("GetBucketWebsite", 1, "S", build=_s3_sub("website"), err=E_NO_SITE),
    s3("GetBucketReplication", 1, "S", build=_s3_sub("replication"), err=E_NO_REPL),
    s3("GetAccelerateConfiguration", 0.8, "S", build=_s3_sub("accelerate")),
    s3("GetBucketRequestPayment", 0.8, "S", build=_s3_sub("requestPayment")),
    s3("ListBuckets", 5, "HSU", {"Host": "$s3.{region}.amazonaws.com"}),
    s3("GetObject", 26, "PFC", build=_s3_object("GetObject"), data=True),
    s3("PutObject", 11, "PC", build=_s3_object("PutObject"), data=True),
    s3("DeleteObject", 1.5, "P", build=_s3_object("DeleteObject"), data=True),
    s3("HeadObject", 6, "P", build=_s3_object("HeadObject"), data=True),
    s3("ListObjects", 6, "PHC", build=_list_objects, data=True),
    s3("PutBucketPolicy", 0.03, "CA", build=_benign_bucket_policy),
    s3("PutBucketTagging", 0.05, "C", build=_s3_sub("tagging")),
    s3("PutBucketLifecycle", 0.02, "C", build=lambda c, r: lifecycle(c, r, r.choice(c.buckets), 365, "expire", "exports/")),
    s3("PutBucketPublicAccessBlock", 0.02, "CA", build=_s3_sub("publicAccessBlock", PublicAccessBlockConfiguration=BLOCK_ALL_PUBLIC_ACCESS)),
]

IAM: list[Api] = [
    iam("GetRole", 6, "CSL", {"roleName": "$role"}, err=E_NO_ROLE),
    iam("ListRoles", 2.5, "SHA"),
    iam("ListUsers", 1.5, "SHA"),
    iam("GetUser", 1.5, "SU", {"userName": "$user"}),
    iam("ListAttachedRolePolicies", 3, "SC", {"roleName": "$role"}),
    iam("ListRolePolicies", 2, "SC", {"roleName": "$role"}),
    iam("GetRolePolicy", 1, "SC", {"roleName": "$role", "policyName": "inline-access"}),
    iam("ListAttachedUserPolicies", 1, "S", {"userName": "$user"}),
    iam("ListGroupsForUser", 0.8, "S", {"userName": "$user"}),
    iam("GetPolicy", 1.5, "SC", {"policyArn": "$policy_arn"}),
    iam("GetPolicyVersion", 1.5, "SC", {"policyArn": "$policy_arn", "versionId": "v3"}),
    iam("ListPolicies", 1, "S", {"scope": "Local", "onlyAttached": False}),
    iam("GetAccountPasswordPolicy", 0.4, "S"),
    iam("GetAccountSummary", 0.4, "SA"),
    iam("ListAccessKeys", 1, "SU", {"userName": "$user"}),
    iam("GetAccessKeyLastUsed", 0.8, "S", {"accessKeyId": "$akid"}),
    iam("ListMFADevices", 0.8, "SU", {"userName": "$user"}),
    iam("GenerateCredentialReport", 0.2, "S"),
    iam("GetCredentialReport", 0.2, "S"),
    iam("ListGroups", 0.4, "S"),
    iam("ListInstanceProfiles", 0.5, "SC"),
    iam("ListOpenIDConnectProviders", 0.2, "S"),
    iam("ListSAMLProviders", 0.2, "S"),
    iam("ListServerCertificates", 0.2, "S"),
    iam("CreateAccessKey", 0.02, "U", dyn=_self_key),
    iam("UpdateAccessKey", 0.02, "U", dyn=_key_op("Inactive")),
    iam("DeleteAccessKey", 0.02, "U", dyn=_key_op(None)),
    iam("ChangePassword", 0.01, "U"),
    iam("AttachRolePolicy", 0.04, "C", {"roleName": "$role", "policyArn": _S3_READ}),
    iam("PutRolePolicy", 0.04, "C", {"roleName": "$role", "policyName": "inline-access", "policyDocument": policy_doc(_INLINE)}),
    iam("TagRole", 0.04, "C", {"roleName": "$role", "tags": [{"key": "owner", "value": "$app"}]}),
    iam("CreatePolicyVersion", 0.03, "C", {"policyArn": "$policy_arn", "policyDocument": policy_doc(_INLINE), "setAsDefault": True}),
    iam("UpdateAssumeRolePolicy", 0.01, "C", {"roleName": "$role", "policyDocument": policy_doc(_TRUST)}),
    iam("CreateUser", 0.005, "A", dyn=_benign_user),
    iam("AttachUserPolicy", 0.005, "A", {"userName": "$user", "policyArn": READ_ONLY}),
]

IDENTITY_AND_KEYS: list[Api] = [
    sts("AssumeRole", 110, "VCPHSA", dyn=_assume),
    sts("GetCallerIdentity", 30, "CHPSU"),
    sts("AssumeRoleWithWebIdentity", 3, "W", dyn=_web_identity),
    sts("GetSessionToken", 0.2, "U", dyn=_session_token),
    kms("Decrypt", 85, "PV", build=_kms("Decrypt"), err=E_CIPHER),
    kms("GenerateDataKey", 38, "PV", build=_kms("GenerateDataKey")),
    kms("Encrypt", 3, "P", build=_kms("Encrypt")),
    kms("DescribeKey", 4, "SLC", {"keyId": "$key_arn"}),
    kms("ListAliases", 2, "SH", {"limit": 100}),
    kms("ListKeys", 1, "S"),
    kms("GetKeyPolicy", 1, "SC", {"keyId": "$key_arn", "policyName": "default"}),
    kms("GetKeyRotationStatus", 1, "S", {"keyId": "$key_arn"}),
    kms("ListResourceTags", 0.6, "SC", {"keyId": "$key_arn"}),
    kms("CreateGrant", 0.5, "L", build=_create_grant),
    kms("RetireGrant", 0.3, "L", {"keyId": "$key_arn", "grantId": "$hex64"}),
    kms("RotateKey", 0.02, "V", build=_rotate_key),
    ssm("GetParameter", 28, "PC", {"name": "$param", "withDecryption": True}, err=E_NO_PARAM),
    ssm("GetParameters", 11, "PC", {"names": "$params3", "withDecryption": True}),
    ssm("GetParametersByPath", 7, "PC", {"path": "$/{env}/{app}/", "recursive": True, "withDecryption": True}),
    ssm("DescribeParameters", 0.5, "SC"),
    ssm("UpdateInstanceInformation", 9, "P", _update_instance_info),
    ssm("ListInstanceAssociations", 3, "P", {"instanceId": "$instance", "maxResults": 50}),
    ssm("DescribeInstanceInformation", 1, "SH", {"maxResults": 50}),
    ssm("PutParameter", 0.05, "C", {"name": "$param", "type": "SecureString", "overwrite": True, "tier": "Standard"}),
    sm("GetSecretValue", 6, "P", {"secretId": "$secret"}, err=E_NO_SECRET),
    sm("DescribeSecret", 2, "SP", {"secretId": "$secret"}),
    sm("ListSecrets", 0.8, "SH", {"maxResults": 100}),
    sm("PutSecretValue", 0.04, "P", {"secretId": "$secret", "clientRequestToken": "$uuid", "versionStages": ["AWSPENDING"]}),
    signin("ConsoleLogin", 0.4, "U", dyn=_console_login),
]

COMPUTE: list[Api] = [
    lam("ListFunctions20150331", 2, "SH", {"functionVersion": "ALL"}),
    lam("GetFunction20150331v2", 2, "CSH", {"functionName": "$fn"}),
    lam("GetFunctionConfiguration20150331v2", 1, "CS", {"functionName": "$fn"}),
    lam("GetPolicy20150331v2", 0.4, "S", {"functionName": "$fn"}),
    lam("ListEventSourceMappings20150331", 0.5, "SC", {"functionName": "$fn"}),
    lam("ListTags20170331", 0.5, "S", {"resource": "$fn_arn"}),
    lam("GetFunctionUrlConfig", 0.2, "S", {"functionName": "$fn"}),
    lam("ListVersionsByFunction20150331", 0.3, "C", {"functionName": "$fn"}),
    lam("UpdateFunctionCode20150331v2", 0.2, "C", build=_update_code),
    lam("UpdateFunctionConfiguration20150331v2", 0.08, "C", {"functionName": "$fn", "timeout": 60, "memorySize": 1024}),
    lam("Invoke", 5, "PV", {"functionName": "$fn_arn", "invocationType": "Event", "logType": "None"}, data=True),
    ecs("DescribeServices", 4, "LCS", {"cluster": "$cluster", "services": ["$svc"]}),
    ecs("DescribeTasks", 3, "LS", {"cluster": "$cluster", "tasks": [_TASK]}),
    ecs("ListTasks", 3, "LC", {"cluster": "$cluster", "serviceName": "$svc", "desiredStatus": "RUNNING"}),
    ecs("DescribeTaskDefinition", 2, "CS", {"taskDefinition": "$task_def"}),
    ecs("ListClusters", 1, "SH"),
    ecs("DescribeClusters", 2, "SLH", {"clusters": ["$cluster"], "include": ["STATISTICS"]}),
    ecs("ListServices", 1, "SH", {"cluster": "$cluster"}),
    ecs("DiscoverPollEndpoint", 5, "P", {"containerInstance": _INSTANCE_ARN, "cluster": "$cluster"}),
    ecs("UpdateService", 0.2, "C", {"cluster": "$cluster", "service": "$svc", "taskDefinition": "$task_def"}),
    ecs("RegisterTaskDefinition", 0.1, "C", _TASK_DEF),
    eks("DescribeCluster", 3, "HCS", {"name": "$eks"}),
    eks("ListClusters", 1, "SH"),
    eks("ListNodegroups", 1, "SC", {"name": "$eks"}),
    eks("DescribeNodegroup", 1, "SC", {"name": "$eks", "nodegroupName": "general"}),
    eks("ListAddons", 0.3, "S", {"name": "$eks"}),
    eks("DescribeAddonVersions", 0.2, "C", {"kubernetesVersion": "1.29"}),
    ecr("GetAuthorizationToken", 3, "PCL"),
    ecr("BatchGetImage", 2, "LP", {**_IMAGE, "acceptedMediaTypes": _MEDIA}),
    ecr("GetDownloadUrlForLayer", 2, "LP", {"registryId": "$account", "repositoryName": "$repo", "layerDigest": "$sha256:{hex64}"}),
    ecr("DescribeRepositories", 0.5, "SC"),
    ecr("DescribeImageScanFindings", 0.3, "S", {"repositoryName": "$repo", "imageId": {"imageTag": "latest"}}),
    ecr("PutImage", 0.1, "C", {"repositoryName": "$repo", "imageTag": "$image_tag", "registryId": "$account"}),
]

DATA: list[Api] = [
    ddb("DescribeTable", 6, "PSC", {"tableName": "$table"}),
    ddb("ListTables", 2, "SH"),
    ddb("DescribeContinuousBackups", 1, "S", {"tableName": "$table"}),
    ddb("DescribeTimeToLive", 0.5, "SC", {"tableName": "$table"}),
    ddb("ListTagsOfResource", 0.5, "SC", {"resourceArn": "$table_arn"}),
    ddb("UpdateTable", 0.04, "C", {"tableName": "$table", "billingMode": "PAY_PER_REQUEST"}),
    ddb("GetItem", 7, "P", build=_ddb({"tableName": "$table", "key": {"pk": HIDDEN}}), data=True),
    ddb("PutItem", 3, "P", build=_ddb({"tableName": "$table", "key": {"pk": HIDDEN}, "item": {"pk": HIDDEN}}), data=True),
    ddb("Query", 4, "P", build=_ddb({**_QUERY, "limit": 100}), data=True),
    rds("DescribeDBInstances", 4, "SLH", {"dBInstanceIdentifier": "$db"}),
    rds("DescribeDBClusters", 2, "SH"),
    rds("DescribeDBSnapshots", 1, "SV", {"dBInstanceIdentifier": "$db", "snapshotType": "automated"}),
    rds("DescribeDBEngineVersions", 0.4, "C", {"engine": "postgres", "engineVersion": "16.3"}),
    rds("DescribeDBSubnetGroups", 0.5, "S"),
    rds("DescribeDBParameterGroups", 0.4, "S"),
    rds("DescribeEvents", 1, "L", {"sourceType": "db-instance", "duration": 60}),
    rds("DescribePendingMaintenanceActions", 0.4, "S"),
    rds("ListTagsForResource", 1, "SC", {"resourceName": "$db_arn"}),
    rds("CreateDBSnapshot", 0.05, "V", {"dBSnapshotIdentifier": "$awsbackup-job-{hex8}", "dBInstanceIdentifier": "$db"}),
    sns("ListTopics", 1, "SH"),
    sns("GetTopicAttributes", 2, "SCP", {"topicArn": "$topic"}),
    sns("ListSubscriptionsByTopic", 0.5, "S", {"topicArn": "$topic"}),
    sns("CreateTopic", 0.02, "C", {"name": "${svc}-alerts"}),
    sns("Subscribe", 0.03, "C", {**_SUBSCRIBE, "returnSubscriptionArn": True}),
    sns("SetTopicAttributes", 0.02, "C", {"topicArn": "$topic", "attributeName": "DisplayName", "attributeValue": "alerts"}),
    sqs("ListQueues", 1, "SH"),
    sqs("GetQueueAttributes", 4, "PLS", {"queueUrl": "$queue", "attributeNames": ["All"]}),
    sqs("GetQueueUrl", 2, "P", {"queueName": "$queue_name"}),
    sqs("ListQueueTags", 0.3, "S", {"queueUrl": "$queue"}),
    sqs("SetQueueAttributes", 0.05, "C", {"queueUrl": "$queue", "attributes": _QUEUE_ATTRS}),
    sqs("CreateQueue", 0.02, "C", {"queueName": "${svc}-dlq", "attributes": {"SqsManagedSseEnabled": "true"}}),
]

OPERATIONS: list[Api] = [
    cw("GetMetricData", 9, "SLH", dyn=_metric_data),
    cw("GetMetricStatistics", 4, "SLP", dyn=_metric_stats),
    cw("DescribeAlarms", 5, "SHL", {"stateValue": "ALARM", "maxRecords": 100}),
    cw("ListMetrics", 3, "SH", {"namespace": "AWS/ECS"}),
    cw("PutMetricAlarm", 0.1, "C", _ALARM),
    logs("DescribeLogGroups", 4, "SHL", {"logGroupNamePrefix": "/aws/lambda/"}),
    logs("DescribeLogStreams", 3, "HP", {"logGroupName": "$log_group", "orderBy": "LastEventTime", "descending": True}),
    logs("FilterLogEvents", 1, "H", dyn=_filter_logs),
    logs("GetLogEvents", 1, "H", {"logGroupName": "$log_group", "logStreamName": "$stream", "startFromHead": False}),
    logs("StartQuery", 0.3, "H", dyn=_start_query),
    logs("GetQueryResults", 0.8, "H", {"queryId": "$uuid"}),
    logs("CreateLogStream", 12, "PL", {"logGroupName": "$log_group", "logStreamName": "$stream"}),
    logs("CreateLogGroup", 0.1, "CL", {"logGroupName": "$log_group"}, err=E_LOG_EXISTS),
    logs("PutRetentionPolicy", 0.05, "C", {"logGroupName": "$log_group", "retentionInDays": 30}),
    cfn("DescribeStacks", 5, "CSH", {"stackName": "$stack"}, err=E_NO_STACK),
    cfn("ListStacks", 1, "SH", {"stackStatusFilter": _STACK_STATES}),
    cfn("DescribeStackEvents", 3, "CH", {"stackName": "$stack"}),
    cfn("GetTemplate", 0.5, "CS", {"stackName": "$stack", "templateStage": "Original"}),
    cfn("DescribeStackResources", 1, "CS", {"stackName": "$stack"}),
    cfn("ListStackResources", 1, "SC", {"stackName": "$stack"}),
    cfn("GetTemplateSummary", 0.3, "C", _TEMPLATE),
    cfn("ValidateTemplate", 0.2, "C", _TEMPLATE),
    cfn("DescribeChangeSet", 0.3, "C", {"changeSetName": "$deploy-{hex8}", "stackName": "$stack"}),
    cfn("CreateChangeSet", 0.1, "C", build=_change_set),
    cfn("ExecuteChangeSet", 0.1, "C", {"changeSetName": "$deploy-{hex8}", "stackName": "$stack"}),
    cfn("UpdateStack", 0.03, "C", {"stackName": "$stack", "usePreviousTemplate": True, "capabilities": ["CAPABILITY_IAM"]}),
    r53("ListHostedZones", 1, "SH"),
    r53("GetHostedZone", 0.5, "SC", {"id": "$zone"}),
    r53("ListResourceRecordSets", 1, "SCL", {"hostedZoneId": "$zone"}),
    r53("GetChange", 0.3, "C", {"id": "$C{hex8}"}),
    r53("ListHealthChecks", 0.2, "S"),
    r53("ChangeResourceRecordSets", 0.08, "C", {"hostedZoneId": "$zone", "changeBatch": _UPSERT}),
    elb("DescribeLoadBalancers", 3, "SLH", {"loadBalancerArns": ["$lb"]}),
    elb("DescribeTargetGroups", 2, "SLC", {"loadBalancerArn": "$lb"}),
    elb("DescribeTargetHealth", 4, "LC", {"targetGroupArn": "$tg"}),
    elb("DescribeListeners", 1, "SC", {"loadBalancerArn": "$lb"}),
    elb("DescribeLoadBalancerAttributes", 1, "S", {"loadBalancerArn": "$lb"}),
    elb("DescribeRules", 0.3, "S", {"listenerArn": "$lb"}),
    elb("RegisterTargets", 0.5, "L", _TARGETS),
    elb("DeregisterTargets", 0.5, "L", _TARGETS),
    asg("DescribeAutoScalingGroups", 4, "LSC", {"autoScalingGroupNames": ["$asg"]}),
    asg("DescribeScalingActivities", 1, "LC", {"autoScalingGroupName": "$asg"}),
    asg("DescribeLaunchConfigurations", 0.4, "S"),
    asg("DescribeAutoScalingInstances", 1, "L", {"instanceIds": ["$instance"]}),
    asg("DescribeLifecycleHooks", 0.3, "L", {"autoScalingGroupName": "$asg"}),
    asg("DescribePolicies", 0.3, "S", {"autoScalingGroupName": "$asg"}),
    asg("SetDesiredCapacity", 0.05, "CH", {"autoScalingGroupName": "$asg", "desiredCapacity": 4, "honorCooldown": False}),
    asg("UpdateAutoScalingGroup", 0.05, "C", {"autoScalingGroupName": "$asg", "minSize": 2, "maxSize": 10}),
]

GOVERNANCE: list[Api] = [
    cfg("DescribeConfigRules", 1, "SL"),
    cfg("DescribeConfigurationRecorders", 1, "S"),
    cfg("DescribeConfigurationRecorderStatus", 1, "SL"),
    cfg("DescribeDeliveryChannels", 0.5, "S"),
    cfg("PutEvaluations", 4, "L", dyn=_put_evaluations),
    cfg("GetComplianceDetailsByConfigRule", 0.5, "SH", _COMPLIANCE),
    cfg("SelectResourceConfig", 0.3, "S", _SELECT),
    cfg("StartConfigurationRecorder", 0.005, "A", {"configurationRecorderName": "default"}),
    gd("ListDetectors", 2, "SH"),
    gd("GetDetector", 1, "S", {"detectorId": "$detector"}),
    gd("ListFindings", 1, "SH", {"detectorId": "$detector", "findingCriteria": _GD_CRITERIA, "maxResults": 50}),
    gd("GetFindings", 1, "SH", {"detectorId": "$detector", "findingIds": ["$hex32", "$hex32"]}),
    gd("GetFindingsStatistics", 0.5, "S", {"detectorId": "$detector", "findingStatisticTypes": ["COUNT_BY_SEVERITY"]}),
    gd("ListMembers", 0.2, "S", {"detectorId": "$detector", "onlyAssociated": "true"}),
    gd("UpdateDetector", 0.005, "A", build=lambda c, r: update_detector(c, True, "FIFTEEN_MINUTES")),
    sh("GetFindings", 3, "SH", {"filters": _SH_FILTERS, "maxResults": 100}),
    sh("BatchImportFindings", 3, "V"),
    sh("DescribeHub", 0.5, "S"),
    sh("GetEnabledStandards", 0.5, "S"),
    sh("DescribeStandardsControls", 0.3, "S", {"standardsSubscriptionArn": _FSBP}),
    sh("BatchUpdateFindings", 0.15, "H", _RESOLVE),
    ct("LookupEvents", 2, "HS", dyn=_lookup_events),
    ct("DescribeTrails", 2, "SH", {"trailNameList": [], "includeShadowTrails": True}),
    ct("GetTrailStatus", 2, "S", {"name": "$trail_arn"}),
    ct("GetEventSelectors", 1, "S", {"trailName": "$trail_arn"}),
    ct("ListTrails", 0.5, "S"),
    ct("GetTrail", 0.5, "S", {"name": "$trail_arn"}),
    ct("GetInsightSelectors", 0.3, "S", {"trailName": "$trail_arn"}),
    ct("UpdateTrail", 0.004, "A", build=lambda c, r: update_trail(c, LOCAL_TRAIL, c.trail_bucket)),
    ct("PutEventSelectors", 0.004, "A", build=lambda c, r: event_selectors(c, LOCAL_TRAIL, True, True)),
    org("DescribeOrganization", 2, "SCH"),
    org("ListAccounts", 1, "SH", mgmt_only=True),
    org("DescribeAccount", 1, "S", {"accountId": "$org_account"}, mgmt_only=True),
    org("ListPoliciesForTarget", 0.3, "S", {"targetId": "$org_account", "filter": "SERVICE_CONTROL_POLICY"}, mgmt_only=True),
    org("ListRoots", 0.3, "S", mgmt_only=True),
    org("ListOrganizationalUnitsForParent", 0.3, "S", {"parentId": "$r-{hex8}"}, mgmt_only=True),
    org("DescribePolicy", 0.2, "S", {"policyId": "$p-{hex8}"}, mgmt_only=True),
    org("ListAWSServiceAccessForOrganization", 0.2, "S", mgmt_only=True),
    ce("GetCostAndUsage", 0.5, "HA", _COST, mgmt_only=True),
    tag("GetResources", 1, "S", {"resourceTypeFilters": ["ec2:instance"], "resourcesPerPage": 100}),
]
# fmt: on

CATALOG: tuple[Api, ...] = (*EC2, *S3, *IAM, *IDENTITY_AND_KEYS, *COMPUTE, *DATA, *OPERATIONS, *GOVERNANCE)
