"""The CIS monitoring checks (metric filter + alarm + someone notified), judged in one place.

An account is monitored for a condition when a multi-region trail that logs it (logging, all
management events) delivers to a CloudWatch Logs log group, a metric filter on that group matches the
condition, a CloudWatch alarm watches the filter's metric (name and namespace), and the alarm notifies
an SNS topic that has a confirmed subscriber. The filter is judged by what it matches, not by its
text: it must match every event of the condition (each API call named) and none of the events the
condition leaves out (``_filter_pattern`` runs the pattern on such events). Not a check: the module
the ``cloudwatch_monitor_*`` checks share.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cloudsoc.posture.check import CheckContext, Result
from cloudsoc.posture.checks import _trails
from cloudsoc.posture.checks._filter_pattern import PatternError, parse
from cloudsoc.posture.collectors.cloudwatch import is_topic

SERVICES = ("cloudtrail", "cloudwatch", "logs", "sns")
RESOURCE_TYPE = "AWS::Logs::MetricFilter"
_STAGES = ("no_log_group", "no_filter", "no_alarm", "no_topic", "no_subscriber")


@dataclass
class _Progress:
    """How far the best candidate got: what a FAIL says is missing."""

    stage: int = 0
    evidence: dict[str, Any] | None = None

    def reached(self, stage: str, **evidence: Any) -> None:
        at = _STAGES.index(stage)
        if self.evidence is None or at > self.stage:
            self.stage, self.evidence = at, evidence


def monitor(ctx: CheckContext, name: str) -> Iterator[Result]:
    """One result for the account: PASS naming the trail, filter, alarm and topic; FAIL naming what is
    missing; MANUAL when only organization trails of accounts outside the inventory could monitor it."""
    cond = CONDITIONS[name]
    progress, unknown = _Progress(), []
    for trail in _trails.data_first(ctx, [t for t in _trails.trails(ctx) if t.multi_region]):
        if not _trails.readable(ctx, trail):
            unknown.append(trail.arn)
            continue
        found = _through_trail(ctx, cond, trail, progress)
        if found is not None:
            yield ctx.passed(ctx.account_arn, f"{cond.title} is monitored: metric filter {found['filter']} "
                             f"alarms through {found['alarm']}", condition=cond.title, **found)  # fmt: skip
            return
    if unknown:
        yield ctx.manual(ctx.account_arn, f"{cond.title}: only organization trails of accounts outside this "
                         f"inventory could be monitored for it: {', '.join(unknown)}", trails=unknown)  # fmt: skip
        return
    yield ctx.failed(ctx.account_arn, f"{cond.title} is not monitored: {_why(progress)}", condition=cond.title,
                     missing=_STAGES[progress.stage], **(progress.evidence or {}))  # fmt: skip


def _why(p: _Progress) -> str:
    e = p.evidence or {}
    return {
        "no_log_group": "no multi-region trail that is logging all management events delivers to CloudWatch Logs",
        "no_filter": f"no metric filter on log group(s) {e.get('log_groups')} matches the condition",
        "no_alarm": f"no alarm watches metric {e.get('metric')} of metric filter {e.get('filter')}",
        "no_topic": f"alarm {e.get('alarm')} notifies no SNS topic",
        "no_subscriber": f"SNS topic(s) {e.get('topics')} of alarm {e.get('alarm')} have no confirmed subscriber",
    }[_STAGES[p.stage]]


def _through_trail(ctx: CheckContext, cond: Condition, trail: _trails.Trail,
                   progress: _Progress) -> dict[str, Any] | None:  # fmt: skip
    group_arn = str(trail.info.get("CloudWatchLogsLogGroupArn") or "")
    if not group_arn or not _trails.is_logging(ctx, trail) or not _trails.records_management(ctx, trail):
        progress.reached("no_log_group", trail=trail.arn, log_group=group_arn or None)
        return None
    account, region, group = group_arn.split(":")[4], group_arn.split(":")[3], group_arn.split(":")[6]
    where = {"account": account, "region": region}
    progress.reached("no_filter", trail=trail.arn, log_groups=[group])
    for filt in _filters(ctx, group, where):
        if not _matches(cond, str(filt.get("filterPattern", ""))):
            continue
        for metric in filt.get("metricTransformations", []):
            found = _alarmed(ctx, (metric.get("metricName"), metric.get("metricNamespace")), where, progress,
                             trail=trail.arn, log_group=group, filter=filt.get("filterName"),
                             pattern=filt.get("filterPattern"))  # fmt: skip
            if found is not None:
                return found
    return None


def _filters(ctx: CheckContext, group: str, where: dict[str, str]) -> list[dict[str, Any]]:
    answer = ctx.get("logs", "DescribeMetricFilters", **where) or {}
    return [f for f in answer.get("metricFilters", []) if f.get("logGroupName") == group]


def _matches(cond: Condition, pattern: str) -> bool:
    try:
        expr = parse(pattern)
    except PatternError:  # a plain-text pattern: not one that selects CloudTrail events by their fields
        return False
    return all(expr.matches(e) for e in cond.matches) and not any(expr.matches(e) for e in cond.misses)


def _alarmed(ctx: CheckContext, metric: tuple[Any, Any], where: dict[str, str], progress: _Progress,
             **found: Any) -> dict[str, Any] | None:  # fmt: skip
    """The first alarm on the metric that notifies a topic someone is subscribed to."""
    label = f"{metric[1]}/{metric[0]}"
    progress.reached("no_alarm", metric=label, **found)
    answer = ctx.get("cloudwatch", "DescribeAlarms", **where) or {}
    for alarm in [a for a in answer.get("MetricAlarms", []) if metric in _watched(a)]:
        name = alarm.get("AlarmName")
        topics = sorted(a for a in alarm.get("AlarmActions", []) if is_topic(a)) if alarm.get(
            "ActionsEnabled", True) else []  # fmt: skip
        if not topics:
            progress.reached("no_topic", metric=label, alarm=name, **found)
            continue
        subscribed = [t for t in topics if _subscribers(ctx, t)]
        if subscribed:
            return {**found, "metric": label, "alarm": name, "topic": subscribed[0]}
        progress.reached("no_subscriber", metric=label, alarm=name, topics=topics, **found)
    return None


def _watched(alarm: dict[str, Any]) -> list[tuple[Any, Any]]:
    """(metric name, namespace) the alarm watches: its metric, or the metrics of its metric math."""
    out = [(alarm.get("MetricName"), alarm.get("Namespace"))] if alarm.get("MetricName") else []
    for m in alarm.get("Metrics", []):
        stat = (m.get("MetricStat") or {}).get("Metric") or {}
        out.append((stat.get("MetricName"), stat.get("Namespace")))
    return out


def _subscribers(ctx: CheckContext, topic: str) -> list[str]:
    """Confirmed subscriptions of the topic (a pending one has no ARN yet)."""
    parts = topic.split(":")
    answer = ctx.get("sns", "ListSubscriptionsByTopic", topic, region=parts[3], account=parts[4]) or {}
    return [str(s["SubscriptionArn"]) for s in answer.get("Subscriptions", [])
            if str(s.get("SubscriptionArn", "")).startswith("arn:")]  # fmt: skip


# --- the conditions ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Condition:
    title: str
    matches: tuple[dict[str, Any], ...]  # events the filter must match (every call the condition names)
    misses: tuple[dict[str, Any], ...]  # events it must not match (what the condition leaves out)


_BASE: dict[str, Any] = {
    "eventVersion": "1.09", "eventTime": "2026-11-20T10:00:00Z", "awsRegion": "us-east-1",
    "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": "arn:aws:iam::123456789012:user/alice",
                     "accountId": "123456789012", "userName": "alice"},
    "sourceIPAddress": "203.0.113.10", "userAgent": "aws-cli/2.15.0", "eventType": "AwsApiCall",
    "readOnly": False, "managementEvent": True, "eventCategory": "Management", "recipientAccountId": "123456789012",
}  # fmt: skip


def _event(source: str, name: str, **over: Any) -> dict[str, Any]:
    return {**_BASE, "eventSource": f"{source}.amazonaws.com", "eventName": name, **over}


def _calls(title: str, source: str, names: str, *reads: str) -> Condition:
    """Every call of ``names`` (from ``source``) must match; ``reads`` (same source) and an unrelated
    call must not: a filter that takes in the whole service, or everything, is not this condition."""
    return Condition(title, tuple(_event(source, n) for n in names.split()),
                     (*(_event(source, r, readOnly=r.startswith(("Describe", "List", "Get"))) for r in reads),
                      _event("sts", "GetCallerIdentity", readOnly=True)))  # fmt: skip


_ROOT = {"type": "Root", "principalId": "123456789012", "arn": "arn:aws:iam::123456789012:root",
         "accountId": "123456789012"}  # fmt: skip
_LOGIN: dict[str, Any] = {"eventType": "AwsConsoleSignIn", "additionalEventData": {"MFAUsed": "No"},
                          "responseElements": {"ConsoleLogin": "Success"}}  # fmt: skip

CONDITIONS: dict[str, Condition] = {
    "unauthorized_api_calls": Condition(
        "Unauthorized API calls",
        (_event("ec2", "RunInstances", errorCode="Client.UnauthorizedOperation"),
         _event("s3", "GetObject", errorCode="AccessDenied"),
         _event("iam", "CreateUser", errorCode="AccessDeniedException")),
        (_event("ec2", "DescribeInstances", readOnly=True), _event("ec2", "RunInstances", errorCode="Throttling"))),
    "console_login_without_mfa": Condition(
        "Console sign-in without MFA", (_event("signin", "ConsoleLogin", **_LOGIN),),
        (_event("signin", "ConsoleLogin", **{**_LOGIN, "additionalEventData": {"MFAUsed": "Yes"}}),
         _event("iam", "GetUser", readOnly=True))),
    "root_usage": Condition(
        "Use of the root user", (_event("iam", "ListUsers", userIdentity=_ROOT, readOnly=True),
                                 _event("signin", "ConsoleLogin", userIdentity=_ROOT, **_LOGIN)),
        (_event("iam", "ListUsers", readOnly=True),
         _event("sts", "AssumeRole", userIdentity={**_ROOT, "invokedBy": "support.amazonaws.com"}),
         _event("kms", "Decrypt", userIdentity=_ROOT, eventType="AwsServiceEvent"))),
    "iam_policy_changes": _calls(
        "IAM policy changes", "iam", "DeleteGroupPolicy DeleteRolePolicy DeleteUserPolicy PutGroupPolicy "
        "PutRolePolicy PutUserPolicy CreatePolicy DeletePolicy CreatePolicyVersion DeletePolicyVersion "
        "AttachRolePolicy DetachRolePolicy AttachUserPolicy DetachUserPolicy AttachGroupPolicy DetachGroupPolicy",
        "ListPolicies", "GetPolicyVersion", "CreateUser"),
    "cloudtrail_changes": _calls("CloudTrail configuration changes", "cloudtrail",
                                 "CreateTrail UpdateTrail DeleteTrail StartLogging StopLogging", "DescribeTrails"),
    "console_auth_failures": Condition(
        "Console authentication failures",
        (_event("signin", "ConsoleLogin", **{**_LOGIN, "errorMessage": "Failed authentication",
                                             "responseElements": {"ConsoleLogin": "Failure"}}),),
        (_event("signin", "ConsoleLogin", **_LOGIN), _event("iam", "GetUser", readOnly=True))),
    "cmk_disable_or_deletion": _calls("Disabling or scheduled deletion of customer-managed KMS keys", "kms",
                                      "DisableKey ScheduleKeyDeletion", "Decrypt", "EnableKey", "ListKeys"),
    "s3_bucket_policy_changes": _calls(
        "S3 bucket policy changes", "s3", "PutBucketAcl PutBucketPolicy PutBucketCors PutBucketLifecycle "
        "PutBucketReplication DeleteBucketPolicy DeleteBucketCors DeleteBucketLifecycle DeleteBucketReplication",
        "GetBucketPolicy", "ListBuckets", "PutObject"),
    "config_changes": _calls("AWS Config configuration changes", "config", "StopConfigurationRecorder "
                             "DeleteDeliveryChannel PutDeliveryChannel PutConfigurationRecorder",
                             "DescribeConfigurationRecorders"),
    "security_group_changes": _calls(
        "Security group changes", "ec2", "AuthorizeSecurityGroupIngress AuthorizeSecurityGroupEgress "
        "RevokeSecurityGroupIngress RevokeSecurityGroupEgress CreateSecurityGroup DeleteSecurityGroup",
        "DescribeSecurityGroups", "RunInstances"),
    "nacl_changes": _calls("Network ACL changes", "ec2", "CreateNetworkAcl CreateNetworkAclEntry DeleteNetworkAcl "
                           "DeleteNetworkAclEntry ReplaceNetworkAclEntry ReplaceNetworkAclAssociation",
                           "DescribeNetworkAcls", "RunInstances"),
    "network_gateway_changes": _calls(
        "Network gateway changes", "ec2", "CreateCustomerGateway DeleteCustomerGateway AttachInternetGateway "
        "CreateInternetGateway DeleteInternetGateway DetachInternetGateway", "DescribeInternetGateways",
        "RunInstances"),
    "route_table_changes": _calls(
        "Route table changes", "ec2", "CreateRoute CreateRouteTable ReplaceRoute ReplaceRouteTableAssociation "
        "DeleteRouteTable DeleteRoute DisassociateRouteTable", "DescribeRouteTables", "RunInstances"),
    "vpc_changes": _calls(
        "VPC changes", "ec2", "CreateVpc DeleteVpc ModifyVpcAttribute AcceptVpcPeeringConnection "
        "CreateVpcPeeringConnection DeleteVpcPeeringConnection RejectVpcPeeringConnection AttachClassicLinkVpc "
        "DetachClassicLinkVpc DisableVpcClassicLink EnableVpcClassicLink", "DescribeVpcs", "RunInstances"),
    "organizations_changes": _calls(
        "AWS Organizations changes", "organizations", "AcceptHandshake AttachPolicy CreateAccount "
        "CreateOrganizationalUnit CreatePolicy DeclineHandshake DeleteOrganization DeleteOrganizationalUnit "
        "DeletePolicy DetachPolicy DisablePolicyType EnablePolicyType InviteAccountToOrganization "
        "LeaveOrganization MoveAccount RemoveAccountFromOrganization UpdatePolicy UpdateOrganizationalUnit",
        "ListAccounts", "DescribeOrganization"),
}  # fmt: skip
