"""The sandbox's landing zone: an organization, its baseline in every account, workloads in prod
and dev, and the misconfigurations a real estate accumulates (for the posture checks to find).

Everything here is the world as it was before anyone watched: these calls are not recorded.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import boto3

from cloudsoc.aws.api import BLOCK_ALL_PUBLIC_ACCESS
from cloudsoc.aws.sandbox import (
    ACCOUNTS,
    HOME_REGION,
    READ_ONLY_ROLE,
    REGIONS,
    RESPONDER_ROLE,
    SOC_USER,
    WORKLOADS,
    Sandbox,
    SandboxState,
)
from cloudsoc.aws.session import client


def provision(admin: boto3.Session, state: SandboxState) -> None:
    org = client("organizations", session=admin)
    state.org_id = org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    root = org.list_roots()["Roots"][0]["Id"]
    state.accounts = {"management": ACCOUNTS["management"][0]}
    ous: dict[str, str] = {}
    for name, (_, path) in ACCOUNTS.items():
        if name == "management":
            continue
        acct = org.create_account(AccountName=name, Email=f"aws+{name}@example.com")["CreateAccountStatus"][
            "AccountId"
        ]
        state.accounts[name] = acct
        parent = _ou(org, ous, root, path)
        org.move_account(AccountId=acct, SourceParentId=root, DestinationParentId=parent)
    sessions = {name: Sandbox.account_admin(state, name) for name in state.accounts}
    security = state.accounts["security"]
    for name, sess in sessions.items():
        state.resources[name] = {"regions": list(REGIONS)}
        _soc_roles(sess, security)
    _log_archive(sessions["log-archive"], state)
    _org_trail(sessions["management"], state)
    _soc_hub(sessions["security"], state)
    for name, sess in sessions.items():
        _detectors(sess, state, name)
    for name in WORKLOADS:
        _workload(sessions[name], state, name)


def _ou(org: Any, ous: dict[str, str], root: str, path: str) -> str:
    parent = root
    for depth, part in enumerate(path.split("/") if path else []):
        key = "/".join(path.split("/")[: depth + 1])
        if key not in ous:
            ous[key] = org.create_organizational_unit(ParentId=parent, Name=part)["OrganizationalUnit"]["Id"]
        parent = ous[key]
    return parent


def _trust(principal: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]})  # fmt: skip


def _soc_roles(sess: boto3.Session, security: str) -> None:
    iam = client("iam", session=sess)
    trust = _trust({"AWS": f"arn:aws:iam::{security}:root"})
    for role, policy in ((READ_ONLY_ROLE, "ReadOnlyAccess"), (RESPONDER_ROLE, "AdministratorAccess")):
        iam.create_role(
            RoleName=role, AssumeRolePolicyDocument=trust, Description="cloudsoc access from the SOC"
        )
        iam.attach_role_policy(RoleName=role, PolicyArn=f"arn:aws:iam::aws:policy/{policy}")


def _log_archive(sess: boto3.Session, state: SandboxState) -> None:
    acct = state.accounts["log-archive"]
    kms = client("kms", session=sess)
    key = kms.create_key(Description="organization trail encryption")["KeyMetadata"]["Arn"]
    bucket = f"aws-cloudtrail-logs-{acct}-org"
    s3 = client("s3", session=sess)
    s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 365}}})  # fmt: skip
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}}]})  # fmt: skip
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=BLOCK_ALL_PUBLIC_ACCESS)
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "CloudTrailWrite", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/*"}]}))  # fmt: skip
    state.resources["log-archive"].update(trail_bucket=bucket, trail_kms_key=key)


def _org_trail(sess: boto3.Session, state: SandboxState) -> None:
    ct = client("cloudtrail", session=sess)
    bucket = state.trail_bucket
    trail = ct.create_trail(Name="organization-trail", S3BucketName=bucket, IsMultiRegionTrail=True,
                            IsOrganizationTrail=True, EnableLogFileValidation=True, IncludeGlobalServiceEvents=True,
                            KmsKeyId=state.resources["log-archive"]["trail_kms_key"])  # fmt: skip
    ct.put_event_selectors(TrailName="organization-trail", EventSelectors=[{
        "ReadWriteType": "All", "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]},
                          {"Type": "AWS::Lambda::Function", "Values": ["arn:aws:lambda"]}]}])  # fmt: skip
    ct.start_logging(Name="organization-trail")
    state.resources["management"]["trail_arn"] = trail["TrailARN"]


def _soc_hub(sess: boto3.Session, state: SandboxState) -> None:
    sqs = client("sqs", session=sess)
    url = sqs.create_queue(QueueName="cloudsoc-live-events")["QueueUrl"]
    state.resources["security"]["live_queue_url"] = url
    iam = client("iam", session=sess)
    iam.create_user(UserName=SOC_USER)
    iam.attach_user_policy(UserName=SOC_USER, PolicyArn="arn:aws:iam::aws:policy/SecurityAudit")
    _store_key(iam, state, "security", SOC_USER)


def _detectors(sess: boto3.Session, state: SandboxState, name: str) -> None:
    """GuardDuty, Security Hub and Config in both regions, as the landing zone turns them on."""
    res = state.resources[name]
    bucket = state.trail_bucket
    for region in REGIONS:
        gd = client("guardduty", session=sess, region=region)
        res.setdefault("guardduty_detectors", {})[region] = gd.create_detector(Enable=True)["DetectorId"]
        client("securityhub", session=sess, region=region).enable_security_hub(EnableDefaultStandards=True)
        cfg = client("config", session=sess, region=region)
        recorder = {"name": "default", "roleARN": f"arn:aws:iam::{state.accounts[name]}:role/aws-service-role/"
                    "config.amazonaws.com/AWSServiceRoleForConfig",
                    "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": region == HOME_REGION}}  # fmt: skip
        cfg.put_configuration_recorder(ConfigurationRecorder=recorder)
        cfg.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": bucket})
        cfg.start_configuration_recorder(ConfigurationRecorderName="default")


def _store_key(iam: Any, state: SandboxState, account: str, user: str) -> dict[str, str]:
    key = iam.create_access_key(UserName=user)["AccessKey"]
    entry = {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"], "UserName": user,
             "Account": state.accounts[account], "Arn": f"arn:aws:iam::{state.accounts[account]}:user/{user}"}  # fmt: skip
    state.keys[f"{account}/{user}"] = entry
    return entry


# --- workloads -----------------------------------------------------------------------------------
PEOPLE = {  # user -> (group, console with MFA?, has access key?)
    "alice.admin": ("Administrators", True, False),
    "bob.developer": ("Developers", False, False),  # a console user without MFA: a posture finding
    "svc-deploy": ("Deployers", None, True),  # the CI/CD user, its key in a pipeline's settings
    "svc-backup": ("Operators", None, True),  # a scheduled job's user, its key long unrotated
}
_GROUP_POLICY = {"Administrators": "AdministratorAccess", "Developers": "PowerUserAccess",
                 "Deployers": "AdministratorAccess", "Operators": "ReadOnlyAccess"}  # fmt: skip


def _workload(sess: boto3.Session, state: SandboxState, name: str) -> None:
    res = state.resources[name]
    acct = state.accounts[name]
    _people(sess, state, name)
    res["roles"] = _roles(sess)
    res.update(_network(sess, name))
    res.update(_compute(sess, res, name))
    res.update(_storage(sess, acct, name))
    res.update(_secrets(sess, name))
    res.update(_database_and_function(sess, res, acct, name))


def _people(sess: boto3.Session, state: SandboxState, name: str) -> None:
    iam = client("iam", session=sess)
    for group in sorted(set(_GROUP_POLICY)):
        iam.create_group(GroupName=group)
        iam.attach_group_policy(GroupName=group, PolicyArn=f"arn:aws:iam::aws:policy/{_GROUP_POLICY[group]}")
    for user, (group, mfa, key) in PEOPLE.items():
        iam.create_user(UserName=user, Tags=[{"Key": "team", "Value": group.lower()}])
        iam.add_user_to_group(GroupName=group, UserName=user)
        if mfa is not None:
            iam.create_login_profile(UserName=user, Password="Sandbox-Passw0rd!", PasswordResetRequired=False)
        if mfa:
            serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=user)["VirtualMFADevice"][
                "SerialNumber"
            ]
            iam.enable_mfa_device(UserName=user, SerialNumber=serial, AuthenticationCode1="123456",
                                  AuthenticationCode2="654321")  # fmt: skip
        if key:
            _store_key(iam, state, name, user)


def _roles(sess: boto3.Session) -> dict[str, str]:
    iam = client("iam", session=sess)
    acct = client("sts", session=sess).get_caller_identity()["Account"]
    roles = {
        "web-app-role": (_trust({"Service": "ec2.amazonaws.com"}), "AmazonS3ReadOnlyAccess"),
        "order-processor-role": (_trust({"Service": "lambda.amazonaws.com"}), "SecretsManagerReadWrite"),
        "cicd-deployer": (_trust({"AWS": f"arn:aws:iam::{acct}:user/svc-deploy"}), "PowerUserAccess"),
        "PlatformAdmin": (_trust({"AWS": f"arn:aws:iam::{acct}:root"}), "AdministratorAccess"),
    }
    arns = {}
    for role, (trust, policy) in roles.items():
        arns[role] = iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        iam.attach_role_policy(RoleName=role, PolicyArn=f"arn:aws:iam::aws:policy/{policy}")
    iam.create_instance_profile(InstanceProfileName="web-app-role")
    iam.add_role_to_instance_profile(InstanceProfileName="web-app-role", RoleName="web-app-role")
    return arns


def _network(sess: boto3.Session, name: str) -> dict[str, Any]:
    ec2 = client("ec2", session=sess)
    cidr = "10.10.0.0/16" if name == "prod" else "10.20.0.0/16"
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr.replace("0.0/16", "1.0/24"))["Subnet"]["SubnetId"]
    sgs = {}
    for sg, desc in (("web", "web tier"), ("database", "database tier"), ("bastion", "bastion host")):
        sgs[sg] = ec2.create_security_group(GroupName=f"{name}-{sg}", Description=desc, VpcId=vpc)["GroupId"]
    anywhere = [{"CidrIp": "0.0.0.0/0"}]
    ec2.authorize_security_group_ingress(GroupId=sgs["web"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": anywhere}])  # fmt: skip
    ec2.authorize_security_group_ingress(GroupId=sgs["database"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "UserIdGroupPairs": [{"GroupId": sgs["web"]}]}])  # fmt: skip
    # Misconfiguration: SSH to the bastion from anywhere.
    ec2.authorize_security_group_ingress(GroupId=sgs["bastion"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": anywhere}])  # fmt: skip
    logs = f"{name}-network-logs-{client('sts', session=sess).get_caller_identity()['Account']}"
    client("s3", session=sess).create_bucket(Bucket=logs)
    flow = ec2.create_flow_logs(ResourceIds=[vpc], ResourceType="VPC", TrafficType="ALL", LogDestinationType="s3",
                                LogDestination=f"arn:aws:s3:::{logs}")["FlowLogIds"][0]  # fmt: skip
    r53 = client("route53resolver", session=sess)
    qlog = r53.create_resolver_query_log_config(Name=f"{name}-dns-queries", CreatorRequestId=f"{name}-dns",
                                                DestinationArn=f"arn:aws:s3:::{logs}/dns/")  # fmt: skip
    qlog_id = qlog["ResolverQueryLogConfig"]["Id"]
    r53.associate_resolver_query_log_config(ResolverQueryLogConfigId=qlog_id, ResourceId=vpc)
    return {"vpc": vpc, "subnet": subnet, "security_groups": sgs, "flow_log": flow, "dns_query_log": qlog_id}


def _compute(sess: boto3.Session, res: dict[str, Any], name: str) -> dict[str, Any]:
    ec2 = client("ec2", session=sess)
    ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instances = {}
    for role in ("web", "database", "bastion"):
        extra: dict[str, Any] = {}
        if role == "web":
            extra["IamInstanceProfile"] = {"Name": "web-app-role"}
            extra["UserData"] = "#!/bin/bash\nyum install -y nginx\nsystemctl start nginx\n"
        inst = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, InstanceType="t3.micro", SubnetId=res["subnet"],
                                 SecurityGroupIds=[res["security_groups"][role]],
                                 TagSpecifications=[{"ResourceType": "instance", "Tags": [
                                     {"Key": "Name", "Value": f"{name}-{role}"}, {"Key": "tier", "Value": role}]}],
                                 **extra)["Instances"][0]  # fmt: skip
        instances[role] = inst["InstanceId"]
    az = inst["Placement"]["AvailabilityZone"]
    # Misconfiguration: an unencrypted data volume on the database server.
    data = ec2.create_volume(AvailabilityZone=az, Size=100, Encrypted=False, TagSpecifications=[
        {"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": f"{name}-database-data"}]}])["VolumeId"]  # fmt: skip
    ec2.attach_volume(VolumeId=data, InstanceId=instances["database"], Device="/dev/sdf")
    snap = ec2.create_snapshot(VolumeId=data, Description=f"{name} database nightly")["SnapshotId"]
    image = ec2.create_image(InstanceId=instances["web"], Name=f"{name}-web-golden")["ImageId"]
    return {"instances": instances, "data_volume": data, "snapshot": snap, "image": image, "az": az}


def _storage(sess: boto3.Session, acct: str, name: str) -> dict[str, Any]:
    s3 = client("s3", session=sess)
    buckets = {kind: f"{name}-{kind}-{acct}" for kind in ("artifacts", "customer-data", "public-assets")}
    for kind, bucket in buckets.items():
        s3.create_bucket(Bucket=bucket)
        if kind != "public-assets":
            s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=BLOCK_ALL_PUBLIC_ACCESS)
            s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
                {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})  # fmt: skip
    for i, obj in enumerate(
        ("customers.csv", "payroll-2026.xlsx", "contracts/acme.pdf", "exports/orders.parquet")
    ):
        s3.put_object(Bucket=buckets["customer-data"], Key=obj, Body=f"sensitive record {i}\n".encode() * 64)
    s3.put_object(Bucket=buckets["artifacts"], Key="releases/app-1.4.2.zip", Body=b"PK" + b"\0" * 512)
    # Misconfiguration: a bucket readable by anyone.
    s3.put_object(Bucket=buckets["public-assets"], Key="index.html", Body=b"<html>hello</html>")
    s3.put_bucket_policy(Bucket=buckets["public-assets"], Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{buckets['public-assets']}/*"}]}))  # fmt: skip
    return {"buckets": buckets}


def _secrets(sess: boto3.Session, name: str) -> dict[str, Any]:
    sm = client("secretsmanager", session=sess)
    ssm = client("ssm", session=sess)
    secrets = [sm.create_secret(Name=f"{name}/{s}", SecretString=json.dumps({"value": f"{s}-sandbox-secret"}))["ARN"]
               for s in ("db/orders-password", "api/stripe-key", "api/sendgrid-key", "ci/github-token")]  # fmt: skip
    params = [f"/{name}/{p}" for p in ("db/password", "app/api-key", "app/jwt-signing-key", "ci/npm-token")]
    for p in params:
        ssm.put_parameter(Name=p, Value=f"sandbox-{p.rsplit('/', 1)[-1]}", Type="SecureString")
    ssm.put_parameter(Name=f"/{name}/app/log-level", Value="info", Type="String")
    return {"secrets": secrets, "parameters": params}


def _database_and_function(sess: boto3.Session, res: dict[str, Any], acct: str, name: str) -> dict[str, Any]:
    rds = client("rds", session=sess)
    db_id = f"{name}-orders"
    rds.create_db_instance(DBInstanceIdentifier=db_id, DBInstanceClass="db.t3.micro", Engine="postgres",
                           MasterUsername="orders", MasterUserPassword="Sandbox-Passw0rd!", AllocatedStorage=20,
                           StorageEncrypted=True)  # fmt: skip
    snapshot = rds.create_db_snapshot(DBInstanceIdentifier=db_id, DBSnapshotIdentifier=f"{db_id}-nightly")
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("handler.py", "def handler(event, context):\n    return {'status': 'processed'}\n")
    fn = client("lambda", session=sess).create_function(
        FunctionName=f"{name}-order-processor", Runtime="python3.12", Handler="handler.handler",
        Role=res["roles"]["order-processor-role"], Code={"ZipFile": code.getvalue()})["FunctionArn"]  # fmt: skip
    return {
        "db_instance": db_id,
        "db_snapshot": snapshot["DBSnapshot"]["DBSnapshotIdentifier"],
        "function": fn,
    }
