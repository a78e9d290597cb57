"""Sign in to the AWS console as an IAM user that has a password and no MFA device."""

from __future__ import annotations

import contextlib
import secrets

from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, Technique, technique

USER = "contractor-qa"  # a console user left behind by a finished engagement


@technique
class ConsoleLoginWithoutMfa(Technique):
    title = "Console login without MFA"
    attack = ("T1078.004",)
    expects = ("console_login_without_mfa",)
    description = (
        "Signs in to the console as an IAM user whose password leaked and who has no MFA device: a "
        "mistyped first attempt, then a successful sign-in with the password alone."
    )

    def warmup(self, ctx: Ctx) -> Json:
        iam = client("iam", session=ctx.admin())
        iam.create_user(UserName=USER)
        iam.create_login_profile(
            UserName=USER, Password=f"{secrets.token_urlsafe(12)}aA1!", PasswordResetRequired=False
        )
        return {"user": USER}

    def detonate(self, ctx: Ctx, state: Json) -> None:
        ctx.console_login(state["user"], mfa=False, success=False)
        ctx.console_login(state["user"], mfa=False)

    def revert(self, ctx: Ctx, state: Json) -> None:
        iam = client("iam", session=ctx.admin())
        with contextlib.suppress(iam.exceptions.NoSuchEntityException):  # no password left
            iam.delete_login_profile(UserName=state["user"])
        with contextlib.suppress(iam.exceptions.NoSuchEntityException):  # already gone
            iam.delete_user(UserName=state["user"])
