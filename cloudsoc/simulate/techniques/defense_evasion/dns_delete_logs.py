"""Delete a Route 53 Resolver query logging configuration."""

from __future__ import annotations

from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, Technique, technique

NAME = "vpc-dns-query-logging"
_ONE_TRY = Config(retries={"total_max_attempts": 1})


@technique
class DnsDeleteLogs(Technique):
    title = "Delete DNS query logs"
    attack = ("T1562.008",)
    expects = ("route53resolver_query_logging_deleted",)
    description = (
        "Detaches a Route 53 Resolver query logging configuration from the VPC it watches and deletes it, "
        "so DNS lookups (command and control, exfiltration over DNS) are no longer recorded."
    )
    synthetic = (
        "route53resolver:DisassociateResolverQueryLogConfig",
        "route53resolver:DeleteResolverQueryLogConfig",
    )

    def warmup(self, ctx: Ctx) -> Json:
        r53 = client("route53resolver", session=ctx.admin())
        configs = r53.list_resolver_query_log_configs()["ResolverQueryLogConfigs"]
        # The sandbox cannot delete configurations: a previous warm-up's one is reused.
        mine = [c for c in configs if c["Name"] == NAME]
        if mine:
            return {"config": mine[0]["Id"], "vpc": ctx.res["vpc"]}
        landing = r53.get_resolver_query_log_config(ResolverQueryLogConfigId=ctx.res["dns_query_log"])
        bucket = landing["ResolverQueryLogConfig"]["DestinationArn"].split("/")[0]
        made = r53.create_resolver_query_log_config(Name=NAME, CreatorRequestId=ctx.run_id,
                                                    DestinationArn=f"{bucket}/resolver/")["ResolverQueryLogConfig"]  # fmt: skip
        r53.associate_resolver_query_log_config(
            ResolverQueryLogConfigId=made["Id"], ResourceId=ctx.res["vpc"]
        )
        return {"config": made["Id"], "vpc": ctx.res["vpc"]}

    def detonate(self, ctx: Ctx, state: Json) -> None:
        session = ctx.attacker()
        r53 = client("route53resolver", session=session)
        r53.list_resolver_query_log_configs()
        found = r53.list_resolver_query_log_config_associations()["ResolverQueryLogConfigAssociations"]
        for assoc in [a for a in found if a["ResolverQueryLogConfigId"] == state["config"]]:
            params = {"ResolverQueryLogConfigId": state["config"], "ResourceId": assoc["ResourceId"]}
            ctx.synthetic(session, "route53resolver", "DisassociateResolverQueryLogConfig", params,
                          response={"ResolverQueryLogConfigAssociation": {**assoc, "Status": "DELETING"}})  # fmt: skip
        config = r53.get_resolver_query_log_config(ResolverQueryLogConfigId=state["config"])
        gone = {**config["ResolverQueryLogConfig"], "Status": "DELETING", "AssociationCount": 0}
        ctx.synthetic(session, "route53resolver", "DeleteResolverQueryLogConfig",
                      {"ResolverQueryLogConfigId": state["config"]}, response={"ResolverQueryLogConfig": gone})  # fmt: skip

    def revert(self, ctx: Ctx, state: Json) -> None:
        r53: Any = ctx.admin().client("route53resolver", config=_ONE_TRY)
        for op, params in (
            (r53.disassociate_resolver_query_log_config, {"ResourceId": state["vpc"]}),
            (r53.delete_resolver_query_log_config, {}),
        ):
            try:
                op(ResolverQueryLogConfigId=state["config"], **params)
            except ClientError as exc:
                if exc.response["ResponseMetadata"]["HTTPStatusCode"] < 500 and not isinstance(
                    exc, r53.exceptions.ResourceNotFoundException
                ):
                    raise  # a real failure; not-found is done, 5xx is the sandbox lacking the call
