"""``cloudsoc actions``: Response actions: plan (dry run), apply, revert."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from cloudsoc.cli.output import HomeOpt, OutOpt, Output, emit, emit_json
from cloudsoc.core.config import Home

if TYPE_CHECKING:
    from cloudsoc.respond.access import Responder
    from cloudsoc.respond.action import Action, ActionParams, ActionResult, Plan

actions_app = typer.Typer(help="Response actions: plan (dry run), apply, revert.", no_args_is_help=True)

NameArg = Annotated[str, typer.Argument(help="action name (see `cloudsoc actions list`)")]
ParamOpt = Annotated[
    list[str] | None, typer.Option("--param", "-p", help="KEY=VALUE parameter (repeatable; lists as JSON)")
]
ParamsJsonOpt = Annotated[str | None, typer.Option("--params-json", help="parameters as one JSON object")]
AccountOpt = Annotated[
    str | None, typer.Option("--account", help="target account id (or its name in the sandbox)")
]
SandboxOpt = Annotated[
    bool, typer.Option("--sandbox", help="act in the home's sandbox organization; fail when none runs")
]
YesOpt = Annotated[bool, typer.Option("--yes", help="change real AWS (the sandbox needs no confirmation)")]


@actions_app.command("list")
def actions_list(output: OutOpt = Output.table) -> None:
    """Every response action: what it does, whether it can be undone, the IAM permissions it needs."""
    from cloudsoc.respond.action import ACTIONS, ActionParams

    base = set(ActionParams.model_fields)
    rows: list[dict[str, Any]] = [
        {"name": name, "summary": cls.summary, "reversible": cls.reversible, "changes_aws": cls.changes_aws,
         "permissions": list(cls.permissions), "revert_permissions": list(cls.revert_permissions),
         "params": [f for f in cls.params_model.model_fields if f not in base]}
        for name, cls in ACTIONS.items()
    ]  # fmt: skip
    emit(output, rows, f"{len(rows)} actions", ["name", "params", "reversible", "changes AWS", "permissions", "summary"],
               [[r["name"], " ".join(r["params"]), r["reversible"], r["changes_aws"], " ".join(r["permissions"]),
                 r["summary"]] for r in rows])  # fmt: skip


@actions_app.command("plan")
def actions_plan(
    name: NameArg,
    param: ParamOpt = None,
    params_json: ParamsJsonOpt = None,
    account: AccountOpt = None,
    sandbox: SandboxOpt = False,
    home: HomeOpt = None,
    output: OutOpt = Output.table,
) -> None:
    """What the action would change (read only: the dry run)."""
    act = _prepare(Home.open(home), name, param, params_json, account, sandbox)
    plan = _aws(lambda: act.plan())
    if output is Output.json:
        emit_json(plan.model_dump(mode="json"))
        return
    _print_plan(plan)


@actions_app.command("apply")
def actions_apply(
    name: NameArg,
    param: ParamOpt = None,
    params_json: ParamsJsonOpt = None,
    account: AccountOpt = None,
    sandbox: SandboxOpt = False,
    yes: YesOpt = False,
    home: HomeOpt = None,
    output: OutOpt = Output.table,
) -> None:
    """Make the changes; the result is stored, and its id given to `revert`."""
    from cloudsoc.respond import record

    h = Home.open(home)
    act = _prepare(h, name, param, params_json, account, sandbox, confirm=(yes, f"apply {name}"))
    result = _run(act, lambda: act.apply())
    result_id = record.save(h, result)
    _emit_result(result, result_id, output)
    if result.status == "failed":
        raise typer.Exit(1)


@actions_app.command("revert")
def actions_revert(
    result_id: Annotated[str, typer.Argument(help="id of a stored apply result")],
    yes: YesOpt = False,
    home: HomeOpt = None,
    output: OutOpt = Output.table,
) -> None:
    """Undo a stored apply result: put back the state recorded before it."""
    from cloudsoc.respond import record

    h = Home.open(home)
    original = record.revertible(h, result_id)
    act = _build(h, original.action, original.params, confirm=(yes, f"revert {original.action}"))
    result = _run(act, lambda: act.revert(original))
    new_id = record.save(h, result, reverts=result_id)
    if result.status != "failed":
        record.mark_reverted(h, result_id, new_id)
    _emit_result(result, new_id, output, reverts=result_id)
    if result.status == "failed":
        raise typer.Exit(1)


# --- helpers ------------------------------------------------------------------------------------
def _prepare(home: Home, name: str, param: list[str] | None, params_json: str | None, account: str | None,
             sandbox: bool, confirm: tuple[bool, str] | None = None) -> Action[Any]:  # fmt: skip
    from cloudsoc.respond.action import ActionError

    raw: dict[str, Any] = {}
    if params_json:
        try:
            raw = json.loads(params_json)
        except ValueError as exc:
            raise ActionError(f"--params-json is not JSON: {exc}") from exc
        if not isinstance(raw, dict):
            raise ActionError("--params-json must be a JSON object")
    cls = _action_class(name)
    raw.update(_pairs(cls.params_model, param or []))
    if account:
        raw["account_id"] = account
    return _build(home, name, raw, sandbox=sandbox, confirm=confirm)


def _action_class(name: str) -> type[Action[Any]]:
    from cloudsoc.respond.action import ACTIONS, ActionError

    try:
        return ACTIONS.get(name)
    except KeyError as exc:
        raise ActionError(str(exc.args[0])) from exc


def _pairs(model: type[ActionParams], pairs: list[str]) -> dict[str, Any]:
    """KEY=VALUE options: a string field takes the text as is; others read JSON lists, objects,
    booleans and null, and leave the rest (numbers included) to the model's own conversion."""
    from cloudsoc.respond.action import ActionError

    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise ActionError(f"--param takes KEY=VALUE, not {pair!r}")
        field = model.model_fields.get(key)
        value: Any = text
        if field is None or field.annotation is not str:
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = text
            value = parsed if parsed is None or isinstance(parsed, list | dict | bool) else text
        out[key] = value
    return out


