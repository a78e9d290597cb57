"""Which accounts and regions a posture run looks at, and how it reaches them: the sandbox
organization when the home runs one, else the AWS organization the ambient credentials can list."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import ClientError

from cloudsoc.aws.sandbox import HOME_REGION, READ_ONLY_ROLE, REGIONS, Sandbox
from cloudsoc.aws.session import assume_role, client, endpoint_of, make_session, role_arn
from cloudsoc.core.errors import ConfigError
from cloudsoc.posture.collect import Scope, Target

if TYPE_CHECKING:
    from cloudsoc.core.config import Home


# Organizations' answers that mean "this account is on its own": not in an organization, or not allowed
# to list it (a member account's credentials).
_ALONE = frozenset({"AWSOrganizationsNotInUseException", "AccessDeniedException", "AccessDenied"})


def for_home(home: Home, accounts: list[str] | None = None, regions: list[str] | None = None) -> Scope:
    sb = Sandbox(home.root)
    scope = _sandbox(home, sb) if sb.status().get("running") else _organization(home)
    if accounts:
        wanted = set(accounts)
        scope.targets = [t for t in scope.targets if t.account in wanted or t.name in wanted]
        if not scope.targets:
            raise ConfigError(f"no account matches {', '.join(accounts)}")
    if regions:
        scope.regions = list(regions)
    return scope


def _sandbox(home: Home, sb: Sandbox) -> Scope:
    state = sb.state()
    tiers = home.settings.respond.account_tiers
    targets = []
    for name, acct in state.accounts.items():
        base = _Lazy(partial(sb.soc_session, state, acct, READ_ONLY_ROLE))
        targets.append(Target(acct, name, tiers.get(acct, name), base.in_region))
    return Scope(targets, list(REGIONS), HOME_REGION)


def _organization(home: Home) -> Scope:
    cfg = home.settings.posture
    base = boto3.Session()
    own = client("sts", session=base).get_caller_identity()["Account"]
    try:
        listed = [a for page in client("organizations", session=base).get_paginator("list_accounts").paginate()
                  for a in page["Accounts"] if a["Status"] == "ACTIVE"]  # fmt: skip
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in _ALONE:
            raise
        listed = [{"Id": own, "Name": own}]
    tiers = home.settings.respond.account_tiers
    targets = []
    for a in listed:
        if cfg.accounts and a["Id"] not in cfg.accounts:
            continue
        reach = (_Lazy(lambda: base) if a["Id"] == own
                 else _Lazy(partial(assume_role, base, role_arn(a["Id"], cfg.read_only_role), "cloudsoc-posture")))  # fmt: skip
        targets.append(Target(a["Id"], a.get("Name", a["Id"]), tiers.get(a["Id"], ""), reach.in_region))
    return Scope(targets, list(cfg.regions), cfg.regions[0] if cfg.regions else "us-east-1")


class _Lazy:
    """Assume the role on first use (an account the run never reaches costs nothing), then hand out
    the same credentials in any region."""

    def __init__(self, make: Callable[[], boto3.Session]) -> None:
        self._make = make
        self._session: boto3.Session | None = None

    def in_region(self, region: str) -> boto3.Session:
        if self._session is None:
            self._session = self._make()
        creds = self._session.get_credentials()
        if creds is None:
            raise ConfigError("no AWS credentials")
        f = creds.get_frozen_credentials()
        return make_session(str(f.access_key), str(f.secret_key), f.token, region=region,
                            endpoint=endpoint_of(self._session))  # fmt: skip
