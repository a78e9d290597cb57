"""Retrieve a high number of Secrets Manager secrets in batches, with BatchGetSecretValue."""

from __future__ import annotations

import contextlib
import json

from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, Technique, technique

BATCH = 10
APPS = ("billing", "search", "notifications", "reporting")
KINDS = ("db-password", "api-token", "oauth-client-secret", "smtp-password", "signing-key")


@technique
class SecretsManagerBatchRetrieveSecrets(Technique):
    title = "Retrieve a high number of Secrets Manager secrets (batch)"
    attack = ("T1555.006",)
    expects = ("secrets_bulk_retrieval",)
    description = (
        "Lists the account's secrets with stolen keys and reads their values ten at a time with "
        "BatchGetSecretValue; Secrets Manager logs a GetSecretValue record for every secret returned."
    )
    synthetic = ("secretsmanager:GetSecretValue",)  # the per-secret records the service writes itself

    def warmup(self, ctx: Ctx) -> Json:
        sm = client("secretsmanager", session=ctx.admin())
        arns = [sm.create_secret(Name=f"prod/{app}/{kind}", SecretString=json.dumps({"value": f"{app}-{kind}"}),
                                 Tags=[{"Key": "app", "Value": app}])["ARN"]
                for app in APPS for kind in KINDS]  # fmt: skip
        return {"secrets": arns}

    def detonate(self, ctx: Ctx, state: Json) -> None:
        attacker = ctx.attacker()
        sm = client("secretsmanager", session=attacker)
        arns = [s["ARN"] for page in sm.get_paginator("list_secrets").paginate() for s in page["SecretList"]]
        for start in range(0, len(arns), BATCH):
            batch = sm.batch_get_secret_value(SecretIdList=arns[start : start + BATCH])
            for secret in batch["SecretValues"]:
                ctx.synthetic(attacker, "secretsmanager", "GetSecretValue", {"SecretId": secret["ARN"]})

    def revert(self, ctx: Ctx, state: Json) -> None:
        sm = client("secretsmanager", session=ctx.admin())
        for arn in state["secrets"]:
            with contextlib.suppress(sm.exceptions.ResourceNotFoundException):  # already gone
                sm.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
