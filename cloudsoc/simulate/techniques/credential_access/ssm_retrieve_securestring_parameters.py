"""Retrieve and decrypt a high number of SSM SecureString parameters."""

from __future__ import annotations

from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, Technique, technique

BATCH = 10  # the most GetParameters accepts
APPS = ("billing", "search", "notifications", "reporting", "payments", "identity")
KINDS = ("db-password", "api-key", "oauth-client-secret", "smtp-password", "signing-key")


@technique
class SsmRetrieveSecureStringParameters(Technique):
    title = "Retrieve and decrypt SSM parameters"
    attack = ("T1555.006",)
    expects = ("ssm_parameters_bulk_batch_retrieval",)
    description = (
        "Lists the region's SSM parameters with stolen keys and decrypts their values ten at a time "
        "with GetParameters."
    )

    def warmup(self, ctx: Ctx) -> Json:
        ssm = client("ssm", session=ctx.admin())
        names = [f"/prod/{app}/{kind}" for app in APPS for kind in KINDS]
        for name in names:
            ssm.put_parameter(
                Name=name, Value=f"sandbox-{name.rsplit('/', 1)[-1]}", Type="SecureString", Overwrite=True
            )
        return {"parameters": names}

    def detonate(self, ctx: Ctx, state: Json) -> None:
        ssm = client("ssm", session=ctx.attacker())
        pages = ssm.get_paginator("describe_parameters").paginate(PaginationConfig={"PageSize": BATCH})
        names = [p["Name"] for page in pages for p in page["Parameters"]]
        for start in range(0, len(names), BATCH):
            ssm.get_parameters(Names=names[start : start + BATCH], WithDecryption=True)

    def revert(self, ctx: Ctx, state: Json) -> None:
        ssm = client("ssm", session=ctx.admin())
        names = state["parameters"]
        for start in range(0, len(names), BATCH):  # names already gone are reported, not raised
            ssm.delete_parameters(Names=names[start : start + BATCH])
