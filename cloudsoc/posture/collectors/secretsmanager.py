"""Secrets Manager: the secrets (whether rotation is on is in the listing)."""

from __future__ import annotations

from cloudsoc.posture.collector import CollectContext, collector


@collector("secretsmanager")
def collect(c: CollectContext) -> None:
    c.pages("ListSecrets")
