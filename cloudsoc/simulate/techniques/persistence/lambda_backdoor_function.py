"""Backdoor a Lambda function's resource-based policy so that anyone may invoke it."""

from __future__ import annotations

from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, Technique, technique
from cloudsoc.simulate.techniques.persistence._lambda import create_function, delete_function


@technique
class LambdaBackdoorFunction(Technique):
    title = "Backdoor a Lambda function through its resource-based policy"
    attack = ("T1098",)
    expects = ("lambda_function_policy_external_principal",)
    description = (
        "Adds a statement to a function's resource-based policy that lets any AWS principal invoke it."
    )

    def warmup(self, ctx: Ctx) -> Json:
        name = f"invoice-renderer-{ctx.run_id}"
        create_function(ctx, name)
        return {"function": name}

    def detonate(self, ctx: Ctx, state: Json) -> None:
        client("lambda", session=ctx.attacker()).add_permission(
            FunctionName=state["function"],
            StatementId="allow-invoke",
            Action="lambda:InvokeFunction",
            Principal="*",
        )

    def revert(self, ctx: Ctx, state: Json) -> None:
        delete_function(ctx, state["function"])
