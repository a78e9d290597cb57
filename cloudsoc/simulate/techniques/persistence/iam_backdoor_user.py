"""Create an access key for an existing IAM user other than the one the intruder holds."""

from __future__ import annotations

from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, Technique, technique
from cloudsoc.simulate.techniques.persistence._iam import delete_user

USER = "svc-reporting"


@technique
class IamBackdoorUser(Technique):
    title = "Create an access key on an IAM user"
    attack = ("T1098.001",)
    expects = ("iam_access_key_created_for_other_user",)
    description = (
        "Mints a new access key for another existing IAM user, a credential that outlives the stolen one."
    )

    def warmup(self, ctx: Ctx) -> Json:
        client("iam", session=ctx.admin()).create_user(UserName=USER)
        return {"user": USER}

    def detonate(self, ctx: Ctx, state: Json) -> None:
        client("iam", session=ctx.attacker()).create_access_key(UserName=state["user"])

    def revert(self, ctx: Ctx, state: Json) -> None:
        delete_user(ctx, state["user"])
