"""The data-store checks on hand-written inventories: RDS instances and snapshots, EFS, KMS key
rotation, Secrets Manager rotation, public Lambda functions."""

from __future__ import annotations

from typing import Any

from cloudsoc.posture.inventory import Inventory
from tests.posture_fixtures import ACCOUNT, fix_of, inventory, run, statuses

REGION = "us-east-1"


def regional(service: str, ops: dict[str, dict[str, Any]],
             errors: list[tuple[str, str, str, str, str]] | None = None) -> Inventory:  # fmt: skip
    return inventory({REGION: {service: ops}}, errors=errors or [])


# --- RDS instances ----------------------------------------------------------------------------------
def db(name: str, **over: Any) -> dict[str, Any]:
    """A DescribeDBInstances entry: encrypted, private, single-AZ, backups for 7 days."""
    return {"DBInstanceIdentifier": name, "DBInstanceClass": "db.t3.micro", "Engine": "postgres",
            "DBInstanceStatus": "available", "Endpoint": {"Address": f"{name}.abc123.{REGION}.rds.amazonaws.com",
                                                          "Port": 5432},
            "InstanceCreateTime": "2026-03-01T10:00:00+00:00", "BackupRetentionPeriod": 7, "MultiAZ": False,
            "AvailabilityZone": f"{REGION}a", "EngineVersion": "16.3", "AutoMinorVersionUpgrade": True,
            "PubliclyAccessible": False, "StorageEncrypted": True,
            "KmsKeyId": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0a1b2c3d-1111-2222-3333-444455556666",
            "DBInstanceArn": f"arn:aws:rds:{REGION}:{ACCOUNT}:db:{name}", **over}  # fmt: skip


def rds(*instances: dict[str, Any], clusters: list[dict[str, Any]] | None = None) -> Inventory:
    ops: dict[str, dict[str, Any]] = {"DescribeDBInstances": {"": {"DBInstances": list(instances)}}}
    if clusters is not None:
        ops["DescribeDBClusters"] = {"": {"DBClusters": clusters}}
    return regional("rds", ops)


def db_arn(name: str) -> str:
    return f"arn:aws:rds:{REGION}:{ACCOUNT}:db:{name}"


def test_rds_instance_settings() -> None:
    good, bad = db("good", MultiAZ=True), db("bad", StorageEncrypted=False, AutoMinorVersionUpgrade=False,
                                             PubliclyAccessible=True, BackupRetentionPeriod=0)  # fmt: skip
    inv = rds(good, bad)
    for check in ("rds_instance_storage_encrypted", "rds_instance_auto_minor_upgrade", "rds_instance_not_public",
                  "rds_instance_multi_az", "rds_instance_backup_enabled"):  # fmt: skip
        assert statuses(run(check, inv, region=REGION)) == {db_arn("good"): "PASS", db_arn("bad"): "FAIL"}, (
            check
        )


def test_rds_public_instance_fix() -> None:
    [result] = run("rds_instance_not_public", rds(db("orders", PubliclyAccessible=True)), region=REGION)
    assert result.evidence["Endpoint"] == f"orders.abc123.{REGION}.rds.amazonaws.com"
    assert fix_of(result) == ("rds.disable_public_access", {"account_id": ACCOUNT, "region": REGION,
                                                            "db_instance_id": "orders"})  # fmt: skip


def test_rds_backup_retention_is_in_evidence() -> None:
    [result] = run("rds_instance_backup_enabled", rds(db("orders", BackupRetentionPeriod=14)), region=REGION)
    assert result.status == "PASS" and result.evidence == {"BackupRetentionPeriod": 14}


