"""CIS monitoring: metric filter patterns read as terms, and the chain trail -> log group -> metric filter
-> alarm -> SNS topic with a subscriber, on inventories written by hand."""

from __future__ import annotations

from typing import Any

import pytest

from cloudsoc.posture.check import CHECKS
from cloudsoc.posture.checks._filter_pattern import Node, PatternError, Term, parse
from cloudsoc.posture.checks._monitoring import CONDITIONS
from cloudsoc.posture.inventory import Inventory
from tests.posture_fixtures import ACCOUNT, inventory, run

MGMT = "111122220001"
HOME = "us-east-1"
GROUP = "aws-cloudtrail-logs"
TOPIC = f"arn:aws:sns:{HOME}:{ACCOUNT}:security-alarms"

ORGANIZATIONS_CALLS = (
    "AcceptHandshake", "AttachPolicy", "CreateAccount", "CreateOrganizationalUnit", "CreatePolicy",
    "DeclineHandshake", "DeleteOrganization", "DeleteOrganizationalUnit", "DeletePolicy", "DetachPolicy",
    "DisablePolicyType", "EnablePolicyType", "InviteAccountToOrganization", "LeaveOrganization", "MoveAccount",
    "RemoveAccountFromOrganization", "UpdatePolicy", "UpdateOrganizationalUnit",
)  # fmt: skip
# The filter patterns the CIS benchmark gives, one per condition.
CIS = {
    "unauthorized_api_calls": '{($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") && '
    '($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket") }',
    "console_login_without_mfa": '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }',
    "root_usage": '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && '
    '$.eventType != "AwsServiceEvent" }',
    "iam_policy_changes": "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||"
    "($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||"
    "($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||"
    "($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||"
    "($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||"
    "($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}",
    "cloudtrail_changes": "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || "
    "($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }",
    "console_auth_failures": '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }',
    "cmk_disable_or_deletion": "{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||"
    "($.eventName=ScheduleKeyDeletion)) }",
    "s3_bucket_policy_changes": "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || "
    "($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || "
    "($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || "
    "($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || "
    "($.eventName = DeleteBucketReplication)) }",
    "config_changes": "{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||"
    "($.eventName=DeleteDeliveryChannel) ||($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder)) }",
    "security_group_changes": "{ ($.eventName = AuthorizeSecurityGroupIngress) || "
    "($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || "
    "($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || "
    "($.eventName = DeleteSecurityGroup) }",
    "nacl_changes": "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || "
    "($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || "
    "($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }",
    "network_gateway_changes": "{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) "
    "|| ($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || "
    "($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }",
    "route_table_changes": "{($.eventSource = ec2.amazonaws.com) && (($.eventName = CreateRoute) || "
    "($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation)"
    " || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable)) }",
    "vpc_changes": "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || "
    "($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || "
    "($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || "
    "($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || "
    "($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }",
    "organizations_changes": "{ ($.eventSource = organizations.amazonaws.com) && ("
    + " || ".join(f'($.eventName = "{n}")' for n in ORGANIZATIONS_CALLS) + ") }",
}  # fmt: skip


