"""Logging posture: CloudTrail trails (own and organization trails), AWS Config, Security Hub, GuardDuty,
on inventories written by hand."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from pydantic import ValidationError

from cloudsoc.posture.check import CHECKS, Result
from cloudsoc.posture.collector import COLLECTORS, CollectContext
from cloudsoc.posture.inventory import GLOBAL, Inventory
from cloudsoc.respond.action import ACTIONS
from tests.posture_fixtures import ACCOUNT, inventory, run, statuses

MGMT = "111122220001"
ACCOUNT_ARN = f"arn:aws:iam::{ACCOUNT}:root"
HOME = "us-east-1"
MANAGEMENT_ALL = [{"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": [],
                   "ExcludeManagementEventSources": []}]  # fmt: skip
S3_ALL = {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}


def trail_arn(name: str = "main", account: str = ACCOUNT, region: str = HOME) -> str:
    return f"arn:aws:cloudtrail:{region}:{account}:trail/{name}"


def trail(name: str = "main", account: str = ACCOUNT, **over: Any) -> dict[str, Any]:
    """A DescribeTrails entry as boto3 returns it."""
    t = {"Name": name, "S3BucketName": f"trail-logs-{account}", "IncludeGlobalServiceEvents": True,
         "IsMultiRegionTrail": True, "HomeRegion": HOME, "TrailARN": trail_arn(name, account),
         "LogFileValidationEnabled": True, "KmsKeyId": f"arn:aws:kms:{HOME}:{account}:key/1234abcd",
         "HasCustomEventSelectors": True, "HasInsightSelectors": False, "IsOrganizationTrail": False}  # fmt: skip
    t.update(over)
    return t


def status(logging: bool = True, **over: Any) -> dict[str, Any]:
    s = {"IsLogging": logging, "LatestDeliveryTime": "2026-11-20T23:55:00+00:00",
         "StartLoggingTime": "2026-01-01T00:00:00+00:00", "TimeLoggingStarted": "2026-01-01T00:00:00Z",
         "TimeLoggingStopped": ""}  # fmt: skip
    s.update(over)
    return s


def trails_data(*entries: tuple[dict[str, Any], dict[str, Any] | None, dict[str, Any] | None]
                ) -> dict[str, Any]:  # fmt: skip
    """An account's CloudTrail data: (trail, status, selectors answer) each; the trails are listed in
    both regions (multi-region ones as shadow copies), read in their home region."""
    listing = {"": {"trailList": [e[0] for e in entries]}}
    home: dict[str, Any] = {"DescribeTrails": listing, "GetTrailStatus": {}, "GetEventSelectors": {}}
    for t, st, sel in entries:
        if st is not None:
            home["GetTrailStatus"][t["TrailARN"]] = st
        if sel is not None:
            home["GetEventSelectors"][t["TrailARN"]] = {"TrailARN": t["TrailARN"], **sel}
    return {HOME: {"cloudtrail": home}, "eu-west-1": {"cloudtrail": {"DescribeTrails": listing}}}


def basic(*selectors: dict[str, Any]) -> dict[str, Any]:
    return {"EventSelectors": list(selectors)}


def advanced(*selectors: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "AdvancedEventSelectors": [{"Name": f"s{i}", "FieldSelectors": f} for i, f in enumerate(selectors)]
    }


def one(check_id: str, inv: Inventory, account: str = ACCOUNT) -> Any:
    [result] = run(check_id, inv, account=account)
    return result


# --- CloudTrail: enabled in all regions ---------------------------------------------------------
def test_multi_region_trail_logging_management_events_passes() -> None:
    inv = inventory(trails_data((trail(), status(), basic(*MANAGEMENT_ALL))))
    r = one("cloudtrail_multi_region_logging", inv)
    assert r.status == "PASS" and r.resource == ACCOUNT_ARN and r.evidence["trail"] == trail_arn()
    # a trail without custom selectors records every management event
    inv = inventory(trails_data((trail(HasCustomEventSelectors=False), status(), {"EventSelectors": []})))
    assert one("cloudtrail_multi_region_logging", inv).status == "PASS"
    mgmt = advanced([{"Field": "eventCategory", "Equals": ["Management"]}])
    assert (
        one("cloudtrail_multi_region_logging", inventory(trails_data((trail(), status(), mgmt)))).status
        == "PASS"
    )


def test_stopped_single_region_or_narrowed_trails_fail() -> None:
    stopped = inventory(trails_data((trail(), status(logging=False), basic(*MANAGEMENT_ALL))))
    r = one("cloudtrail_multi_region_logging", stopped)
    assert r.status == "FAIL" and r.evidence["trails"] == [
        {"trail": trail_arn(), "is_logging": False, "management_events": True}]  # fmt: skip
    spec = CHECKS.get("cloudtrail_multi_region_logging")
    assert spec.fix == "cloudtrail.restore_trail" and spec.fix_params is not None
    assert spec.fix_params(r) == {"account_id": ACCOUNT, "region": HOME, "trail": trail_arn()}
    write_only = basic({**MANAGEMENT_ALL[0], "ReadWriteType": "WriteOnly"})
    assert one("cloudtrail_multi_region_logging", inventory(trails_data((trail(), status(), write_only)))
               ).status == "FAIL"  # fmt: skip
    excluded = basic({**MANAGEMENT_ALL[0], "ExcludeManagementEventSources": ["kms.amazonaws.com"]})
    assert one("cloudtrail_multi_region_logging", inventory(trails_data((trail(), status(), excluded)))
               ).status == "FAIL"  # fmt: skip
    reads = advanced(
        [{"Field": "eventCategory", "Equals": ["Management"]}, {"Field": "readOnly", "Equals": ["true"]}]
    )
    assert (
        one("cloudtrail_multi_region_logging", inventory(trails_data((trail(), status(), reads)))).status
        == "FAIL"
    )
    regional = inventory(trails_data((trail(IsMultiRegionTrail=False), status(), basic(*MANAGEMENT_ALL))))
    r = one("cloudtrail_multi_region_logging", regional)
    assert r.status == "FAIL" and "there is none" in r.message


def test_no_trail_fails_and_its_fix_refuses_to_plan_nothing() -> None:
    r = one("cloudtrail_multi_region_logging", inventory(trails_data()))
    assert r.status == "FAIL"
    fix = CHECKS.get("cloudtrail_multi_region_logging").fix_params
    assert fix is not None
    params = fix(r)
    assert params == {"account_id": ACCOUNT, "trail": None}
    with pytest.raises(ValidationError):  # no trail to restore: the action's parameters are refused
        ACTIONS.get("cloudtrail.restore_trail").params_model.model_validate({"region": HOME, **params})


def test_organization_trail_of_the_management_account_counts_for_members() -> None:
    org = trail("org", MGMT, IsOrganizationTrail=True)
    inv = inventory(trails_data(), others={MGMT: trails_data((org, status(), basic(*MANAGEMENT_ALL)))})
    r = one("cloudtrail_multi_region_logging", inv)
    assert r.status == "PASS" and r.evidence["trail_account"] == MGMT
    # a stopped organization trail: the fix acts in the management account
    inv = inventory(trails_data(), others={MGMT: trails_data((org, status(False), basic(*MANAGEMENT_ALL)))})
    r = one("cloudtrail_multi_region_logging", inv)
    assert r.status == "FAIL"
    assert CHECKS.get("cloudtrail_multi_region_logging").fix_params(r)["account_id"] == MGMT  # type: ignore[misc]
    # another account's own (non-organization) trail does not log this account
    inv = inventory(
        trails_data(), others={MGMT: trails_data((trail("own", MGMT), status(), basic(*MANAGEMENT_ALL)))}
    )
    assert one("cloudtrail_multi_region_logging", inv).status == "FAIL"


def test_organization_trail_whose_account_is_not_collected_is_manual() -> None:
    # what a member account lists in AWS: the organization trail, owned by the management account
    org = trail("org", MGMT, IsOrganizationTrail=True)
    r = one("cloudtrail_multi_region_logging", inventory(trails_data((org, None, None))))
    assert r.status == "MANUAL" and r.evidence["trails"] == [org["TrailARN"]]


def test_denied_trail_status_is_error_but_a_good_trail_still_passes() -> None:
    bad = trail("bad")
    denied = [(HOME, "cloudtrail", "GetTrailStatus", bad["TrailARN"], "AccessDeniedException")]
    inv = inventory(trails_data((bad, None, basic(*MANAGEMENT_ALL))), errors=denied)
    r = one("cloudtrail_multi_region_logging", inv)
    assert r.status == "ERROR" and r.evidence["permission"] == "cloudtrail:GetTrailStatus"
    inv = inventory(trails_data((bad, None, basic(*MANAGEMENT_ALL)), (trail("good"), status(), basic(*MANAGEMENT_ALL))),
                    errors=denied)  # fmt: skip
    assert one("cloudtrail_multi_region_logging", inv).status == "PASS"
    listing = [(HOME, "cloudtrail", "DescribeTrails", "", "AccessDeniedException")]
    r = one("cloudtrail_multi_region_logging", inventory({}, errors=listing))
    assert r.status == "ERROR" and r.evidence["permission"] == "cloudtrail:DescribeTrails"


# --- CloudTrail: per-trail settings ---------------------------------------------------------------
def test_log_file_validation_per_trail() -> None:
    inv = inventory(
        trails_data(
            (trail("on"), status(), None), (trail("off", LogFileValidationEnabled=False), status(), None)
        )
    )
    results = run("cloudtrail_log_file_validation", inv)
    assert statuses(results) == {trail_arn("on"): "PASS", trail_arn("off"): "FAIL"}
    failed = next(r for r in results if r.status == "FAIL")
    assert failed.region == HOME
    spec = CHECKS.get("cloudtrail_log_file_validation")
    assert spec.fix == "cloudtrail.enable_log_validation" and spec.fix_params is not None
    assert spec.fix_params(failed) == {"account_id": ACCOUNT, "region": HOME, "trail_name": "off"}
    # the continuous evaluation's fix has the result without its evidence: the trail's ARN suffices
    bare = Result(failed.check, "FAIL", ACCOUNT, HOME, failed.resource, failed.message)
    assert spec.fix_params(bare) == {"account_id": ACCOUNT, "region": HOME, "trail_name": "off"}


def test_log_validation_and_kms_of_an_organization_trail_are_judged_in_members() -> None:
    org = trail("org", MGMT, IsOrganizationTrail=True, LogFileValidationEnabled=False)
    inv = inventory(trails_data(), others={MGMT: trails_data((org, status(), None))})
    [r] = run("cloudtrail_log_file_validation", inv)
    assert r.status == "FAIL" and r.account == ACCOUNT and r.resource == org["TrailARN"]
    assert CHECKS.get("cloudtrail_log_file_validation").fix_params(r)["account_id"] == MGMT  # type: ignore[misc]
    assert statuses(run("cloudtrail_kms_encryption", inv)) == {org["TrailARN"]: "PASS"}


def test_kms_encryption_per_trail() -> None:
    inv = inventory(
        trails_data((trail("sealed"), status(), None), (trail("plain", KmsKeyId=None), status(), None))
    )
    assert statuses(run("cloudtrail_kms_encryption", inv)) == {
        trail_arn("sealed"): "PASS",
        trail_arn("plain"): "FAIL",
    }
    assert run("cloudtrail_kms_encryption", inventory(trails_data())) == []  # no trail: not applicable


def test_cloudwatch_logs_delivery() -> None:
    group = f"arn:aws:logs:{HOME}:{ACCOUNT}:log-group:cloudtrail:*"
    recent = status(LatestCloudWatchLogsDeliveryTime="2026-11-20T23:50:00+00:00")
    stale = status(LatestCloudWatchLogsDeliveryTime="2026-11-01T00:00:00+00:00")
    inv = inventory(trails_data((trail("fresh", CloudWatchLogsLogGroupArn=group), recent, None),
                                (trail("stale", CloudWatchLogsLogGroupArn=group), stale, None),
                                (trail("never", CloudWatchLogsLogGroupArn=group), status(), None),
                                (trail("none"), status(), None)))  # fmt: skip
    assert statuses(run("cloudtrail_cloudwatch_logs", inv)) == {
        trail_arn("fresh"): "PASS", trail_arn("stale"): "FAIL", trail_arn("never"): "FAIL", trail_arn("none"): "FAIL"}  # fmt: skip


# --- CloudTrail: S3 object-level logging ---------------------------------------------------------
def _s3(selectors: dict[str, Any], logging: bool = True) -> Inventory:
    return inventory(trails_data((trail(), status(logging), selectors)))


def test_s3_object_logging_with_basic_selectors() -> None:
    both = basic({**MANAGEMENT_ALL[0], "DataResources": [S3_ALL]})
    assert one("cloudtrail_s3_object_write_logging", _s3(both)).status == "PASS"
    assert one("cloudtrail_s3_object_read_logging", _s3(both)).status == "PASS"
    writes = basic({"ReadWriteType": "WriteOnly", "IncludeManagementEvents": False,
                    "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::"]}]})  # fmt: skip
    assert one("cloudtrail_s3_object_write_logging", _s3(writes)).status == "PASS"
    no_reads = one("cloudtrail_s3_object_read_logging", _s3(writes))
    assert no_reads.status == "FAIL" and no_reads.evidence["trails"] == [
        {"trail": trail_arn(), "is_logging": True, "s3_object_reads": False}]  # fmt: skip
    assert no_reads.message.startswith("no multi-region trail is logging S3 object-level read events")
    one_bucket = basic({**MANAGEMENT_ALL[0], "DataResources": [{"Type": "AWS::S3::Object",
                                                                "Values": ["arn:aws:s3:::payroll/"]}]})  # fmt: skip
    assert one("cloudtrail_s3_object_write_logging", _s3(one_bucket)).status == "FAIL"
    stopped = one("cloudtrail_s3_object_write_logging", _s3(both, logging=False))
    assert stopped.status == "FAIL" and stopped.evidence["trails"] == [
        {"trail": trail_arn(), "is_logging": False, "s3_object_writes": True}]  # fmt: skip
    assert one("cloudtrail_s3_object_read_logging", _s3(basic(*MANAGEMENT_ALL))).status == "FAIL"


def test_s3_object_logging_with_advanced_selectors() -> None:
    data = [
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
    ]
    all_access = advanced(data)
    assert one("cloudtrail_s3_object_write_logging", _s3(all_access)).status == "PASS"
    assert one("cloudtrail_s3_object_read_logging", _s3(all_access)).status == "PASS"
    reads = advanced([*data, {"Field": "readOnly", "Equals": ["true"]}])
    assert one("cloudtrail_s3_object_read_logging", _s3(reads)).status == "PASS"
    assert one("cloudtrail_s3_object_write_logging", _s3(reads)).status == "FAIL"
    writes = advanced([*data, {"Field": "readOnly", "Equals": ["false"]},
                       {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::"]}])  # fmt: skip
    assert one("cloudtrail_s3_object_write_logging", _s3(writes)).status == "PASS"
    some = advanced([*data, {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::payroll/"]}])
    assert one("cloudtrail_s3_object_write_logging", _s3(some)).status == "FAIL"
    puts_only = advanced([*data, {"Field": "eventName", "Equals": ["PutObject"]}])
    assert one("cloudtrail_s3_object_write_logging", _s3(puts_only)).status == "FAIL"


# --- CloudTrail: the trail bucket's access logging -------------------------------------------------
def test_trail_bucket_logging_is_read_in_the_account_that_holds_the_bucket() -> None:
    archive = "111122220003"
    org = trail("org", MGMT, IsOrganizationTrail=True, S3BucketName="org-trail-logs")
    logged = {"LoggingEnabled": {"TargetBucket": "org-access-logs", "TargetPrefix": "org-trail-logs/"}}
    inv = inventory(trails_data(), others={MGMT: trails_data((org, status(), None)),
                                           archive: {GLOBAL: {"s3": {"GetBucketLogging": {"org-trail-logs": logged}}}}})  # fmt: skip
    [r] = run("cloudtrail_bucket_access_logging", inv)
    assert r.status == "PASS" and r.evidence["bucket_account"] == archive
    inv = inventory(trails_data(), others={MGMT: trails_data((org, status(), None)),
                                           archive: {GLOBAL: {"s3": {"GetBucketLogging": {"org-trail-logs": {}}}}}})  # fmt: skip
    assert run("cloudtrail_bucket_access_logging", inv)[0].status == "FAIL"


def test_trail_bucket_outside_the_inventory_is_manual_and_denied_read_is_error() -> None:
    [r] = run("cloudtrail_bucket_access_logging", inventory(trails_data((trail(), status(), None))))
    assert r.status == "MANUAL" and r.evidence["bucket"] == f"trail-logs-{ACCOUNT}"
    denied = [(GLOBAL, "s3", "GetBucketLogging", f"trail-logs-{ACCOUNT}", "AccessDenied")]
    [r] = run(
        "cloudtrail_bucket_access_logging", inventory(trails_data((trail(), status(), None)), errors=denied)
    )
    assert r.status == "ERROR" and r.evidence["permission"] == "s3:GetBucketLogging"


# --- AWS Config -------------------------------------------------------------------------------------
def config(recording: bool = True, all_supported: bool = True, global_types: bool = True,
           channel: bool = True) -> dict[str, Any]:  # fmt: skip
    return {"config": {
        "DescribeConfigurationRecorders": {"": {"ConfigurationRecorders": [{
            "name": "default", "roleARN": f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/config.amazonaws.com/"
            "AWSServiceRoleForConfig", "recordingGroup": {"allSupported": all_supported,
            "includeGlobalResourceTypes": global_types, "resourceTypes": [],
            "recordingStrategy": {"useOnly": "ALL_SUPPORTED_RESOURCE_TYPES"}}}]}},
        "DescribeConfigurationRecorderStatus": {"": {"ConfigurationRecordersStatus": [{
            "name": "default", "recording": recording, "lastStatus": "SUCCESS",
            "lastStartTime": "2026-11-01T00:00:00+00:00"}]}},
        "DescribeDeliveryChannels": {"": {"DeliveryChannels": [{"name": "default", "s3BucketName": "config-logs"}]
                                          if channel else []}}}}  # fmt: skip


def test_config_recorder_in_every_region() -> None:
    inv = inventory({"us-east-1": config(), "eu-west-1": config(global_types=False)})
    assert [r.status for r in run("config_recorder_enabled", inv)] == ["PASS", "PASS"]
    inv = inventory({"us-east-1": config(), "eu-west-1": config(recording=False)})
    eu = run("config_recorder_enabled", inv, region="eu-west-1")[0]
    assert eu.status == "FAIL" and eu.region == "eu-west-1"
    assert CHECKS.get("config_recorder_enabled").fix_params(eu) == {  # type: ignore[misc]
        "account_id": ACCOUNT, "region": "eu-west-1"}  # fmt: skip
    for bad in (config(all_supported=False), config(channel=False)):
        assert (
            run("config_recorder_enabled", inventory({"us-east-1": bad}), region="us-east-1")[0].status
            == "FAIL"
        )
    absent = {"config": {"DescribeConfigurationRecorders": {"": None}, "DescribeConfigurationRecorderStatus": {"": None},
                         "DescribeDeliveryChannels": {"": {"DeliveryChannels": []}}}}  # fmt: skip
    r = run("config_recorder_enabled", inventory({"us-east-1": absent}), region="us-east-1")[0]
    assert r.status == "FAIL" and "no configuration recorder" in r.message


def test_config_global_resource_types_must_be_recorded_somewhere() -> None:
    inv = inventory({"us-east-1": config(global_types=False), "eu-west-1": config(global_types=False)})
    results = run("config_recorder_enabled", inv)
    assert {r.status for r in results} == {"FAIL"} and all(
        "global resource types" in r.message for r in results
    )


def test_config_denied_is_error() -> None:
    denied = [("eu-west-1", "config", "DescribeConfigurationRecorders", "", "AccessDeniedException")]
    r = run("config_recorder_enabled", inventory({"eu-west-1": {}}, errors=denied), region="eu-west-1")[0]
    assert r.status == "ERROR" and r.evidence["permission"] == "config:DescribeConfigurationRecorders"


# --- Security Hub, GuardDuty ----------------------------------------------------------------------
def test_security_hub_enabled_per_region() -> None:
    hub = {"HubArn": f"arn:aws:securityhub:us-east-1:{ACCOUNT}:hub/default", "SubscribedAt": "2026-01-01T00:00:00Z",
           "AutoEnableControls": True, "ControlFindingGenerator": "SECURITY_CONTROL"}  # fmt: skip
    denied = [("eu-west-1", "securityhub", "DescribeHub", "", "AccessDeniedException")]
    inv = inventory({"us-east-1": {"securityhub": {"DescribeHub": {"": hub}}}}, errors=denied)
    assert [r.status for r in run("securityhub_enabled", inv)] == ["PASS", "ERROR"]
    off = inventory({r: {"securityhub": {"DescribeHub": {"": None}}} for r in ("us-east-1", "eu-west-1")})
    results = run("securityhub_enabled", off)
    assert [r.status for r in results] == ["FAIL", "FAIL"]
    assert CHECKS.get("securityhub_enabled").fix_params(results[1]) == {  # type: ignore[misc]
        "account_id": ACCOUNT, "region": "eu-west-1"}  # fmt: skip


def _guardduty(**detectors: str) -> dict[str, Any]:
    return {"guardduty": {"ListDetectors": {"": {"DetectorIds": list(detectors)}},
                          "GetDetector": {d: {"CreatedAt": "2026-01-01T00:00:00Z", "FindingPublishingFrequency":
                                              "SIX_HOURS", "ServiceRole": "arn:aws:iam::123456789012:role/gd",
                                              "Status": s, "UpdatedAt": "2026-01-01T00:00:00Z"}
                                          for d, s in detectors.items()}}}  # fmt: skip


def test_guardduty_enabled_per_region() -> None:
    inv = inventory({"us-east-1": _guardduty(d1="ENABLED"), "eu-west-1": _guardduty(d2="DISABLED")})
    us, eu = run("guardduty_enabled", inv)
    assert (us.status, eu.status) == ("PASS", "FAIL")
    fix = CHECKS.get("guardduty_enabled").fix_params
    assert fix is not None and fix(eu) == {"account_id": ACCOUNT, "region": "eu-west-1", "detector_id": "d2"}
    none = run("guardduty_enabled", inventory({"us-east-1": _guardduty()}), region="us-east-1")[0]
    assert none.status == "FAIL" and fix(none) == {"account_id": ACCOUNT, "region": "us-east-1"}
    denied = [("us-east-1", "guardduty", "GetDetector", "d1", "AccessDeniedException")]
    inv = inventory(
        {"us-east-1": {"guardduty": {"ListDetectors": {"": {"DetectorIds": ["d1"]}}}}}, errors=denied
    )
    r = run("guardduty_enabled", inv, region="us-east-1")[0]
    assert r.status == "ERROR" and r.evidence["permission"] == "guardduty:GetDetector"


# --- the CloudTrail collector -------------------------------------------------------------------
class _CloudTrail:
    """A CloudTrail client of a member account in eu-west-1: its own regional trail, its own
    multi-region trail homed in us-east-1, and the organization trail of the management account."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []
        self.trails = [trail("local", HomeRegion="eu-west-1", IsMultiRegionTrail=False,
                             TrailARN=trail_arn("local", region="eu-west-1")),
                       trail("everywhere"), trail("org", MGMT, IsOrganizationTrail=True)]  # fmt: skip

    def describe_trails(self, includeShadowTrails: bool) -> dict[str, Any]:
        assert includeShadowTrails
        return {"trailList": self.trails}

    def get_trail_status(self, Name: str) -> dict[str, Any]:
        self.asked.append(("GetTrailStatus", Name))
        return status()

    def get_event_selectors(self, TrailName: str) -> dict[str, Any]:
        self.asked.append(("GetEventSelectors", TrailName))
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetEventSelectors")


def test_cloudtrail_collector_reads_each_trail_once_where_it_lives() -> None:
    inv = Inventory(id="i", started="", regions=["us-east-1", "eu-west-1"])
    inv.add_account(ACCOUNT)
    client = _CloudTrail()
    COLLECTORS.get("cloudtrail").fn(CollectContext(inv, ACCOUNT, "eu-west-1", "cloudtrail", client))
    local = trail_arn("local", region="eu-west-1")
    assert client.asked == [("GetTrailStatus", local), ("GetEventSelectors", local)]
    assert inv.get(ACCOUNT, "eu-west-1", "cloudtrail", "GetTrailStatus", local)["IsLogging"] is True
    [err] = inv.errors
    assert (err["operation"], err["key"], err["code"]) == (
        "GetEventSelectors",
        local,
        "AccessDeniedException",
    )
