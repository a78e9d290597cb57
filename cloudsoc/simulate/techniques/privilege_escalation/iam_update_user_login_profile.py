"""Change another IAM user's console password to take over its console login."""

from __future__ import annotations

from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, Technique, technique
from cloudsoc.simulate.techniques.persistence._iam import delete_user, password

USER = "maria.finance"


@technique
class IamUpdateUserLoginProfile(Technique):
    title = "Change an IAM user's password"
    attack = ("T1098.001",)
    expects = ("iam_console_password_set_for_other_user",)
    description = "Resets the console password of another IAM user that already signs in to the console."

    def warmup(self, ctx: Ctx) -> Json:
        iam = client("iam", session=ctx.admin())
        iam.create_user(UserName=USER)
        iam.create_login_profile(UserName=USER, Password=password())
        return {"user": USER}

    def detonate(self, ctx: Ctx, state: Json) -> None:
        client("iam", session=ctx.attacker()).update_login_profile(
            UserName=state["user"], Password=password(), PasswordResetRequired=False
        )

    def revert(self, ctx: Ctx, state: Json) -> None:
        delete_user(ctx, state["user"])
