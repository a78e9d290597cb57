"""The posture report as one self-contained HTML page: inline CSS and SVG, no scripts, no links out.

Every value from the document is escaped: resource names, tags and messages come from the audited
accounts and must never become markup.
"""

from __future__ import annotations

import math
from collections import defaultdict
from html import escape
from typing import Any

MAX_RESOURCES = 10  # failing resources listed per check of a requirement; the rest are counted
MAX_BARS = 40  # accounts in a chart: the lowest scores first beyond this
MAX_ERRORS = 200  # ERROR results listed; the CSV and JSON have them all
COLORS = {"PASS": "#2e7d32", "FAIL": "#c62828", "ERROR": "#ef6c00", "MANUAL": "#6d6d6d",
          "NOT_APPLICABLE": "#bdbdbd"}  # fmt: skip
CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.6em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}h3{margin-top:1.4em}
table{border-collapse:collapse;width:100%;margin:.5em 0}th,td{border:1px solid #ddd;padding:4px 6px;
text-align:left;vertical-align:top}th{background:#f4f4f4}code{font-size:.9em;word-break:break-all}
.meta td:first-child{width:12em;font-weight:600}.charts{display:flex;flex-wrap:wrap;gap:2em;align-items:flex-start}
.s-PASS{color:#2e7d32}.s-FAIL{color:#c62828}.s-ERROR{color:#ef6c00}.s-MANUAL{color:#6d6d6d}
ul.res{margin:0;padding-left:1.2em}.muted{color:#777}svg text{font-size:12px}
"""


def render(doc: dict[str, Any]) -> str:
    scan = doc["scan"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Compliance posture report {escape(scan['id'])}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>Compliance posture report</h1>{_meta(doc)}",
    ]
    names = {a["id"]: a["name"] for a in scan["accounts"]}
    for fw in doc["frameworks"]:
        parts.append(_framework(fw, doc["results"], names))
    parts.append(_errors(doc["results"]))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _meta(doc: dict[str, Any]) -> str:
    scan, inv = doc["scan"], doc["scan"]["inventory"]
    accounts = ", ".join(
        f"{a['name']} ({a['id']})" if a["name"] != a["id"] else a["id"] for a in scan["accounts"]
    )
    counts = " · ".join(
        f'<span class="s-{escape(s)}">{escape(s)} {n}</span>' for s, n in doc["counts"].items()
    )
    verified = "verified" if inv["verified"] else ("MISSING" if not inv["present"] else "DOES NOT MATCH")
    rows = [("Scan", scan["id"]), ("Source", f"{scan['source']} ({scan['trigger']})"),
            ("Started", scan["started_at"]), ("Finished", scan["finished_at"]), ("Accounts", accounts),
            ("Regions", ", ".join(scan["regions"])), ("Inventory", inv["path"] or "-"),
            ("Inventory SHA-256", f"{inv['sha256'] or '-'} ({verified})"),
            ("Generated", f"{doc['generated_at']} by {doc['product']['name']} {doc['product']['version']}")]  # fmt: skip
    body = "".join(f"<tr><td>{escape(k)}</td><td>{escape(str(v))}</td></tr>" for k, v in rows)
    return f'<table class="meta">{body}<tr><td>Results</td><td>{counts}</td></tr></table>'


def _framework(fw: dict[str, Any], results: list[dict[str, Any]], names: dict[str, str]) -> str:
    title = f"{fw['name']} {fw['version']}".strip()
    sections = {s or "(no section)": v for s, v in sorted(fw["sections"].items())}
    accounts = {names.get(a, a): v for a, v in sorted(fw["accounts"].items())}
    title_acc = "Score by account"
    if len(accounts) > MAX_BARS:  # a large organization: its weakest accounts
        worst = sorted(accounts.items(), key=lambda kv: (kv[1]["score"] is None, kv[1]["score"] or 0.0))
        accounts, title_acc = dict(worst[:MAX_BARS]), f"The {MAX_BARS} lowest of {len(accounts)} accounts"
    return "\n".join([
        f'<h2 id="fw-{escape(fw["framework"])}">{escape(title)}</h2>',
        '<div class="charts">',
        _donut(fw["score"], fw["counts"]),
        _bars("Score by section", sections),
        _bars(title_acc, accounts),
        "</div>",
        _failing(fw, results),
        _manual(fw),
    ])  # fmt: skip


def _donut(score: float | None, counts: dict[str, int]) -> str:
    """Requirements by status as a ring; the score in the middle."""
    r, width = 52.0, 18
    circ = 2 * math.pi * r
    total = sum(counts.values()) or 1
    arcs, offset = [], 0.0
    for status, color in COLORS.items():
        n = counts.get(status, 0)
        if not n:
            continue
        length = circ * n / total
        arcs.append(f'<circle r="{r}" cx="70" cy="70" fill="none" stroke="{color}" stroke-width="{width}" '
                    f'stroke-dasharray="{length:.2f} {circ - length:.2f}" stroke-dashoffset="{-offset:.2f}" '
                    f'transform="rotate(-90 70 70)"><title>{escape(status)}: {n}</title></circle>')  # fmt: skip
        offset += length
    label = "n/a" if score is None else f"{score:g}%"
    legend = "".join(f'<text x="150" y="{28 + 18 * i}" class="s-{escape(s)}" fill="{COLORS[s]}">{escape(s)} '
                     f"{counts.get(s, 0)}</text>" for i, s in enumerate(COLORS))  # fmt: skip
    return (f'<svg width="300" height="140" role="img" aria-label="score {escape(label)}">'
            f'<circle r="{r}" cx="70" cy="70" fill="none" stroke="#eee" stroke-width="{width}"/>{"".join(arcs)}'
            f'<text x="70" y="76" text-anchor="middle" style="font-size:20px;font-weight:600">{escape(label)}</text>'
            f"{legend}</svg>")  # fmt: skip


def _bars(title: str, rows: dict[str, dict[str, Any]]) -> str:
    """A horizontal bar per row: the share of its assessable requirements that pass."""
    if not rows:
        return ""
    label_w, bar_w, h = 190, 200, 20
    out = [f'<svg width="{label_w + bar_w + 60}" height="{24 + h * len(rows)}" role="img" '
           f'aria-label="{escape(title)}"><text x="0" y="14" style="font-weight:600">{escape(title)}</text>']  # fmt: skip
    for i, (name, v) in enumerate(rows.items()):
        y = 22 + i * h
        score = v["score"]
        fill = _color(score)
        short = name if len(name) <= 26 else name[:25] + "…"
        out.append(f'<text x="0" y="{y + 13}">{escape(short)}<title>{escape(name)}</title></text>'
                   f'<rect x="{label_w}" y="{y + 2}" width="{bar_w}" height="{h - 6}" fill="#eee"/>')  # fmt: skip
        if score is not None:
            out.append(f'<rect x="{label_w}" y="{y + 2}" width="{bar_w * score / 100:.1f}" height="{h - 6}" '
                       f'fill="{fill}"/>')  # fmt: skip
        out.append(
            f'<text x="{label_w + bar_w + 6}" y="{y + 13}">{"n/a" if score is None else f"{score:g}%"}</text>'
        )
    return "".join(out) + "</svg>"


def _color(score: float | None) -> str:
    return COLORS["PASS"] if (score or 0) >= 80 else COLORS["ERROR"] if (score or 0) >= 50 else COLORS["FAIL"]


def _failing(fw: dict[str, Any], results: list[dict[str, Any]]) -> str:
    failed: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        if r["status"] == "FAIL":
            failed[r["check"]].append(r)
    rows, listed = [], set()
    for req in fw["requirements"]:
        if req["status"] != "FAIL":
            continue
        items = []
        for c in (c for c in req["checks"] if failed.get(c)):
            items.append(_failed_check(fw["framework"], failed[c], c in listed))
            listed.add(c)
        rows.append(f"<tr><td>{escape(req['id'])}</td><td>{escape(req['title'])}</td>"
                    f'<td>{escape(req["section"])}</td><td><ul class="res">{"".join(items)}</ul></td></tr>')  # fmt: skip
    if not rows:
        return "<h3>Failing requirements</h3><p>None.</p>"
    head = "<tr><th>Requirement</th><th>Title</th><th>Section</th><th>Failing resources, by check</th></tr>"
    return f"<h3>Failing requirements ({len(rows)})</h3><table>{head}{''.join(rows)}</table>"


def _failed_check(fw_id: str, bad: list[dict[str, Any]], seen: bool) -> str:
    """One check's failing resources (the first ``MAX_RESOURCES``; the CSV has them all), or a link to
    where an earlier requirement of the framework listed them."""
    anchor = escape(f"{fw_id}--{bad[0]['check']}")
    head = f'<b>{escape(bad[0]["title"])}</b> <span class="muted">{escape(bad[0]["check"])}</span>'
    if seen:
        return f'<li>{head}: <a href="#{anchor}">{len(bad)} resources, listed above</a></li>'
    shown = ", ".join(f'<code title="{escape(r["message"])}">{escape(r["resource"])}</code> '
                      f'<span class="muted">({escape(r["account_name"])}, {escape(r["region"])})</span>'
                      for r in bad[:MAX_RESOURCES])  # fmt: skip
    more = (
        f' <span class="muted">and {len(bad) - MAX_RESOURCES} more</span>' if len(bad) > MAX_RESOURCES else ""
    )
    return f'<li id="{anchor}">{head}: {shown}{more}</li>'


def _manual(fw: dict[str, Any]) -> str:
    manual = [r for r in fw["requirements"] if r["status"] == "MANUAL"]
    if not manual:
        return ""
    rows = "".join(f"<tr><td>{escape(r['id'])}</td><td>{escape(r['title'])}</td><td>{escape(r['section'])}</td></tr>"
                   for r in manual)  # fmt: skip
    return (f"<h3>Assessed by hand ({len(manual)})</h3><p class=\"muted\">These requirements need a person's "
            f"judgement; their supporting results are in the JSON report.</p>"
            f"<table><tr><th>Requirement</th><th>Title</th><th>Section</th></tr>{rows}</table>")  # fmt: skip


def _errors(results: list[dict[str, Any]]) -> str:
    errors = [r for r in results if r["status"] == "ERROR"]
    if not errors:
        return "<h2>Could not evaluate</h2><p>Every check had the data it needed.</p>"
    rows = "".join(f"<tr><td>{escape(r['check'])}</td><td>{escape(r['account_name'])}</td><td>{escape(r['region'])}</td>"
                   f"<td><code>{escape(r['resource'])}</code></td>"
                   f"<td><code>{escape(str(r['evidence'].get('permission') or '-'))}</code></td>"
                   f"<td>{escape(r['message'])}</td></tr>" for r in errors[:MAX_ERRORS])  # fmt: skip
    if len(errors) > MAX_ERRORS:
        rows += (
            f'<tr><td colspan="6" class="muted">and {len(errors) - MAX_ERRORS} more (results.csv)</td></tr>'
        )

    return (f"<h2>Could not evaluate ({len(errors)})</h2><p class=\"muted\">Grant the missing permission and scan "
            "again; these results count as ERROR, never as PASS.</p><table><tr><th>Check</th><th>Account</th>"
            f"<th>Region</th><th>Resource</th><th>Missing permission</th><th>Message</th></tr>{rows}</table>")  # fmt: skip
