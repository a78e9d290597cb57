"""The CloudTrail trails that log an account, as the CloudTrail checks judge them.

An account is logged by its own trails and by organization trails, which live in the management
account: a member account sees them in its own listing or, where it does not, in the inventory of
the account that owns them. Each trail is read in its home region of its own account (its status and
event selectors are filed there under its ARN). Not a check: a module the CloudTrail checks share.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from cloudsoc.posture.check import CheckContext, Result

S3_OBJECT = "AWS::S3::Object"
ALL_BUCKETS = frozenset({"arn:aws:s3", "arn:aws:s3:::"})


@dataclass(frozen=True)
class Trail:
    arn: str
    info: dict[str, Any]  # the DescribeTrails entry

    @property
    def name(self) -> str:
        return str(self.info.get("Name") or self.arn.rsplit("/", 1)[-1])

    @property
    def owner(self) -> str:
        """The account that owns the trail (an organization trail: the management account)."""
        return self.arn.split(":")[4]

    @property
    def home(self) -> str:
        return str(self.info.get("HomeRegion") or self.arn.split(":")[3])

    @property
    def multi_region(self) -> bool:
        return bool(self.info.get("IsMultiRegionTrail"))

    def where(self) -> dict[str, str]:
        """Where the trail is changed: the evidence a fix is built from."""
        return {
            "trail": self.arn,
            "trail_name": self.name,
            "trail_account": self.owner,
            "trail_region": self.home,
        }


def trails(ctx: CheckContext) -> list[Trail]:
    """The trails logging ``ctx.account``: its own (every region's listing, each trail once), then the
    organization trails of the other accounts collected."""
    found: dict[str, Trail] = {}
    for region in ctx.regions:
        for info in (ctx.get("cloudtrail", "DescribeTrails", region=region) or {}).get("trailList", []):
            found.setdefault(str(info["TrailARN"]), Trail(str(info["TrailARN"]), info))
    for other in ctx.accounts:
        if other == ctx.account:
            continue
        for region in ctx.regions:
            # Another account's listing only adds its organization trails; a listing it failed to get
            # is that account's ERROR, not this one's.
            if "" not in ctx.inventory.keys(other, region, "cloudtrail", "DescribeTrails"):
                continue
            listing = ctx.get("cloudtrail", "DescribeTrails", region=region, account=other) or {}
            for info in listing.get("trailList", []):
                if info.get("IsOrganizationTrail") and str(info["TrailARN"]).split(":")[4] == other:
                    found.setdefault(str(info["TrailARN"]), Trail(str(info["TrailARN"]), info))
    return sorted(found.values(), key=lambda t: (t.owner != ctx.account, t.arn))


def readable(ctx: CheckContext, trail: Trail) -> bool:
    """Whether the inventory holds the account that owns the trail (its status can be read there)."""
    return trail.owner in ctx.inventory.accounts


def collected(ctx: CheckContext, trail: Trail) -> bool:
    """Whether the trail's status and selectors were collected (rather than failed or not reached)."""
    return all(trail.arn in ctx.inventory.keys(trail.owner, trail.home, "cloudtrail", op)
               for op in ("GetTrailStatus", "GetEventSelectors"))  # fmt: skip


def account_verdict(ctx: CheckContext, what: str,
                    tests: dict[str, Callable[[CheckContext, Trail], bool]]) -> Iterator[Result]:  # fmt: skip
    """One result for the account: PASS when a multi-region trail logging it passes every test (the
    trail named in the evidence); MANUAL when only trails of accounts outside the inventory could;
    FAIL listing each multi-region trail with its test results (the first one is where a fix acts)."""
    seen: list[dict[str, Any]] = []
    unknown: list[str] = []
    first: Trail | None = None
    for trail in data_first(ctx, [t for t in trails(ctx) if t.multi_region]):
        if not readable(ctx, trail):
            unknown.append(trail.arn)
            continue
        got: dict[str, Any] = {name: test(ctx, trail) for name, test in tests.items()}
        if all(got.values()):
            yield ctx.passed(
                ctx.account_arn, f"multi-region trail {trail.name} {what}", **trail.where(), **got
            )
            return
        seen.append({"trail": trail.arn, **got})
        first = first or trail
    if unknown:
        yield ctx.manual(ctx.account_arn, f"no trail of this inventory {what}; organization trails of accounts "
                         f"outside it might: {', '.join(unknown)}", trails=unknown)  # fmt: skip
        return
    where = first.where() if first else {}
    yield ctx.failed(ctx.account_arn, f"no multi-region trail {what}"
                     + (f" ({len(seen)} multi-region trail(s) checked)" if seen else " (there is none)"),
                     trails=seen, **where)  # fmt: skip


def data_first(ctx: CheckContext, found: list[Trail]) -> list[Trail]:
    """The trails whose data was collected first: a failed read of one trail (ERROR) must not hide
    another trail that settles the question."""
    return sorted(found, key=lambda t: not collected(ctx, t))


def status(ctx: CheckContext, trail: Trail) -> dict[str, Any]:
    """GetTrailStatus of the trail, read where it lives. Raises MissingData."""
    answer = ctx.get("cloudtrail", "GetTrailStatus", trail.arn, region=trail.home, account=trail.owner)
    return dict(answer or {})


def selectors(ctx: CheckContext, trail: Trail) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(basic, advanced) event selectors of the trail. Raises MissingData."""
    answer = (
        ctx.get("cloudtrail", "GetEventSelectors", trail.arn, region=trail.home, account=trail.owner) or {}
    )
    return list(answer.get("EventSelectors") or []), list(answer.get("AdvancedEventSelectors") or [])


def is_logging(ctx: CheckContext, trail: Trail) -> bool:
    return bool(status(ctx, trail).get("IsLogging"))


def records_management(ctx: CheckContext, trail: Trail) -> bool:
    """All management events, read and write, no event source left out. A trail without custom
    selectors records exactly that."""
    basic, advanced = selectors(ctx, trail)
    if basic:  # when both are reported, the basic selectors are the ones in force
        return any(s.get("IncludeManagementEvents") and s.get("ReadWriteType") == "All"
                   and not s.get("ExcludeManagementEventSources") for s in basic)  # fmt: skip
    if advanced:
        return any(_fields(s) == {"eventCategory": {"Equals": ["Management"]}} for s in advanced)
    return True


def records_s3_objects(ctx: CheckContext, trail: Trail, read_only: bool) -> bool:
    """Whether the trail records S3 object-level read (``read_only``) or write events of every bucket."""
    basic, advanced = selectors(ctx, trail)
    if basic:
        wanted = {"All", "ReadOnly" if read_only else "WriteOnly"}
        return any(s.get("ReadWriteType", "All") in wanted and _all_buckets_basic(s) for s in basic)
    return any(_all_buckets_advanced(s, read_only) for s in advanced)


def s3_object_logging(ctx: CheckContext, *, read_only: bool) -> Iterator[Result]:
    """The account's verdict on S3 object-level read (``read_only``) or write logging of every bucket
    by a multi-region trail that is logging."""
    kind = "read" if read_only else "write"
    return account_verdict(ctx, f"is logging S3 object-level {kind} events of every bucket",
                           {"is_logging": is_logging,
                            f"s3_object_{kind}s": lambda c, t: records_s3_objects(c, t, read_only)})  # fmt: skip


def _all_buckets_basic(selector: dict[str, Any]) -> bool:
    return any(r.get("Type") == S3_OBJECT and ALL_BUCKETS & set(r.get("Values", []))
               for r in selector.get("DataResources", []))  # fmt: skip


def _all_buckets_advanced(selector: dict[str, Any], read_only: bool) -> bool:
    """eventCategory Data, resources.type S3 objects, the wanted kind of access (or both), and nothing
    else narrowing it but an ARN prefix that takes in every bucket."""
    fields = _fields(selector)
    if fields.pop("eventCategory", None) != {"Equals": ["Data"]}:
        return False
    if fields.pop("resources.type", None) != {"Equals": [S3_OBJECT]}:
        return False
    access = fields.pop("readOnly", None)
    wanted, other = ("true", "false") if read_only else ("false", "true")
    if access not in (None, {"Equals": [wanted]}, {"NotEquals": [other]}):
        return False
    arn = fields.pop("resources.ARN", None)
    if arn is not None and not (set(arn) == {"StartsWith"} and set(arn["StartsWith"]) <= ALL_BUCKETS):
        return False
    return not fields


def _fields(selector: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """field -> its conditions (empty ones dropped), values compared as lower-case text for readOnly."""
    out: dict[str, dict[str, Any]] = {}
    for f in selector.get("FieldSelectors", []):
        conds = {k: [str(v).lower() if f.get("Field") == "readOnly" else v for v in vals]
                 for k, vals in f.items() if k != "Field" and vals}  # fmt: skip
        out[str(f.get("Field"))] = conds
    return out
