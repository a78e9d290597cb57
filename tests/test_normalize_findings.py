"""GuardDuty and Security Hub (ASFF) parsers: listings, EventBridge envelopes, raw bytes, issues."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from cloudsoc.core.errors import InputError
from cloudsoc.normalize import formats, guardduty, securityhub
from cloudsoc.normalize.schema import SCHEMAS

ACCOUNT = "111122223333"
DETECTOR = "12abc34d567e8fa901bc2d34e56789f0"


def gd_finding(
    fid: str = "a1b2c3d4e5f60718293a4b5c6d7e8f90", updated: str = "2024-05-02T10:15:30.123Z"
) -> dict[str, Any]:
    """A GuardDuty finding as GetFindings returns it (keys sorted, AccessKey resource)."""
    return {
        "accountId": ACCOUNT,
        "arn": f"arn:aws:guardduty:us-east-1:{ACCOUNT}:detector/{DETECTOR}/finding/{fid}",
        "createdAt": "2024-05-01T08:00:00.000Z",
        "description": "Discovery APIs were called by IAM user alice from an unusual network (café).",
        "id": fid,
        "partition": "aws",
        "region": "us-east-1",
        "resource": {
            "accessKeyDetails": {
                "accessKeyId": "ASIAIOSFODNN7EXAMPLE",
                "principalId": "AIDACKCEVSQ6C2EXAMPLE",
                "userName": "alice",
                "userType": "IAMUser",
            },
            "resourceType": "AccessKey",
        },
        "schemaVersion": "2.0",
        "service": {
            "action": {
                "actionType": "AWS_API_CALL",
                "awsApiCallAction": {
                    "api": "ListUsers",
                    "callerType": "Remote IP",
                    "remoteIpDetails": {
                        "city": {"cityName": "Example City"},
                        "country": {"countryName": "Exampleland"},
                        "geoLocation": {"lat": 1.5, "lon": 2.5},
                        "ipAddressV4": "198.51.100.7",
                        "organization": {
                            "asn": "64496",
                            "asnOrg": "EXAMPLE-AS",
                            "isp": "Example",
                            "org": "Example",
                        },
                    },
                    "serviceName": "iam.amazonaws.com",
                },
            },
            "archived": False,
            "count": 3,
            "detectorId": DETECTOR,
            "eventFirstSeen": "2024-05-01T07:58:00.000Z",
            "eventLastSeen": updated,
            "resourceRole": "TARGET",
            "serviceName": "guardduty",
        },
        "severity": 5,
        "title": "Unusual discovery calls by alice.",
        "type": "Discovery:IAMUser/AnomalousBehavior",
        "updatedAt": updated,
    }


def gd_port_probe(fid: str = "0f9e8d7c6b5a49382716059483726150") -> dict[str, Any]:
    """An EC2 finding whose remote address sits in the port probe details."""
    return {
        "accountId": ACCOUNT,
        "id": fid,
        "region": "eu-west-1",
        "resource": {"instanceDetails": {"instanceId": "i-0abcdef1234567890"}, "resourceType": "Instance"},
        "schemaVersion": "2.0",
        "service": {
            "action": {
                "actionType": "PORT_PROBE",
                "portProbeAction": {
                    "blocked": False,
                    "portProbeDetails": [
                        {
                            "localPortDetails": {"port": 22, "portName": "SSH"},
                            "remoteIpDetails": {"ipAddressV4": "203.0.113.9"},
                        }
                    ],
                },
            },
            "serviceName": "guardduty",
        },
        "severity": 2.0,
        "title": "Unprotected port on EC2 instance i-0abcdef1234567890 is being probed.",
        "type": "Recon:EC2/PortProbeUnprotectedPort",
        "updatedAt": "2024-05-03T00:00:00Z",
    }


def sh_finding(
    fid: str = "arn:aws:securityhub:us-east-1:111122223333:subscription/aws-foundational/v/1.0.0/S3.1/finding/0b1c",
    updated: str = "2024-06-01T12:00:00.000Z",
) -> dict[str, Any]:
    """An ASFF finding of a Security Hub control."""
    return {
        "SchemaVersion": "2018-10-08",
        "Id": fid,
        "ProductArn": "arn:aws:securityhub:us-east-1::product/aws/securityhub",
        "ProductName": "Security Hub",
        "CompanyName": "AWS",
        "Region": "us-east-1",
        "GeneratorId": "aws-foundational-security-best-practices/v/1.0.0/S3.1",
        "AwsAccountId": ACCOUNT,
        "Types": ["Software and Configuration Checks/Industry and Regulatory Standards"],
        "FirstObservedAt": "2024-05-30T12:00:00.000Z",
        "CreatedAt": "2024-05-30T12:00:00.000Z",
        "UpdatedAt": updated,
        "Severity": {"Label": "MEDIUM", "Normalized": 40, "Original": "MEDIUM"},
        "Title": "S3.1 S3 general purpose buckets should have block public access settings enabled",
        "Description": "Checks whether the preceding Amazon S3 block public access settings are configured.",
        "Resources": [
            {
                "Type": "AwsAccount",
                "Id": f"AWS::::Account:{ACCOUNT}",
                "Partition": "aws",
                "Region": "us-east-1",
            },
            {"Type": "AwsS3Bucket", "Id": "arn:aws:s3:::example-bucket", "Partition": "aws"},
        ],
        "Compliance": {"Status": "FAILED"},
        "WorkflowState": "NEW",
        "Workflow": {"Status": "NEW"},
        "RecordState": "ACTIVE",
    }


def sh_guardduty_finding() -> dict[str, Any]:
    """An ASFF finding imported from GuardDuty, without Region or ProductName (both optional)."""
    return {
        "SchemaVersion": "2018-10-08",
        "Id": f"arn:aws:guardduty:eu-central-1:{ACCOUNT}:detector/{DETECTOR}/finding/77aa",
        "ProductArn": "arn:aws:securityhub:eu-central-1::product/aws/guardduty",
        "GeneratorId": f"arn:aws:guardduty:eu-central-1:{ACCOUNT}:detector/{DETECTOR}",
        "AwsAccountId": ACCOUNT,
        "Types": ["TTPs/Discovery/Recon:EC2-PortProbeUnprotectedPort"],
        "CreatedAt": "2024-06-02T09:00:00Z",
        "UpdatedAt": "2024-06-02T09:30:00Z",
        "Severity": {"Label": "LOW", "Normalized": 20},
        "Title": "Unprotected port on EC2 instance is being probed.",
        "Resources": [
            {"Type": "AwsEc2Instance", "Id": "arn:aws:ec2:eu-central-1:111122223333:instance/i-0abc"}
        ],
        "Workflow": {"Status": "NOTIFIED"},
        "RecordState": "ACTIVE",
    }


def pretty(obj: object) -> bytes:
    # Indented, non-ASCII kept: the raw column must keep exactly these bytes.
    return json.dumps(obj, indent=2, ensure_ascii=False).encode()


def listing(*findings: bytes) -> bytes:
    return b'{\n  "Findings": [\n' + b",\n".join(findings) + b"\n  ]\n}\n"


def event(detail_type: str, detail: bytes, region: str = "us-east-1") -> bytes:
    head = {
        "version": "0",
        "id": "7bf73129-1428-4cd3-a780-95db273d1602",
        "detail-type": detail_type,
        "source": "aws.guardduty" if detail_type.startswith("GuardDuty") else "aws.securityhub",
        "account": ACCOUNT,
        "time": "2024-05-02T10:16:00Z",
        "region": region,
        "resources": [],
    }
    return json.dumps(head).encode()[:-1] + b', "detail": ' + detail + b"}"


def sh_event(*findings: bytes) -> bytes:
    return event("Security Hub Findings - Imported", b'{"findings": [' + b", ".join(findings) + b"]}")


def oneline(obj: object) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode()


# --- GuardDuty ------------------------------------------------------------------------------------


def test_guardduty_listing_hot_columns() -> None:
    data = listing(pretty(gd_finding()), pretty(gd_port_probe()))
    parsed = guardduty.parse(data, "guardduty")
    assert parsed.source == "guardduty" and parsed.issues == []
    assert parsed.table.schema == SCHEMAS["guardduty"]
    first, second = parsed.table.to_pylist()
    assert first["event_time"] == datetime(2024, 5, 2, 10, 15, 30, 123000, tzinfo=UTC)
    assert first["event_id"] == "a1b2c3d4e5f60718293a4b5c6d7e8f90@2024-05-02T10:15:30.123Z"
    assert (first["account_id"], first["region"]) == (ACCOUNT, "us-east-1")
    assert first["finding_id"] == "a1b2c3d4e5f60718293a4b5c6d7e8f90"
    assert first["finding_type"] == "Discovery:IAMUser/AnomalousBehavior"
    assert first["title"] == "Unusual discovery calls by alice."
    assert first["severity"] == 5.0
    assert first["resource_type"] == "AccessKey"
    assert first["principal_arn"] == "alice"
    assert first["source_ip"] == "198.51.100.7"
    # Port probes carry the remote address per probe; EC2 findings have no access key.
    assert second["source_ip"] == "203.0.113.9"
    assert second["principal_arn"] is None
    assert second["resource_type"] == "Instance"
    assert second["severity"] == 2.0


def test_guardduty_raw_is_the_input_bytes() -> None:
    f1 = pretty(gd_finding())
    f2 = b'{"id": "esc", "updatedAt": "2024-05-02T00:00:00Z", "title": "caf\\u00e9 \\"quoted\\"",  "x" : [1, 2.50]}'
    parsed = guardduty.parse(listing(f1, f2), "guardduty")
    assert parsed.table.column("raw").to_pylist() == [f1.decode(), f2.decode()]
    assert parsed.table.column("title").to_pylist()[1] == 'café "quoted"'


def test_guardduty_event_id_stable_and_new_after_update() -> None:
    data = listing(pretty(gd_finding()))
    again = guardduty.parse(data, "guardduty").table.column("event_id").to_pylist()
    assert guardduty.parse(data, "guardduty").table.column("event_id").to_pylist() == again
    updated = listing(pretty(gd_finding(updated="2024-05-02T11:00:00.000Z")))
    after = guardduty.parse(updated, "guardduty").table.column("event_id").to_pylist()
    assert after != again
    assert after[0].split("@")[0] == again[0].split("@")[0]


def test_guardduty_bare_array_is_sniffed_and_parsed() -> None:
    data = b"[" + oneline(gd_finding()) + b"," + oneline(gd_port_probe()) + b"]"
    assert formats.sniff("findings.json", data) == "guardduty"
    parsed = formats.parse("findings.json", data)
    assert not isinstance(parsed, str)
    assert parsed.table.num_rows == 2


def test_guardduty_listing_is_sniffed() -> None:
    assert formats.sniff("gd.json", listing(pretty(gd_finding()))) == "guardduty"
    assert formats.sniff("gd.json", b'{"Findings": []}') == "guardduty"


@pytest.mark.parametrize("layout", ["object", "array", "jsonl"])
def test_guardduty_eventbridge_layouts(layout: str) -> None:
    # JSON Lines hold one event a line; elsewhere the finding may be pretty-printed.
    d1, d2 = (oneline if layout == "jsonl" else pretty)(gd_finding()), oneline(gd_port_probe())
    e1, e2 = event("GuardDuty Finding", d1), event("GuardDuty Finding", d2)
    data = {"object": e1, "array": b"[\n" + e1 + b",\n" + e2 + b"\n]", "jsonl": e1 + b"\n" + e2 + b"\n"}[
        layout
    ]
    assert formats.sniff("events", data) == "guardduty-eventbridge"
    parsed = guardduty.parse(data, "guardduty-eventbridge")
    raws = [d1.decode(), d2.decode()][: 1 if layout == "object" else 2]
    assert parsed.issues == []
    assert parsed.table.column("raw").to_pylist() == raws
    assert parsed.table.column("source_ip").to_pylist()[0] == "198.51.100.7"


def test_guardduty_pretty_printed_single_event() -> None:
    data = pretty(
        {
            "version": "0",
            "detail-type": "GuardDuty Finding",
            "source": "aws.guardduty",
            "detail": gd_finding(),
        }
    )
    parsed = guardduty.parse(data, "guardduty-eventbridge")
    assert parsed.table.column("finding_id").to_pylist() == ["a1b2c3d4e5f60718293a4b5c6d7e8f90"]
    assert json.loads(parsed.table.column("raw")[0].as_py()) == gd_finding()


def test_guardduty_eventbridge_bad_lines_and_foreign_events_are_issues() -> None:
    lines = [
        event("GuardDuty Finding", oneline(gd_finding("f0"))),
        b'{"version": "0", "detail-type": "GuardDuty Finding", "detail": {"id": ',  # cut short
        event("AWS API Call via CloudTrail", b'{"eventName": "ListUsers"}'),
        event("GuardDuty Finding", oneline(gd_finding("f3"))),
    ]
    parsed = guardduty.parse(b"\n".join(lines), "guardduty-eventbridge")
    assert parsed.table.column("finding_id").to_pylist() == ["f0", "f3"]
    assert [i.index for i in parsed.issues] == [1, 2]
    assert "AWS API Call via CloudTrail" in parsed.issues[1].reason
    assert parsed.issues[1].raw == lines[2].decode()


def test_guardduty_bad_findings_are_reported_and_the_rest_kept() -> None:
    no_time = gd_finding("f1")
    del no_time["updatedAt"]
    bad_time = gd_finding("f2", updated="yesterday")
    wrong_shape = gd_finding("f3")
    wrong_shape["resource"] = {"resourceType": "AccessKey", "accessKeyDetails": {"userName": {"nested": 1}}}
    findings = [gd_finding("f0"), no_time, bad_time, wrong_shape, None, gd_finding("f5")]
    parsed = guardduty.parse(oneline({"Findings": findings}), "guardduty")
    assert parsed.table.column("finding_id").to_pylist() == ["f0", "f5"]
    assert [i.index for i in parsed.issues] == [1, 2, 3, 4]
    assert "updatedAt" in parsed.issues[0].reason
    assert "yesterday" in parsed.issues[1].reason
    assert parsed.issues[3].raw == "null"
    assert all(i.reason.startswith(f"record {i.index}:") for i in parsed.issues)


def test_guardduty_invalid_utf8_in_one_finding() -> None:
    good = oneline(gd_finding("ok"))
    bad_cold = oneline(gd_finding("cold")).replace("café".encode(), b"caf\xe9")  # latin-1 byte
    bad_hot = oneline(gd_finding("hot")).replace(b"Unusual discovery", b"Unusual \xff discovery")
    parsed = guardduty.parse(b"[" + b",".join([bad_cold, good, bad_hot]) + b"]", "guardduty")
    assert parsed.table.column("finding_id").to_pylist() == ["ok"]
    assert [(i.index, "UTF-8" in i.reason) for i in parsed.issues] == [(0, True), (2, True)]
    assert "\ufffd" in parsed.issues[0].raw


def test_guardduty_malformed_json_is_an_input_error() -> None:
    data = b'{"Findings": [' + oneline(gd_finding()) + b", {oops}]}"
    with pytest.raises(InputError) as err:
        guardduty.parse(data, "guardduty")
    assert err.value.offset is not None and err.value.offset > 100
    with pytest.raises(InputError):
        guardduty.parse(b'{"NotFindings": []}', "guardduty")


def test_guardduty_principal_falls_back_to_principal_id() -> None:
    f = gd_finding()
    del f["resource"]["accessKeyDetails"]["userName"]
    row = guardduty.parse(oneline([f]), "guardduty").table.to_pylist()[0]
    assert row["principal_arn"] == "AIDACKCEVSQ6C2EXAMPLE"


# --- Security Hub ---------------------------------------------------------------------------------


def test_securityhub_listing_hot_columns() -> None:
    data = listing(pretty(sh_finding()), pretty(sh_guardduty_finding()))
    assert formats.sniff("asff.json", data) == "securityhub"
    parsed = securityhub.parse(data, "securityhub")
    assert parsed.source == "securityhub" and parsed.issues == []
    assert parsed.table.schema == SCHEMAS["securityhub"]
    control, imported = parsed.table.to_pylist()
    assert control["event_time"] == datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
    assert control["event_id"] == sh_finding()["Id"] + "@2024-06-01T12:00:00.000Z"
    assert control["account_id"] == ACCOUNT
    assert control["region"] == "us-east-1"
    assert control["finding_id"] == sh_finding()["Id"]
    assert control["product_name"] == "Security Hub"
    assert control["generator_id"] == "aws-foundational-security-best-practices/v/1.0.0/S3.1"
    assert control["title"].startswith("S3.1 ")
    assert control["severity_label"] == "MEDIUM"
    assert (control["resource_type"], control["resource_id"]) == ("AwsAccount", f"AWS::::Account:{ACCOUNT}")
    assert control["compliance_status"] == "FAILED"
    assert control["workflow_status"] == "NEW"
    assert control["record_state"] == "ACTIVE"
    # Region and product name come from the ProductArn when the finding leaves them out.
    assert (imported["region"], imported["product_name"]) == ("eu-central-1", "guardduty")
    assert imported["compliance_status"] is None
    assert imported["workflow_status"] == "NOTIFIED"


def test_securityhub_raw_bytes_and_bare_array() -> None:
    f1, f2 = pretty(sh_finding()), oneline(sh_guardduty_finding())
    data = b"[" + f1 + b"," + f2 + b"]"
    assert formats.sniff("asff.json", data) == "securityhub"
    parsed = securityhub.parse(data, "securityhub")
    assert parsed.table.column("raw").to_pylist() == [f1.decode(), f2.decode()]


def test_securityhub_event_id_changes_with_updated_at() -> None:
    ids = [
        securityhub.parse(oneline([sh_finding(updated=t)]), "securityhub").table.column("event_id")[0].as_py()
        for t in ("2024-06-01T12:00:00.000Z", "2024-06-01T12:00:00.000Z", "2024-06-02T08:00:00.000Z")
    ]
    assert ids[0] == ids[1] != ids[2]


@pytest.mark.parametrize("layout", ["object", "array", "jsonl"])
def test_securityhub_eventbridge_layouts(layout: str) -> None:
    f1 = (oneline if layout == "jsonl" else pretty)(sh_finding())
    f2, f3 = oneline(sh_guardduty_finding()), oneline(sh_finding("other"))
    e1, e2 = sh_event(f1, f2), sh_event(f3)
    data = {"object": e1, "array": b"[" + e1 + b", " + e2 + b"]", "jsonl": e1 + b"\n\n" + e2 + b"\n"}[layout]
    assert formats.sniff("events", data) == "securityhub-eventbridge"
    parsed = securityhub.parse(data, "securityhub-eventbridge")
    expected = [f1, f2] if layout == "object" else [f1, f2, f3]
    assert parsed.issues == []
    assert parsed.table.column("raw").to_pylist() == [f.decode() for f in expected]


def test_securityhub_custom_action_events_are_accepted() -> None:
    data = event(
        "Security Hub Findings - Custom Action",
        b'{"actionName": "triage", "findings": [' + oneline(sh_finding()) + b"]}",
    )
    assert formats.sniff("e", data) == "securityhub-eventbridge"
    assert securityhub.parse(data, "securityhub-eventbridge").table.num_rows == 1


def test_securityhub_issue_indexes_count_findings_across_events() -> None:
    no_id = sh_finding()
    del no_id["Id"]
    lines = [
        sh_event(oneline(sh_finding("a")), oneline(no_id)),  # records 0, 1
        event("GuardDuty Finding", oneline(gd_finding())),  # record 2: not Security Hub
        sh_event(oneline(sh_finding("c")).replace(b"MEDIUM", b"MED\xc3IUM")),  # record 3: not UTF-8
        sh_event(oneline(sh_finding("d"))),  # record 4
    ]
    parsed = securityhub.parse(b"\n".join(lines), "securityhub-eventbridge")
    assert parsed.table.column("finding_id").to_pylist() == ["a", "d"]
    assert [i.index for i in parsed.issues] == [1, 2, 3]
    assert "Id" in parsed.issues[0].reason
    assert "GuardDuty Finding" in parsed.issues[1].reason
    assert "UTF-8" in parsed.issues[2].reason


def test_securityhub_event_arrays_are_not_mistaken_for_finding_arrays() -> None:
    # The ASFF inside the events must not make the array look like a bare finding list.
    data = b"[" + sh_event(oneline(sh_finding())) + b"]"
    result = formats.parse("events.json", data)
    assert not isinstance(result, str)
    assert result.source == "securityhub" and result.table.num_rows == 1


def test_empty_listings() -> None:
    assert guardduty.parse(b'{"Findings": []}', "guardduty").table.num_rows == 0
    assert securityhub.parse(b"[]", "securityhub").table.schema == SCHEMAS["securityhub"]
