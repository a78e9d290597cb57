"""How cloudsoc reaches a target account to act in it: its own identity assumes the responder role
there (``CloudSOCResponder``), as in a real organization. Sessions are cached per account and region."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3

from cloudsoc.aws.session import assume_role, endpoint_of, make_session, role_arn

if TYPE_CHECKING:
    from cloudsoc.core.config import Home


class Responder:
    def __init__(self, base: boto3.Session, role: str = "CloudSOCResponder", *, sandbox: bool = False,
                 tiers: dict[str, str] | None = None, org_accounts: list[str] | None = None) -> None:  # fmt: skip
        self.base = base
        self.role = role
        self.sandbox = sandbox  # the sandbox applies changes without the real-AWS safeguards
        self.tiers = tiers or {}  # account id -> tier (prod, dev, ...): playbooks choose on it
        self.org_accounts = org_accounts or []  # the organization's own accounts: sharing among them is fine
        self._cache: dict[tuple[str, str], boto3.Session] = {}

    @classmethod
    def for_home(cls, home: Home) -> Responder:
        """The sandbox's responder when the home runs one, else the ambient AWS credentials."""
        from cloudsoc.aws.sandbox import RESPONDER_ROLE, SOC_USER, Sandbox

        settings = home.settings
        org = settings.detect.placeholders.get("org_accounts", [])  # the same list the rules use
        sb = Sandbox(home.root)
        if sb.status().get("running"):
            state = sb.state()
            k = state.keys[f"security/{SOC_USER}"]
            base = make_session(k["AccessKeyId"], k["SecretAccessKey"], endpoint=state.endpoint)
            tiers = {acct: name for name, acct in state.accounts.items()} | settings.respond.account_tiers
            return cls(
                base, RESPONDER_ROLE, sandbox=True, tiers=tiers, org_accounts=[*state.accounts.values(), *org]
            )
        return cls(boto3.Session(), settings.respond.responder_role, tiers=settings.respond.account_tiers,
                   org_accounts=org)  # fmt: skip

    def tier(self, account_id: str | None) -> str:
        return self.tiers.get(account_id or "", "unknown")

    def session(self, account_id: str, region: str = "us-east-1") -> boto3.Session:
        key = (account_id, region)
        if key not in self._cache:
            assumed = assume_role(self.base, role_arn(account_id, self.role), "cloudsoc-responder")
            self._cache[key] = _in_region(assumed, region)
        return self._cache[key]


def _in_region(session: boto3.Session, region: str) -> boto3.Session:
    creds = session.get_credentials()
    if creds is None:
        raise ValueError("session has no credentials")
    f = creds.get_frozen_credentials()
    return make_session(
        str(f.access_key), str(f.secret_key), f.token, region=region, endpoint=endpoint_of(session)
    )
