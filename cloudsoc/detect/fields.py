"""Field mapping per log source: the one place where Sigma field names meet lake columns.

A field with a hot column is read from it; any other field is looked up in the raw record by
its dotted path, where a path crossing a JSON list matches when any element does.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    low_cardinality: bool = False  # predicates are resolved against the column's distinct values


HOT: dict[str, dict[str, Column]] = {
    "cloudtrail": {
        "eventID": Column("event_id"),
        "eventSource": Column("event_source", True),
        "eventName": Column("event_name", True),
        "awsRegion": Column("region", True),
        "eventType": Column("event_type", True),
        "recipientAccountId": Column("recipient_account_id", True),
        "userIdentity.arn": Column("principal_arn"),
        "userIdentity.type": Column("principal_type", True),
        "userIdentity.userName": Column("user_name"),
        "userIdentity.accessKeyId": Column("access_key_id"),
        "userIdentity.invokedBy": Column("invoked_by", True),
        "userIdentity.sessionContext.sessionIssuer.type": Column("session_issuer_type", True),
        "userIdentity.sessionContext.sessionIssuer.arn": Column("session_issuer_arn"),
        "userIdentity.sessionContext.attributes.mfaAuthenticated": Column("mfa_authenticated", True),
        "userIdentity.sessionContext.ec2RoleDelivery": Column("ec2_role_delivery", True),
        "vpcEndpointId": Column("vpc_endpoint_id"),
        "sourceIPAddress": Column("source_ip"),
        "userAgent": Column("user_agent"),
        "errorCode": Column("error_code", True),
    },
    "guardduty": {
        "id": Column("finding_id"),
        "type": Column("finding_type", True),
        "accountId": Column("account_id", True),
        "region": Column("region", True),
    },
    "securityhub": {
        "Id": Column("finding_id"),
        "AwsAccountId": Column("account_id", True),
        "ProductName": Column("product_name", True),
        "GeneratorId": Column("generator_id"),
    },
    "vpcflow": {
        "account-id": Column("account_id", True),
        "interface-id": Column("interface_id"),
        "srcaddr": Column("src_addr"),
        "dstaddr": Column("dst_addr"),
        "action": Column("action", True),
    },
}

# the column naming who acted, per source (the default alert grouping)
PRINCIPAL = {"cloudtrail": "principal_arn", "guardduty": "principal_arn"}

# Sigma logsource -> lake source
LOGSOURCES = {
    ("aws", "cloudtrail"): "cloudtrail",
    ("aws", "guardduty"): "guardduty",
    ("aws", "securityhub"): "securityhub",
    ("aws", "vpcflow"): "vpcflow",
    ("aws", "vpc_flow"): "vpcflow",
}


def hot_column(source: str, field: str) -> Column | None:
    return HOT.get(source, {}).get(field)
