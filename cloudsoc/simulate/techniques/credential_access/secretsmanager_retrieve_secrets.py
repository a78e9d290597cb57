"""Retrieve a high number of Secrets Manager secrets, one GetSecretValue each."""

from __future__ import annotations

from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, Technique, technique

COUNT = 20


@technique
class SecretsManagerRetrieveSecrets(Technique):
    title = "Retrieve a high number of Secrets Manager secrets"
    attack = ("T1555.006",)
    expects = ("secrets_bulk_retrieval",)
    description = "Lists the account's secrets with stolen keys, then reads the value of each one."

    def warmup(self, ctx: Ctx) -> Json:
        sm = client("secretsmanager", session=ctx.admin())
        arns = [
            sm.create_secret(Name=f"stratus-app/secret-{i}", SecretString=f"value-{i}")["ARN"]
            for i in range(COUNT)
        ]
        return {"secrets": arns}

    def detonate(self, ctx: Ctx, state: Json) -> None:
        sm = client("secretsmanager", session=ctx.attacker())
        for page in sm.get_paginator("list_secrets").paginate():
            for secret in page["SecretList"]:
                sm.get_secret_value(SecretId=secret["ARN"])

    def revert(self, ctx: Ctx, state: Json) -> None:
        sm = client("secretsmanager", session=ctx.admin())
        for arn in state["secrets"]:
            sm.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
