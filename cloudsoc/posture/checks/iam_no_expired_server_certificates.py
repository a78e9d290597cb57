"""CIS 2.17: expired SSL/TLS certificates stored in IAM are removed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._iam import when


@check(title="No expired server certificate is stored in IAM", severity="medium", services=("iam",),
       scope="account", resource_type="AWS::IAM::ServerCertificate")  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """Each server certificate (``ListServerCertificates``) whose ``Expiration`` is before the
    collection is FAIL."""
    certs = ctx.get("iam", "ListServerCertificates")["ServerCertificateMetadataList"]

    def judge(cert: dict[str, Any]) -> Result:
        expires = when(cert.get("Expiration"))
        ok = expires is None or expires > ctx.now
        return ctx.verdict(ok, cert["Arn"], f"{cert['ServerCertificateName']} has not expired",
                           f"{cert['ServerCertificateName']} expired", Expiration=cert.get("Expiration"))  # fmt: skip

    yield from ctx.each(certs, lambda c: str(c["Arn"]), judge)