def test_aurora_instance_is_judged_by_its_cluster() -> None:
    member = db("aurora-1", Engine="aurora-postgresql", DBClusterIdentifier="orders-cluster", MultiAZ=False)
    spread = [{"DBClusterIdentifier": "orders-cluster", "MultiAZ": True, "Engine": "aurora-postgresql"}]
    [result] = run("rds_instance_multi_az", rds(member, clusters=spread), region=REGION)
    assert result.status == "PASS" and result.evidence["DBClusterIdentifier"] == "orders-cluster"
    single = [spread[0] | {"MultiAZ": False}]
    assert run("rds_instance_multi_az", rds(member, clusters=single), region=REGION)[0].status == "FAIL"


def test_rds_listing_denied_is_error() -> None:
    inv = regional("rds", {}, errors=[(REGION, "rds", "DescribeDBInstances", "", "AccessDenied")])
    [result] = run("rds_instance_storage_encrypted", inv, region=REGION)
    assert result.status == "ERROR" and result.evidence["permission"] == "rds:DescribeDBInstances"


# --- RDS snapshots ------------------------------------------------------------------------------------
def snapshot(name: str) -> dict[str, Any]:
    return {"DBSnapshotIdentifier": name, "DBInstanceIdentifier": "orders", "SnapshotType": "manual",
            "SnapshotCreateTime": "2026-03-02T02:00:00+00:00", "Engine": "postgres", "Status": "available",
            "Encrypted": True, "DBSnapshotArn": f"arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:{name}"}  # fmt: skip


def restore(name: str, *values: str) -> dict[str, Any]:
    return {"DBSnapshotAttributesResult": {"DBSnapshotIdentifier": name, "DBSnapshotAttributes": [
        {"AttributeName": "restore", "AttributeValues": list(values)}]}}  # fmt: skip


def snapshots(
    attrs: dict[str, dict[str, Any]], errors: list[tuple[str, str, str, str, str]] | None = None
) -> Inventory:
    return regional("rds", {"DescribeDBSnapshots": {"": {"DBSnapshots": [snapshot(n) for n in attrs]}},
                            "DescribeDBSnapshotAttributes": attrs}, errors)  # fmt: skip


def snap_arn(name: str) -> str:
    return f"arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:{name}"


def test_rds_snapshot_not_public() -> None:
    inv = snapshots({"public": restore("public", "all", "210987654321"), "shared": restore("shared", "210987654321"),
                     "private": restore("private")})  # fmt: skip
    results = run("rds_snapshot_not_public", inv, region=REGION)
    assert statuses(results) == {
        snap_arn("public"): "FAIL",
        snap_arn("shared"): "PASS",
        snap_arn("private"): "PASS",
    }
    [public] = [r for r in results if r.status == "FAIL"]
    name, params = fix_of(public)
    # Only "all" goes: the account it is shared with by name keeps its access.
    assert (name, params) == ("rds.unshare_snapshot", {"account_id": ACCOUNT, "region": REGION,
                                                       "db_snapshot_id": "public",
                                                       "allowed_accounts": ["210987654321"]})  # fmt: skip


def test_rds_snapshot_attributes_denied_is_error_for_that_snapshot() -> None:
    inv = snapshots({"a": restore("a"), "b": restore("b")},
                    errors=[(REGION, "rds", "DescribeDBSnapshotAttributes", "a", "AccessDenied")])  # fmt: skip
    results = run("rds_snapshot_not_public", inv, region=REGION)
    assert statuses(results) == {snap_arn("a"): "ERROR", snap_arn("b"): "PASS"}


# --- EFS ----------------------------------------------------------------------------------------------
def test_efs_encrypted() -> None:
    def fs(fid: str, encrypted: bool) -> dict[str, Any]:
        return {"FileSystemId": fid, "FileSystemArn": f"arn:aws:elasticfilesystem:{REGION}:{ACCOUNT}:file-system/{fid}",
                "CreationTime": "2026-02-01T08:00:00+00:00", "LifeCycleState": "available", "Name": fid,
                "PerformanceMode": "generalPurpose", "Encrypted": encrypted}  # fmt: skip

    inv = regional(
        "efs", {"DescribeFileSystems": {"": {"FileSystems": [fs("fs-1", True), fs("fs-2", False)]}}}
    )
    results = run("efs_encrypted", inv, region=REGION)
    assert {r.resource.rsplit("/", 1)[-1]: r.status for r in results} == {"fs-1": "PASS", "fs-2": "FAIL"}
    assert (
        run(
            "efs_encrypted",
            regional("efs", {"DescribeFileSystems": {"": {"FileSystems": []}}}),
            region=REGION,
        )
        == []
    )