def world(pattern: str | None, *, alarm: bool = True, actions: list[str] | None = None,
          subscribed: bool = True, logging: bool = True, account: str = ACCOUNT) -> dict[str, Any]:  # fmt: skip
    """One account's data: a multi-region trail delivering to a log group, a metric filter with
    ``pattern`` (none: no filter), an alarm on its metric notifying a topic with a subscriber."""
    arn = f"arn:aws:cloudtrail:{HOME}:{account}:trail/main"
    topic = TOPIC.replace(ACCOUNT, account)
    trail = {"Name": "main", "TrailARN": arn, "HomeRegion": HOME, "IsMultiRegionTrail": True,
             "IsOrganizationTrail": account == MGMT, "S3BucketName": "trail-logs",
             "CloudWatchLogsLogGroupArn": f"arn:aws:logs:{HOME}:{account}:log-group:{GROUP}:*",
             "CloudWatchLogsRoleArn": f"arn:aws:iam::{account}:role/cloudtrail-to-logs"}  # fmt: skip
    filters = [] if pattern is None else [{
        "filterName": "cis-check", "filterPattern": pattern, "logGroupName": GROUP, "creationTime": 1763683200000,
        "metricTransformations": [{"metricName": "CISCheckCount", "metricNamespace": "CISBenchmark",
                                   "metricValue": "1"}]}]  # fmt: skip
    alarms = [] if not alarm else [{
        "AlarmName": "cis-check-alarm", "AlarmArn": f"arn:aws:cloudwatch:{HOME}:{account}:alarm:cis-check-alarm",
        "ActionsEnabled": True, "AlarmActions": [topic] if actions is None else actions, "OKActions": [],
        "MetricName": "CISCheckCount", "Namespace": "CISBenchmark", "Statistic": "Sum", "Period": 300,
        "EvaluationPeriods": 1, "Threshold": 1.0, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "StateValue": "OK"}]  # fmt: skip
    subs = [{"SubscriptionArn": f"{topic}:0f1e2d3c" if subscribed else "PendingConfirmation", "Owner": account,
             "Protocol": "email", "Endpoint": "soc@example.com", "TopicArn": topic}]  # fmt: skip
    return {HOME: {
        "cloudtrail": {"DescribeTrails": {"": {"trailList": [trail]}},
                       "GetTrailStatus": {arn: {"IsLogging": logging}},
                       "GetEventSelectors": {arn: {"TrailARN": arn, "EventSelectors": [
                           {"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": []}]}}},
        "logs": {"DescribeMetricFilters": {"": {"metricFilters": filters}}},
        "cloudwatch": {"DescribeAlarms": {"": {"MetricAlarms": alarms, "CompositeAlarms": []}}},
        "sns": {"ListSubscriptionsByTopic": {topic: {"Subscriptions": subs}}},
    }, "eu-west-1": {"cloudtrail": {"DescribeTrails": {"": {"trailList": [trail]}}}}}  # fmt: skip


NO_TRAILS = {r: {"cloudtrail": {"DescribeTrails": {"": {"trailList": []}}}} for r in (HOME, "eu-west-1")}


def monitor(name: str, inv: Inventory, account: str = ACCOUNT) -> Any:
    [result] = run(f"cloudwatch_monitor_{name}", inv, account=account)
    return result


# --- the filter pattern ----------------------------------------------------------------------
def test_a_pattern_is_read_into_terms() -> None:
    expr = parse('{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS '
                 '&& $.eventType != "AwsServiceEvent" }')  # fmt: skip
    assert expr == Node("&&", (Term("$.userIdentity.type", "=", "Root"), Term("$.userIdentity.invokedBy", "NOT EXISTS"),
                               Term("$.eventType", "!=", "AwsServiceEvent")))  # fmt: skip
    # spacing and quotes do not change the terms
    assert parse('{($.eventName=CreateTrail)||($.eventName="UpdateTrail")}') == parse(
        '{ ( $.eventName = "CreateTrail" ) || ( $.eventName = UpdateTrail ) }')  # fmt: skip
    # && binds tighter than ||
    assert parse("{ $.a = 1 || $.b = 2 && $.c = 3 }") == Node(
        "||", (Term("$.a", "=", "1"), Node("&&", (Term("$.b", "=", "2"), Term("$.c", "=", "3")))))  # fmt: skip
    for text in ('"ERROR"', "[ip, user, ...]", "{ $.eventName = }", "{ ($.eventName = X }"):
        with pytest.raises(PatternError):
            parse(text)


def test_terms_match_events() -> None:
    wildcard = parse('{ $.errorCode = "*UnauthorizedOperation" }')
    assert wildcard.matches({"errorCode": "Client.UnauthorizedOperation"})
    assert not wildcard.matches({"errorCode": "AccessDenied"}) and not wildcard.matches({})
    nested = parse("{ $.additionalEventData.MFAUsed != Yes && $.resources[0].type IS NULL && $.n >= 2 }")
    assert nested.matches({"additionalEventData": {"MFAUsed": "No"}, "resources": [{"type": None}], "n": 3})
    assert not nested.matches(
        {"additionalEventData": {"MFAUsed": "No"}, "resources": [{"type": None}], "n": 1}
    )
    assert parse("{ $.eventName = %^Delete.*Policy$% }").matches({"eventName": "DeleteRolePolicy"})


def test_every_cis_pattern_matches_its_own_condition_only() -> None:
    from cloudsoc.posture.checks._monitoring import _matches

    assert set(CIS) == set(CONDITIONS)
    for name, pattern in CIS.items():
        assert [n for n, cond in CONDITIONS.items() if _matches(cond, pattern)] == [name]


