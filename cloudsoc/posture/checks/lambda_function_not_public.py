"""Lambda functions cannot be invoked by everyone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudsoc.posture.check import CheckContext, Result, check
from cloudsoc.posture.checks._public import public_statements


@check(title="Lambda function policies do not allow public access", severity="critical",
       services=("lambda",), resource_type="AWS::Lambda::Function")  # fmt: skip
def run(ctx: CheckContext) -> Iterator[Result]:
    """A function is public when its resource-based policy has an Allow statement for everyone
    (Principal "*") without a condition narrowing the callers to known ones (aws:SourceAccount,
    aws:SourceArn, aws:PrincipalOrgID and the like, with accounts of the organization). A function
    without a policy passes."""
    functions = (ctx.get("lambda", "ListFunctions") or {}).get("Functions", [])
    trusted = {ctx.account, *ctx.accounts}

    def judge(fn: dict[str, Any]) -> Result:
        answer = ctx.get("lambda", "GetPolicy", fn["FunctionName"])
        found = public_statements(answer and answer.get("Policy"), trusted)
        return ctx.verdict(not found, str(fn["FunctionArn"]), "its policy does not allow everyone",
                           "its policy allows everyone to invoke it", public_statements=found,
                           has_policy=answer is not None)  # fmt: skip

    yield from ctx.each(functions, lambda f: str(f["FunctionArn"]), judge)