# --- KMS ----------------------------------------------------------------------------------------------
def key(kid: str, **over: Any) -> dict[str, Any]:
    """A DescribeKey answer: an enabled customer-managed symmetric key."""
    return {"KeyMetadata": {"AWSAccountId": ACCOUNT, "KeyId": kid, "Arn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{kid}",
                            "CreationDate": "2026-01-10T12:00:00+00:00", "Enabled": True, "Description": kid,
                            "KeyUsage": "ENCRYPT_DECRYPT", "KeyState": "Enabled", "Origin": "AWS_KMS",
                            "KeyManager": "CUSTOMER", "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT",
                            "KeySpec": "SYMMETRIC_DEFAULT", "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"],
                            "MultiRegion": False, **over}}  # fmt: skip


def kms(described: dict[str, dict[str, Any]], rotation: dict[str, bool],
        errors: list[tuple[str, str, str, str, str]] | None = None) -> Inventory:  # fmt: skip
    return regional("kms", {
        "ListKeys": {"": {"Keys": [{"KeyId": k, "KeyArn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{k}"} for k in described],
                          "Truncated": False}},
        "DescribeKey": described,
        "GetKeyRotationStatus": {k: {"KeyRotationEnabled": on, "KeyId": k} | ({"RotationPeriodInDays": 365} if on else {})
                                 for k, on in rotation.items()},
    }, errors)  # fmt: skip


def key_arn(kid: str) -> str:
    return f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{kid}"


def test_kms_rotation_judges_customer_symmetric_enabled_keys_only() -> None:
    inv = kms({"rotating": key("rotating"), "static": key("static"), "aws": key("aws", KeyManager="AWS"),
               "rsa": key("rsa", KeySpec="RSA_2048", CustomerMasterKeySpec="RSA_2048", KeyUsage="SIGN_VERIFY"),
               "imported": key("imported", Origin="EXTERNAL"), "off": key("off", KeyState="Disabled", Enabled=False)},
              {"rotating": True, "static": False})  # fmt: skip
    results = run("kms_cmk_rotation", inv, region=REGION)
    assert statuses(results) == {key_arn("rotating"): "PASS", key_arn("static"): "FAIL"}
    [static] = [r for r in results if r.status == "FAIL"]
    assert fix_of(static) == (
        "kms.enable_key_rotation",
        {"account_id": ACCOUNT, "region": REGION, "key_id": "static"},
    )


def test_kms_describe_denied_is_error_for_that_key() -> None:
    inv = kms({"hidden": key("hidden"), "static": key("static")}, {"static": False},
              errors=[(REGION, "kms", "DescribeKey", "hidden", "AccessDeniedException")])  # fmt: skip
    results = run("kms_cmk_rotation", inv, region=REGION)
    assert statuses(results) == {key_arn("hidden"): "ERROR", key_arn("static"): "FAIL"}
    assert results[0].evidence["permission"] == "kms:DescribeKey"


