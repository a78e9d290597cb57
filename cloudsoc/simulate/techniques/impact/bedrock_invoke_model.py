"""Invoke Bedrock foundation models with stolen credentials (LLMjacking)."""

from __future__ import annotations

import json

from cloudsoc.simulate.technique import Ctx, Json, Technique, technique

# What LLMjacking tooling tries in turn: every Claude generation the account might have enabled.
MODELS = (
    "anthropic.claude-v2",
    "anthropic.claude-v2:1",
    "anthropic.claude-3-haiku-20240307-v1:0",
    "anthropic.claude-3-sonnet-20240229-v1:0",
    "anthropic.claude-3-5-sonnet-20240620-v1:0",
)


@technique
class BedrockInvokeModel(Technique):
    title = "Invoke Bedrock models"
    attack = ("T1496",)
    expects = ("bedrock_many_models_invoked",)
    description = (
        "Lists the foundation models of the region, checks Claude's availability, then runs a one-token "
        "prompt on each Claude model: the probing that precedes reselling the account's model access."
    )
    synthetic = ("bedrock:ListFoundationModels", "bedrock:GetFoundationModelAvailability")

    def detonate(self, ctx: Ctx, state: Json) -> None:
        session = ctx.attacker()
        # The sandbox has Bedrock's runtime but not its control plane (each call there fails slowly).
        ctx.synthetic(session, "bedrock", "ListFoundationModels", {})
        ctx.synthetic(session, "bedrock", "GetFoundationModelAvailability", {"modelId": MODELS[0]})
        prompt = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 1,
                  "messages": [{"role": "user", "content": "Are you Turing complete?"}]}  # fmt: skip
        for model in MODELS:
            ctx.call(session, "bedrock-runtime", "InvokeModel", {"modelId": model, "contentType": "application/json",
                     "accept": "application/json", "body": json.dumps(prompt).encode()})  # fmt: skip
