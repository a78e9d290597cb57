"""Secrets Manager secrets rotate automatically."""

from __future__ import annotations

from collections.abc import Iterator

from cloudsoc.posture.check import CheckContext, Result, check


@check(title="Secrets Manager secrets have automatic rotation enabled", severity="medium",
       services=("secretsmanager",), resource_type="AWS::SecretsManager::Secret")  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """The secret's ``RotationEnabled`` is true in the listing (absent means never configured).
    Rotation needs a rotation function that knows the secret's system: there is no automatic fix."""
    for secret in (ctx.get("secretsmanager", "ListSecrets") or {}).get("SecretList", []):
        on = bool(secret.get("RotationEnabled"))
        days = (secret.get("RotationRules") or {}).get("AutomaticallyAfterDays")
        yield ctx.verdict(on, str(secret["ARN"]), "rotation is enabled", "rotation is not enabled",
                          RotationEnabled=on, AutomaticallyAfterDays=days,
                          LastRotatedDate=secret.get("LastRotatedDate"))  # fmt: skip
