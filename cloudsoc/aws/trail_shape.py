"""How CloudTrail writes an API call: event source and name, read-only flag, event category, and
request/response fields in CloudTrail's own casing (driven by the botocore service model).

CloudTrail's casing follows the wire protocol: JSON and query APIs become lowerCamelCase; EC2 puts
every list under ``items``; S3 keeps the XML element names of the body, calls the bucket
``bucketName`` and gives the bucket policy as parsed JSON in ``bucketPolicy``.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from botocore.model import ListShape, OperationModel, Shape, StructureShape

HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"
_SENSITIVE = ("password", "secretstring", "secretbinary", "secretaccesskey", "privatekey", "passworddata")
_EVENT_SOURCE = {"bedrock-runtime": "bedrock", "api.sagemaker": "sagemaker", "email": "ses",
                 "streams.dynamodb": "dynamodb", "runtime.sagemaker": "sagemaker"}  # fmt: skip
# Lambda's CloudTrail event names carry the API version.
_LAMBDA_NAMES = {
    "CreateFunction": "CreateFunction20150331", "DeleteFunction": "DeleteFunction20150331",
    "GetFunction": "GetFunction20150331v2", "ListFunctions": "ListFunctions20150331",
    "UpdateFunctionCode": "UpdateFunctionCode20150331v2",
    "UpdateFunctionConfiguration": "UpdateFunctionConfiguration20150331v2",
    "AddPermission": "AddPermission20150331v2", "RemovePermission": "RemovePermission20150331v2",
    "PublishLayerVersion": "PublishLayerVersion20181031", "DeleteLayerVersion": "DeleteLayerVersion20181031",
    "GetLayerVersion": "GetLayerVersion20181031", "ListLayers": "ListLayers20181031",
    "AddLayerVersionPermission": "AddLayerVersionPermission20181031",
    "CreateFunctionUrlConfig": "CreateFunctionUrlConfig20211031", "GetPolicy": "GetPolicy20150331v2",
}  # fmt: skip
# S3 logs some calls under their original API names.
_S3_NAMES = {"PutBucketLifecycleConfiguration": "PutBucketLifecycle", "GetBucketLifecycleConfiguration": "GetBucketLifecycle",
             "ListObjectsV2": "ListObjects", "PutBucketNotificationConfiguration": "PutBucketNotification"}  # fmt: skip
_GLOBAL = {"iam", "organizations", "route53", "cloudfront", "support"}
_READ_PREFIXES = ("Describe", "Get", "List", "Head", "Lookup", "BatchGet", "Search", "Query", "Scan", "Select",
                  "Check", "Test", "Estimate", "Preview", "Validate", "Simulate", "Generate", "Decrypt",
                  "AssumeRole", "InvokeModel", "Retrieve")  # fmt: skip
_S3_DATA = {"GetObject", "PutObject", "DeleteObject", "DeleteObjects", "CopyObject", "HeadObject", "ListObjects",
            "ListObjectsV2", "ListObjectVersions", "GetObjectAcl", "PutObjectAcl", "RestoreObject",
            "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload", "GetObjectTagging"}  # fmt: skip
_READ_ONLY_EXCEPTIONS = {"GetFederationToken": False, "GenerateDataKey": True}


def event_source(model: OperationModel) -> str:
    prefix = model.service_model.endpoint_prefix
    return f"{_EVENT_SOURCE.get(prefix, prefix)}.amazonaws.com"


def event_name(model: OperationModel) -> str:
    if model.service_model.endpoint_prefix == "lambda":
        return _LAMBDA_NAMES.get(model.name, model.name)
    if model.service_model.endpoint_prefix == "s3":
        return _S3_NAMES.get(model.name, model.name)
    return model.name


def event_region(model: OperationModel, region: str) -> str:
    return "us-east-1" if model.service_model.endpoint_prefix in _GLOBAL else region


def read_only(name: str) -> bool:
    if name in _READ_ONLY_EXCEPTIONS:
        return _READ_ONLY_EXCEPTIONS[name]
    return name.startswith(_READ_PREFIXES)


def is_data_event(model: OperationModel) -> bool:
    prefix = model.service_model.endpoint_prefix
    return (prefix == "s3" and model.name in _S3_DATA) or (prefix == "lambda" and model.name == "Invoke")


def request_parameters(model: OperationModel, params: dict[str, Any], region: str) -> dict[str, Any] | None:
    if not params:
        return None
    protocol = model.service_model.protocol
    shape = model.input_shape
    if protocol == "rest-xml" and model.service_model.endpoint_prefix == "s3" and shape is not None:
        return _s3_request(shape, params, region)
    out: dict[str, Any] = _camel(params, shape, ec2=protocol == "ec2")
    fixup = _FIXUPS.get(model.name)
    return fixup(out) if fixup else out


def _run_instances(p: dict[str, Any]) -> dict[str, Any]:
    launch = {k: p.pop(k) for k in ("imageId", "minCount", "maxCount", "keyName") if k in p}
    return {"instancesSet": {"items": [launch]}, **p}


def _attribute_type(kind: str) -> Any:
    def fix(p: dict[str, Any]) -> dict[str, Any]:
        p.pop("attribute", None)
        return {**p, "attributeType": kind}

    return fix


def _hide(*keys: str) -> Any:
    def fix(p: dict[str, Any]) -> dict[str, Any]:
        return {k: HIDDEN if k in keys else v for k, v in p.items()}

    return fix


# Calls whose CloudTrail request shape is not the API's.
_FIXUPS = {"RunInstances": _run_instances, "ModifySnapshotAttribute": _attribute_type("CREATE_VOLUME_PERMISSION"),
           "ModifyImageAttribute": _attribute_type("launchPermission"), "SendCommand": _hide("parameters"),
           "PutParameter": _hide("value")}  # fmt: skip


def response_elements(model: OperationModel, parsed: dict[str, Any], readonly: bool) -> dict[str, Any] | None:
    """Write calls carry their response; reads do not (CloudTrail keeps read responses out)."""
    body = {k: v for k, v in parsed.items() if k not in ("ResponseMetadata", "Error")}
    if readonly or not body or model.service_model.protocol == "rest-xml":
        return None
    out: dict[str, Any] = _camel(body, model.output_shape, ec2=model.service_model.protocol == "ec2")
    return out


def _lower(name: str) -> str:
    return name[:1].lower() + name[1:]


def _camel(value: Any, shape: Shape | None, ec2: bool = False, key: str = "") -> Any:
    if isinstance(value, dict):
        members = shape.members if isinstance(shape, StructureShape) else {}
        out: dict[str, Any] = {}
        for k, v in value.items():
            if isinstance(v, bytes | bytearray):
                continue  # blobs (code, user data as bytes) are never logged
            if k.lower() in _SENSITIVE:
                continue  # passwords and secret values are left out of the record
            name = _lower(k)
            out[name] = _camel(v, members.get(k), ec2, name)
            if name == "userData":
                out[name] = "<sensitiveDataRemoved>"
        return out
    if isinstance(value, list | tuple):
        member = shape.member if isinstance(shape, ListShape) else None
        items = [_camel(v, member, ec2, key) for v in value]
        if not ec2:
            return items
        singular = key[:-1] if key.endswith("s") else key
        return {"items": [i if isinstance(i, dict) else {singular: i} for i in items]}
    return _scalar(value)


def _scalar(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%b %d, %Y, %I:%M:%S %p")
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    return value


def _s3_request(shape: StructureShape, params: dict[str, Any], region: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in params.items():
        member = shape.members.get(name)
        ser = member.serialization if member is not None else {}
        if name == "Bucket":
            out["bucketName"] = value
            out["Host"] = f"{value}.s3.{region}.amazonaws.com"
        elif name == "Key":
            out["key"] = value
        elif name == "Policy":
            out["bucketPolicy"] = _json_or_text(value)
        elif ser.get("location") == "header":
            if str(ser.get("name", "")).lower().startswith(("x-amz-acl", "x-amz-server-side", "x-amz-grant")):
                out[str(ser["name"])] = HIDDEN if "key" in str(ser["name"]).lower() else value
        elif ser.get("location") == "querystring":
            out[_lower(name)] = value
        elif member is not None and not isinstance(value, bytes | bytearray) and not ser.get("streaming"):
            out[str(ser.get("name", name))] = _xml(value, member)
    return out


def _xml(value: Any, shape: Shape) -> Any:
    """A body structure under its XML element names; a list becomes its repeated element."""
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            member = shape.members.get(k)
            if member is None:
                continue
            if isinstance(member, ListShape):
                elem = str(member.member.serialization.get("name", k))
                items = [_xml(i, member.member) for i in v]
                if member.serialization.get("flattened"):
                    out[str(member.serialization.get("name", elem))] = items
                else:
                    out[str(member.serialization.get("name", k))] = {elem: items}
            else:
                out[str(member.serialization.get("name", k))] = _xml(v, member)
        return out
    return _scalar(value)


def _json_or_text(value: Any) -> Any:
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value
