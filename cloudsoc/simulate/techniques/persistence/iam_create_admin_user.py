"""Create an administrative IAM user with an access key."""

from __future__ import annotations

from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, Technique, technique

USER = "malicious-iam-user"


@technique
class IamCreateAdminUser(Technique):
    title = "Create an administrative IAM user"
    attack = ("T1136.003", "T1098")
    expects = ("iam_admin_policy_attached", "iam_new_user_with_credentials")
    description = "Creates a user, attaches AdministratorAccess to it and gives it an access key."

    def detonate(self, ctx: Ctx, state: Json) -> None:
        iam = client("iam", session=ctx.attacker())
        iam.create_user(UserName=USER)
        iam.attach_user_policy(UserName=USER, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
        iam.create_access_key(UserName=USER)

    def revert(self, ctx: Ctx, state: Json) -> None:
        iam = client("iam", session=ctx.admin())
        try:
            for key in iam.list_access_keys(UserName=USER)["AccessKeyMetadata"]:
                iam.delete_access_key(UserName=USER, AccessKeyId=key["AccessKeyId"])
            iam.detach_user_policy(UserName=USER, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
            iam.delete_user(UserName=USER)
        except iam.exceptions.NoSuchEntityException:
            pass  # already gone