# --- Secrets Manager ----------------------------------------------------------------------------------
def test_secret_rotation() -> None:
    def secret(name: str, **over: Any) -> dict[str, Any]:
        return {"ARN": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}-AbCdEf", "Name": name,
                "LastChangedDate": "2026-03-01T00:00:00+00:00", "CreatedDate": "2026-01-01T00:00:00+00:00", **over}  # fmt: skip

    rotating = secret("db/orders", RotationEnabled=True, RotationLambdaARN=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:rotate",
                      RotationRules={"AutomaticallyAfterDays": 30}, LastRotatedDate="2026-03-01T00:00:00+00:00")  # fmt: skip
    inv = regional("secretsmanager", {"ListSecrets": {"": {"SecretList": [rotating, secret("api/key")]}}})
    results = run("secretsmanager_rotation_enabled", inv, region=REGION)
    assert [r.status for r in results] == ["PASS", "FAIL"]
    assert results[0].evidence["AutomaticallyAfterDays"] == 30
    denied = regional(
        "secretsmanager", {}, errors=[(REGION, "secretsmanager", "ListSecrets", "", "AccessDeniedException")]
    )
    [error] = run("secretsmanager_rotation_enabled", denied, region=REGION)
    assert error.status == "ERROR" and error.evidence["permission"] == "secretsmanager:ListSecrets"


# --- Lambda -------------------------------------------------------------------------------------------
def function(name: str) -> dict[str, Any]:
    return {"FunctionName": name, "FunctionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
            "Runtime": "python3.12", "Role": f"arn:aws:iam::{ACCOUNT}:role/{name}", "Handler": "handler.handler",
            "LastModified": "2026-03-01T10:00:00.000+0000", "Version": "$LATEST", "PackageType": "Zip"}  # fmt: skip


def invoke(sid: str, principal: Any, condition: dict[str, Any] | None = None,
           action: str = "lambda:InvokeFunction") -> dict[str, Any]:  # fmt: skip
    statement = {"Sid": sid, "Effect": "Allow", "Principal": principal, "Action": action,
                 "Resource": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f"}  # fmt: skip
    return statement | ({"Condition": condition} if condition else {})


def lambdas(
    policies: dict[str, Any], errors: list[tuple[str, str, str, str, str]] | None = None
) -> Inventory:
    return regional("lambda", {
        "ListFunctions": {"": {"Functions": [function(n) for n in policies]}},
        "GetPolicy": {n: None if p is None else {"Policy": {"Version": "2012-10-17", "Id": "default", "Statement": p},
                                                  "RevisionId": "4b5c8e3a-0000-1111-2222-333344445555"}
                      for n, p in policies.items()},
    }, errors)  # fmt: skip


def fn_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def test_lambda_function_not_public() -> None:
    inv = lambdas({
        "no-policy": None,
        "s3-trigger": [invoke("s3", {"Service": "s3.amazonaws.com"},
                              {"StringEquals": {"AWS:SourceAccount": ACCOUNT}, "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::uploads"}})],
        "anyone": [invoke("open", "*")],
        "anyone-from-bucket": [invoke("s3", "*", {"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::uploads"}})],
        "org": [invoke("org", {"AWS": "*"}, {"StringEquals": {"aws:PrincipalOrgID": "o-abc123def4"}})],
        "public-url": [invoke("FunctionURLAllowPublicAccess", "*", {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}},
                              action="lambda:InvokeFunctionUrl")],
    })  # fmt: skip
    results = run("lambda_function_not_public", inv, region=REGION)
    assert statuses(results) == {fn_arn("no-policy"): "PASS", fn_arn("s3-trigger"): "PASS", fn_arn("anyone"): "FAIL",
                                 fn_arn("anyone-from-bucket"): "PASS", fn_arn("org"): "PASS",
                                 fn_arn("public-url"): "FAIL"}  # fmt: skip
    [anyone] = [r for r in results if r.resource == fn_arn("anyone")]
    assert anyone.evidence["public_statements"] == [
        "open: everyone (public principal without a restricting condition)"
    ]


def test_lambda_policy_denied_is_error_for_that_function() -> None:
    inv = lambdas(
        {"a": None, "b": None}, errors=[(REGION, "lambda", "GetPolicy", "a", "AccessDeniedException")]
    )
    results = run("lambda_function_not_public", inv, region=REGION)
    assert statuses(results) == {fn_arn("a"): "ERROR", fn_arn("b"): "PASS"}
    assert results[0].evidence["permission"] == "lambda:GetPolicy"
