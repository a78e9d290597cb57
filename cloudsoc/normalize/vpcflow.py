"""VPC Flow Logs text records: the default version 2 format, or any field list named by a header.

Lines are split by Arrow's CSV reader (space separated, no quoting) in streamed batches; the hot
columns are typed with Arrow compute. ``-`` is null in the hot columns and stays ``-`` in the raw
record, which is a JSON object of field name -> value text so rules can address any field.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as csv

from cloudsoc.core.errors import InputError
from cloudsoc.normalize.formats import PARSERS
from cloudsoc.normalize.schema import SCHEMAS, TIME, Parsed, RecordIssue

DEFAULT_FIELDS = (
    *("version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport", "dstport"),
    *("protocol", "packets", "bytes", "start", "end", "action", "log-status"),
)
# What makes two records the same flow record (the dedup identity).
IDENTITY = (
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "start",
    "end",
    "action",
)
_KNOWN = {*DEFAULT_FIELDS, "vpc-id", "subnet-id", "instance-id", "tcp-flags", "type", "pkt-srcaddr"}
_NAME = re.compile(r"[a-z][a-z0-9-]*\Z")
_NEEDS_ESCAPE = r'[\x00-\x1f"\\]'
# Every byte but those a value would need escaped in JSON (line ends cannot be in a value).
_SAFE = bytes(b for b in range(256) if (b >= 0x20 or b in b"\r\n") and b not in b'"\\')
_BLOCK = 4 << 20
# field name -> (column, type) of the typed columns besides the times.
_TYPED = {
    "account-id": ("account_id", pa.string()),
    "region": ("region", pa.string()),
    "interface-id": ("interface_id", pa.string()),
    "srcaddr": ("src_addr", pa.string()),
    "dstaddr": ("dst_addr", pa.string()),
    "srcport": ("src_port", pa.int32()),
    "dstport": ("dst_port", pa.int32()),
    "protocol": ("protocol", pa.int32()),
    "packets": ("packets", pa.int64()),
    "bytes": ("bytes", pa.int64()),
    "action": ("action", pa.string()),
    "log-status": ("log_status", pa.string()),
}
_DIGITS = {pa.int32(): r"^\d{1,9}$", pa.int64(): r"^\d{1,18}$"}


@dataclass
class _State:
    """What the batches of one file have in common."""

    names: list[str]
    plain: bool  # no value anywhere needs JSON escaping
    rows: int = 0  # table rows read so far, blank lines included
    # (line, text) of the lines with a wrong field count: Arrow skips them, they have no row.
    skipped: list[tuple[int, str]] = field(default_factory=list)
    bad: list[tuple[int, str, str]] = field(default_factory=list)  # (row, reason, raw)
    # The JSON text between the values, repeated for a batch: joining only arrays is much faster.
    glue: list[pa.Array] = field(default_factory=list)

    def glue_for(self, rows: int) -> list[pa.Array]:
        if not self.glue or len(self.glue[0]) < rows:
            texts = [('","' if i else '{"') + name + '":"' for i, name in enumerate(self.names)]
            self.glue = [pa.repeat(t, rows) for t in [*texts, '"}']]
        return [g.slice(0, rows) for g in self.glue]


def _header(line: bytes) -> list[str] | None:
    names = line.decode("utf-8", "replace").split()
    if names and all(_NAME.match(n) for n in names) and _KNOWN.intersection(names):
        return names
    return None


def _layout(data: bytes) -> tuple[list[str], int]:
    """The field names and the offset where the records start."""
    start = len(data) - len(data.lstrip())
    end = data.find(b"\n", start)
    end = len(data) if end < 0 else end + 1
    names = _header(data[start:end])
    if names is None:
        return list(DEFAULT_FIELDS), start
    if "start" not in names:
        raise InputError("flow log header has no 'start' field", offset=start)
    if len(set(names)) != len(names):
        raise InputError("flow log header names a field twice", offset=start)
    return names, end


def _clean_utf8(data: bytes, offset: int) -> tuple[bytes | memoryview, list[RecordIssue]]:
    """The records with every line that is not UTF-8 blanked (keeping the line count), and issues."""
    if data.isascii():
        return memoryview(data)[offset:], []
    body = data[offset:]
    try:
        body.decode("utf-8")
        return body, []
    except UnicodeDecodeError:
        pass
    lines = body.splitlines()  # the same line ends (\n, \r, \r\n) as Arrow's CSV reader
    issues = []
    for i, line in enumerate(lines):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            issues.append(RecordIssue(i, f"record {i}: not valid UTF-8", line.decode("utf-8", "replace")))
            lines[i] = b""
    return b"\n".join(lines), issues


def _batches(body: bytes | memoryview, state: _State) -> csv.CSVStreamingReader:
    def wrong_count(row: csv.InvalidRow) -> str:
        state.skipped.append((row.number - 1, row.text))  # number counts lines of body from 1
        return "skip"

    names = state.names
    return csv.open_csv(
        pa.BufferReader(pa.py_buffer(body)),
        read_options=csv.ReadOptions(column_names=names, use_threads=False, block_size=_BLOCK),
        parse_options=csv.ParseOptions(
            delimiter=" ",
            quote_char=False,
            escape_char=False,
            double_quote=False,
            ignore_empty_lines=False,  # blank lines keep their place, so rows map to lines
            invalid_row_handler=wrong_count,
        ),
        convert_options=csv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), null_values=[], strings_can_be_null=False
        ),
    )


def _null_dash(col: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(col, "-"), pa.scalar(None, pa.string()), col)


def _typed(col: pa.Array, typ: pa.DataType) -> pa.Array:
    col = _null_dash(col)
    if typ == pa.string():
        return col
    try:
        return col.cast(typ)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        # Values that are not plain numbers in range become null; only a bad start drops a record.
        return pc.if_else(
            pc.match_substring_regex(col, _DIGITS[typ]), col, pa.scalar(None, pa.string())
        ).cast(typ)


def _seconds(col: pa.Array) -> pa.Array:
    return pc.multiply(_typed(col, pa.int64()), 1_000_000).cast(TIME)


def _raw(cols: dict[str, pa.Array], state: _State) -> pa.Array:
    """orjson's text of {name: value}, joined by Arrow; orjson itself only where escaping is needed."""
    glue = state.glue_for(len(cols["start"]))
    parts = [a for pair in zip(glue, cols.values(), strict=False) for a in pair]  # glue has one more
    raw = pc.binary_join_element_wise(*parts, glue[-1], "")
    if state.plain:
        return raw
    odd = functools.reduce(pc.or_, [pc.match_substring_regex(c, _NEEDS_ESCAPE) for c in cols.values()])
    if not pc.any(odd).as_py():
        return raw
    where = pc.indices_nonzero(odd)
    rows = zip(*[c.take(where).to_pylist() for c in cols.values()], strict=True)
    fixed = [orjson.dumps(dict(zip(cols, r, strict=True))).decode() for r in rows]
    return pc.replace_with_mask(raw, odd, pa.array(fixed, pa.string()))


