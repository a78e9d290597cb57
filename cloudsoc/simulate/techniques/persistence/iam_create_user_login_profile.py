"""Give an existing IAM user a console password, turning it into a console login for the intruder."""

from __future__ import annotations

from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, Technique, technique
from cloudsoc.simulate.techniques.persistence._iam import delete_user, password

USER = "svc-analytics-export"


@technique
class IamCreateUserLoginProfile(Technique):
    title = "Create a login profile on an IAM user"
    attack = ("T1098.001",)
    expects = ("iam_console_password_set_for_other_user",)
    description = "Creates a console password for another IAM user that had none, without forcing a reset."

    def warmup(self, ctx: Ctx) -> Json:
        client("iam", session=ctx.admin()).create_user(UserName=USER)
        return {"user": USER}

    def detonate(self, ctx: Ctx, state: Json) -> None:
        client("iam", session=ctx.attacker()).create_login_profile(
            UserName=state["user"], Password=password(), PasswordResetRequired=False
        )

    def revert(self, ctx: Ctx, state: Json) -> None:
        delete_user(ctx, state["user"])