# --- the chain -----------------------------------------------------------------------------
def test_cis_filter_with_alarm_and_subscribed_topic_passes() -> None:
    for name, pattern in CIS.items():
        r = monitor(name, inventory(world(pattern)))
        assert r.status == "PASS", (name, r.message)
        assert r.resource == f"arn:aws:iam::{ACCOUNT}:root" and r.evidence["topic"] == TOPIC
        assert (
            r.evidence["alarm"] == "cis-check-alarm" and r.evidence["metric"] == "CISBenchmark/CISCheckCount"
        )
    assert {CHECKS.get(f"cloudwatch_monitor_{n}").scope for n in CIS} == {"account"}


def test_differently_written_patterns_still_pass() -> None:
    spaced = ('{$.eventSource=kms.amazonaws.com&&($.eventName="ScheduleKeyDeletion"||'
              "$.eventName = DisableKey)}")  # fmt: skip
    assert monitor("cmk_disable_or_deletion", inventory(world(spaced))).status == "PASS"
    # the newer benchmark's narrower sign-in filter is the same condition
    mfa = ('{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && '
           '($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }')  # fmt: skip
    assert monitor("console_login_without_mfa", inventory(world(mfa))).status == "PASS"
    short = '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }'
    assert monitor("unauthorized_api_calls", inventory(world(short))).status == "PASS"


def test_a_filter_missing_one_event_name_fails() -> None:
    pattern = CIS["cloudtrail_changes"].replace(" || ($.eventName = StopLogging)", "")
    r = monitor("cloudtrail_changes", inventory(world(pattern)))
    assert r.status == "FAIL" and r.evidence["missing"] == "no_filter" and r.evidence["log_groups"] == [GROUP]


def test_a_filter_too_broad_or_missing_an_exclusion_fails() -> None:
    assert monitor("cloudtrail_changes", inventory(world("{ $.eventSource = cloudtrail.amazonaws.com }"))
                   ).status == "FAIL"  # fmt: skip
    no_service_exclusion = '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS }'
    assert monitor("root_usage", inventory(world(no_service_exclusion))).status == "FAIL"
    assert (
        monitor("console_login_without_mfa", inventory(world("{ $.eventName = ConsoleLogin }"))).status
        == "FAIL"
    )


def test_a_filter_without_alarm_fails() -> None:
    r = monitor("root_usage", inventory(world(CIS["root_usage"], alarm=False)))
    assert r.status == "FAIL" and r.evidence["missing"] == "no_alarm" and r.evidence["filter"] == "cis-check"


def test_an_alarm_without_sns_action_fails() -> None:
    lambda_only = [f"arn:aws:lambda:{HOME}:{ACCOUNT}:function:page-someone"]
    r = monitor("vpc_changes", inventory(world(CIS["vpc_changes"], actions=lambda_only)))
    assert (
        r.status == "FAIL"
        and r.evidence["missing"] == "no_topic"
        and r.evidence["alarm"] == "cis-check-alarm"
    )
    r = monitor("vpc_changes", inventory(world(CIS["vpc_changes"], subscribed=False)))
    assert r.status == "FAIL" and r.evidence["missing"] == "no_subscriber"


def test_no_trail_to_cloudwatch_fails_and_stopped_trail_does_not_count() -> None:
    r = monitor("nacl_changes", inventory(NO_TRAILS))
    assert r.status == "FAIL" and r.evidence["missing"] == "no_log_group"
    r = monitor("nacl_changes", inventory(world(CIS["nacl_changes"], logging=False)))
    assert r.status == "FAIL" and r.evidence["missing"] == "no_log_group"


def test_organization_trail_log_group_in_the_management_account_counts() -> None:
    member = "111122220004"
    inv = inventory(NO_TRAILS, account=member, others={MGMT: world(CIS["root_usage"], account=MGMT)})
    r = monitor("root_usage", inv, account=member)
    assert r.status == "PASS" and r.evidence["trail"].split(":")[4] == MGMT


def test_denied_alarms_is_error() -> None:
    data = world(CIS["root_usage"])
    del data[HOME]["cloudwatch"]
    inv = inventory(data, errors=[(HOME, "cloudwatch", "DescribeAlarms", "", "AccessDenied")])
    r = monitor("root_usage", inv)
    assert r.status == "ERROR" and r.evidence["permission"] == "cloudwatch:DescribeAlarms"
