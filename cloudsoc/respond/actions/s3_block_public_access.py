"""Turn on S3 Block Public Access for a bucket and, when asked, for its whole account."""

from __future__ import annotations

import functools
from typing import Any

import boto3
from botocore.exceptions import ClientError

from cloudsoc.aws.api import BLOCK_ALL_PUBLIC_ACCESS
from cloudsoc.aws.session import address_s3control_locally, client
from cloudsoc.respond.action import Action, ActionParams, action
from cloudsoc.respond.actions._aws import is_not_found


def s3control_client(session: boto3.Session, account_id: str, region: str = "us-east-1") -> Any:
    """An S3 Control client that also works on a local endpoint (the sandbox)."""
    return address_s3control_locally(client("s3control", region=region, session=session), account_id)


class BlockPublicAccessParams(ActionParams):
    bucket: str
    account_level: bool = True  # also the account-wide setting (S3 Control)


@action
class BlockPublicAccess(Action[BlockPublicAccessParams]):
    name = "s3.block_public_access"
    summary = (
        "Turn on all four S3 Block Public Access settings on a bucket (and account-wide when asked); "
        "revert restores the previous settings"
    )
    permissions = ("s3:GetBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock",
                   "s3:GetAccountPublicAccessBlock", "s3:PutAccountPublicAccessBlock")  # fmt: skip
    # Deleting a public access block is authorised by its Put permission.
    revert_permissions = permissions
    params_model = BlockPublicAccessParams

    @functools.cached_property
    def _s3control(self) -> Any:
        return s3control_client(self.session, self.params.account_id, self.params.region)

    def read(self) -> dict[str, Any]:
        p = self.params
        state: dict[str, Any] = {
            "bucket": p.bucket,
            "exists": True,
            "bucket_block": None,
            "account_block": None,
        }
        try:
            answer = self.client("s3").get_public_access_block(Bucket=p.bucket)
            state["bucket_block"] = dict(answer["PublicAccessBlockConfiguration"])
        except ClientError as exc:
            if is_not_found(exc, "NoSuchBucket"):
                return state | {"exists": False}
            if not is_not_found(exc, "NoSuchPublicAccessBlockConfiguration"):
                raise
        if p.account_level:
            state["account_block"] = self._account_block()
        return state

    def _account_block(self) -> dict[str, Any] | None:
        try:
            answer = self._s3control.get_public_access_block(AccountId=self.params.account_id)
        except ClientError as exc:
            if is_not_found(exc, "NoSuchPublicAccessBlockConfiguration"):
                return None
            raise
        return dict(answer["PublicAccessBlockConfiguration"])

    def changes(self, state: dict[str, Any]) -> list[str]:
        if not state["exists"]:  # the bucket is the target: without it, the account setting is not asked for
            return []
        out = []
        if state["bucket_block"] != BLOCK_ALL_PUBLIC_ACCESS:
            out.append(
                f"block all public access to bucket {self.params.bucket} (was: {state['bucket_block']})"
            )
        if self.params.account_level and state["account_block"] != BLOCK_ALL_PUBLIC_ACCESS:
            out.append(
                f"block all public access account-wide in {self.params.account_id} (was: {state['account_block']})"
            )
        return out

    def change(self, state: dict[str, Any]) -> dict[str, Any]:
        applied = {"bucket_block": False, "account_block": False}
        if state["bucket_block"] != BLOCK_ALL_PUBLIC_ACCESS:
            self.client("s3").put_public_access_block(
                Bucket=self.params.bucket, PublicAccessBlockConfiguration=BLOCK_ALL_PUBLIC_ACCESS
            )
            applied["bucket_block"] = True
        if self.params.account_level and state["account_block"] != BLOCK_ALL_PUBLIC_ACCESS:
            self._s3control.put_public_access_block(
                AccountId=self.params.account_id, PublicAccessBlockConfiguration=BLOCK_ALL_PUBLIC_ACCESS
            )
            applied["account_block"] = True
        return applied

    def undo(self, before: dict[str, Any], applied: dict[str, Any]) -> None:
        p = self.params
        if applied.get("bucket_block"):
            s3 = self.client("s3")
            if before["bucket_block"] is None:
                s3.delete_public_access_block(Bucket=p.bucket)
            else:
                s3.put_public_access_block(
                    Bucket=p.bucket, PublicAccessBlockConfiguration=before["bucket_block"]
                )
        if applied.get("account_block"):
            s3c = self._s3control
            if before["account_block"] is None:
                s3c.delete_public_access_block(AccountId=p.account_id)
            else:
                s3c.put_public_access_block(
                    AccountId=p.account_id, PublicAccessBlockConfiguration=before["account_block"]
                )
