"""Enumerate SES: can this account send email, how much, and from which identities."""

from __future__ import annotations

from cloudsoc.aws.sandbox import REGIONS
from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, Technique, technique

DOMAIN = "notify.example-retail.com"  # the account's own sending domain


@technique
class SesEnumerate(Technique):
    title = "Enumerate SES"
    attack = ("T1526",)
    expects = ("ses_enumeration",)
    description = (
        "Checks in every region, with stolen keys, whether SES sending is enabled, the sending quota "
        "and the verified identities, and their verification status: the first steps before using an "
        "account to send phishing or spam."
    )
    synthetic = ("ses:GetAccountSendingEnabled",)  # the sandbox lacks it

    def warmup(self, ctx: Ctx) -> Json:
        client("ses", session=ctx.admin()).verify_domain_identity(Domain=DOMAIN)
        return {"domain": DOMAIN}

    def detonate(self, ctx: Ctx, state: Json) -> None:
        for region in REGIONS:
            attacker = ctx.attacker(region=region)
            ctx.synthetic(
                attacker, "ses", "GetAccountSendingEnabled", {}, response={"Enabled": True}, region=region
            )
            ses = client("ses", session=attacker)
            ses.get_send_quota()
            identities = ses.list_identities()["Identities"]
            if identities:
                ses.get_identity_verification_attributes(Identities=identities)

    def revert(self, ctx: Ctx, state: Json) -> None:
        client("ses", session=ctx.admin()).delete_identity(Identity=state["domain"])  # no error when absent
