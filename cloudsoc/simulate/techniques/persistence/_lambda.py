"""Lambda fixtures shared by the Lambda persistence techniques: zips built in memory and a small
function, run by the landing zone's function role, that warm-ups create and reverts delete."""

from __future__ import annotations

import contextlib
import io
import zipfile

from cloudsoc.aws.session import client
from cloudsoc.simulate.technique import Ctx

HANDLER = "def handler(event, context):\n    return {'status': 'ok'}\n"


def zipped(files: dict[str, str]) -> bytes:
    """A zip archive holding ``files`` (path -> text); executables keep their mode bits."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for path, text in files.items():
            info = zipfile.ZipInfo(path)
            info.external_attr = 0o755 << 16
            z.writestr(info, text)
    return out.getvalue()


def create_function(ctx: Ctx, name: str) -> str:
    """Create the function as the account's administrator (not recorded); returns its ARN."""
    arn: str = client("lambda", session=ctx.admin()).create_function(
        FunctionName=name, Runtime="python3.12", Handler="handler.handler",
        Role=ctx.res["roles"]["order-processor-role"], Code={"ZipFile": zipped({"handler.py": HANDLER})},
    )["FunctionArn"]  # fmt: skip
    return arn


def delete_function(ctx: Ctx, name: str) -> None:
    lam = client("lambda", session=ctx.admin())
    with contextlib.suppress(lam.exceptions.ResourceNotFoundException):  # already gone
        lam.delete_function(FunctionName=name)