def _build(home: Home, name: str, raw: dict[str, Any], *, sandbox: bool = False,
           confirm: tuple[bool, str] | None = None) -> Action[Any]:  # fmt: skip
    """The action with its parameters and a session in the target account. ``confirm`` (--yes, what):
    refuse before reaching real AWS unless confirmed."""
    from pydantic import ValidationError

    from cloudsoc.respond.access import Responder
    from cloudsoc.respond.action import ActionError

    cls = _action_class(name)
    responder = Responder.for_home(home)
    if sandbox and not responder.sandbox:
        raise ActionError(f"--sandbox: no sandbox runs in {home.root}; start it with `cloudsoc sandbox up`")
    if confirm is not None:
        _confirmed(responder, *confirm)
    raw = dict(raw)
    if raw.get("account_id"):
        raw["account_id"] = _account_id(home, responder, str(raw["account_id"]))
    try:
        params = cls.params_model.model_validate(raw)
    except ValidationError as exc:
        raise ActionError(f"{name}: invalid parameters:\n{exc}") from exc
    session = _aws(lambda: responder.session(params.account_id, params.region))
    return cls(session, params)


def _account_id(home: Home, responder: Responder, account: str) -> str:
    from cloudsoc.respond.action import ActionError

    if responder.sandbox:
        from cloudsoc.aws.sandbox import Sandbox

        account = Sandbox(home.root).state().account(account)
    if not (account.isdigit() and len(account) == 12):
        raise ActionError(
            f"account {account!r} is not a 12-digit account id (names resolve in the sandbox only)"
        )
    return account


def _confirmed(responder: Responder, yes: bool, what: str) -> None:
    """Against real AWS a destructive action only plans unless the operator confirms."""
    from cloudsoc.respond.action import ActionError

    if not responder.sandbox and not yes:
        raise ActionError(
            f"{what} would change real AWS: review `cloudsoc actions plan` first, then add --yes"
        )


def _aws(call: Any) -> Any:
    """AWS refusals and transport failures as cloudsoc errors with the service's message."""
    from botocore.exceptions import BotoCoreError, ClientError

    from cloudsoc.respond.action import ActionError

    try:
        return call()
    except (ClientError, BotoCoreError) as exc:
        raise ActionError(f"AWS refused or failed: {exc}") from exc


def _run(act: Action[Any], call: Any) -> ActionResult:
    """Run apply or revert; a failure becomes a stored ``failed`` result rather than a lost one."""
    from cloudsoc.core.errors import CloudSOCError
    from cloudsoc.core.timeutil import utcnow
    from cloudsoc.respond.action import ActionResult

    started = utcnow().isoformat()
    try:
        result: ActionResult = _aws(call)
    except CloudSOCError as exc:
        return ActionResult(action=act.name, params=act.params.model_dump(mode="json"), status="failed",
                            error=str(exc), started_at=started, finished_at=utcnow().isoformat())  # fmt: skip
    return result


def _print_plan(plan: Plan) -> None:
    out = Console()
    out.print(f"[bold]{plan.action}[/] {json.dumps(plan.params)}")
    if not plan.changes:
        out.print("nothing to do: already done (or the target does not exist)")
    for change in plan.changes:
        out.print(f"  - {change}")


def _emit_result(result: ActionResult, result_id: str, output: Output, reverts: str | None = None) -> None:
    if output is Output.json:
        extra = {"reverts": reverts} if reverts else {}
        emit_json({"id": result_id, **extra, **result.model_dump(mode="json")})
        return
    out = Console()
    out.print(f"[bold]{result.action}[/]: {result.status}" + (f" ({result.error})" if result.error else ""))
    for change in result.changes:
        out.print(f"  - {change}")
    out.print(f"result id: {result_id}" + (f" (reverts {reverts})" if reverts else ""))