def _event_ids(cols: dict[str, pa.Array]) -> list[str]:
    # Fields missing from a custom format count as "-", so the identity is the same in any format.
    key = pc.binary_join_element_wise(*[cols.get(n, "-") for n in IDENTITY], "|").cast(pa.binary())
    return [hashlib.sha256(k).hexdigest() for k in key.to_pylist()]


def _drop_bad(batch: pa.RecordBatch, state: _State) -> pa.RecordBatch:
    """The batch without blank lines and records whose start is not unix seconds (kept as issues)."""
    good = pc.match_substring_regex(batch.column("start"), r"^\d{1,12}$")
    if pc.all(good).as_py():
        return batch
    lines = pc.binary_join_element_wise(*batch.columns, " ")  # the line as read: one space apart
    # Blank lines, and the header again where files were concatenated, are dropped silently.
    quiet = pa.array([" " * (len(state.names) - 1), " ".join(state.names)])
    bad = pc.and_not(pc.invert(good), pc.is_in(lines, value_set=quiet))
    lines = lines.filter(bad).to_pylist()
    starts = batch.column("start").filter(bad).to_pylist()
    for row, line, value in zip(pc.indices_nonzero(bad).to_pylist(), lines, starts, strict=True):
        state.bad.append((state.rows + row, f"start {value!r} is not unix seconds", line))
    return batch.filter(good)


def _table(batch: pa.RecordBatch, state: _State) -> pa.Table:
    n = batch.num_rows
    batch = _drop_bad(batch, state)
    state.rows += n
    cols = dict(zip(state.names, batch.columns, strict=True))
    typed = {
        col: _typed(cols[name], typ) if name in cols else pa.nulls(batch.num_rows, typ)
        for name, (col, typ) in _TYPED.items()
    }
    start = _seconds(cols["start"])
    end = _seconds(cols["end"]) if "end" in cols else pa.nulls(batch.num_rows, TIME)
    out = {"event_time": start, "event_id": _event_ids(cols), **typed, "start_time": start, "end_time": end}
    out["raw"] = _raw(cols, state)
    return pa.table(out, schema=SCHEMAS["vpcflow"])


def _lines(rows: list[int], skipped: list[int]) -> list[int]:
    """The lines of table rows (both sorted): a line with a wrong field count has no row."""
    out, j = [], 0
    for row in rows:
        while j < len(skipped) and skipped[j] <= row + j:
            j += 1
        out.append(row + j)
    return out


@PARSERS.register("vpcflow")
def parse(data: bytes, kind: str = "vpcflow") -> Parsed:
    names, offset = _layout(data)
    body, issues = _clean_utf8(data, offset)
    state = _State(names, plain=not data.translate(None, _SAFE))
    tables = [_table(b, state) for b in _batches(body, state)] if len(body) else []
    table = pa.concat_tables(tables) if tables else SCHEMAS["vpcflow"].empty_table()
    skipped = sorted(line for line, _ in state.skipped)
    for line, text in state.skipped:
        issues.append(RecordIssue(line, f"record {line}: {len(names)} fields expected", text))
    lines = _lines([row for row, _, _ in state.bad], skipped)
    for line, (_, reason, text) in zip(lines, state.bad, strict=True):
        issues.append(RecordIssue(line, f"record {line}: {reason}", text))
    issues.sort(key=lambda issue: issue.index)
    return Parsed("vpcflow", table, issues)
