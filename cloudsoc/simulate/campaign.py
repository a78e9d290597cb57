"""An intrusion as it unfolds: stolen CI/CD keys used for discovery, credential theft,
persistence, defense evasion and exfiltration, with the organization's regulars working around it."""

from __future__ import annotations

from collections.abc import Callable

from cloudsoc.simulate.runner import Runner, RunResult

STAGES: list[tuple[str, list[str]]] = [
    ("discovery", ["aws.discovery.ec2-download-user-data"]),
    (
        "credential access",
        [
            "aws.credential-access.secretsmanager-retrieve-secrets",
            "aws.credential-access.ec2-steal-instance-credentials",
        ],
    ),
    ("persistence", ["aws.persistence.iam-create-admin-user", "aws.persistence.iam-backdoor-role"]),
    ("defense evasion", ["aws.defense-evasion.cloudtrail-stop", "aws.defense-evasion.vpc-remove-flow-logs"]),
    (
        "exfiltration",
        ["aws.exfiltration.ec2-share-ebs-snapshot", "aws.exfiltration.s3-backdoor-bucket-policy"],
    ),
]


def run_campaign(
    runner: Runner,
    account: str = "prod",
    between: Callable[[], object] | None = None,
    progress: Callable[[str, RunResult], None] | None = None,
) -> list[RunResult]:
    """Detonate every stage in order under one run id; ``between`` runs before each stage."""
    ctx = runner.context(account)
    results = []
    for stage, techniques in STAGES:
        if between:
            between()
        for tid in techniques:
            result = runner.run(tid, account, ctx=ctx)
            results.append(result)
            if progress:
                progress(stage, result)
    return results


def revert_campaign(runner: Runner) -> None:
    for _, techniques in reversed(STAGES):
        for tid in reversed(techniques):
            runner.revert(tid)
