"""Detection coverage as an ATT&CK Navigator layer and as a heatmap picture (SVG)."""

from __future__ import annotations

from collections import defaultdict
from html import escape
from typing import Any

from cloudsoc.simulate.technique import TACTICS
from cloudsoc.simulate.validate import TechniqueResult

_GREEN, _RED, _AMBER = "#2e9d4f", "#d64545", "#e8a33d"


def navigator_layer(
    results: list[TechniqueResult], name: str = "cloudsoc detection coverage"
) -> dict[str, Any]:
    """One entry per ATT&CK technique: the share of simulated attacks using it that were detected."""
    per: dict[tuple[str, str], list[TechniqueResult]] = defaultdict(list)
    for r in results:
        for attack_id in r.attack:
            per[(attack_id, r.tactic)].append(r)
    techniques = []
    for (attack_id, tactic), rs in sorted(per.items()):
        caught = sum(r.detected for r in rs)
        score = round(100 * caught / len(rs))
        techniques.append({
            "techniqueID": attack_id, "tactic": tactic, "score": score, "enabled": True,
            "color": _GREEN if caught == len(rs) else _RED if caught == 0 else _AMBER,
            "comment": "; ".join(f"{r.technique}: {'detected by ' + ', '.join(r.fired) if r.detected else 'missed'}"
                                 for r in rs),
            "metadata": [{"name": r.technique, "value": "detected" if r.detected else "missed"} for r in rs],
        })  # fmt: skip
    return {
        "name": name, "domain": "enterprise-attack",
        "versions": {"attack": "16", "navigator": "5.1.0", "layer": "4.5"},
        "description": f"{sum(r.detected for r in results)} of {len(results)} simulated AWS attack techniques detected",
        "filters": {"platforms": ["IaaS"]},
        "gradient": {"colors": [_RED, _AMBER, _GREEN], "minValue": 0, "maxValue": 100},
        "legendItems": [{"label": "detected", "color": _GREEN}, {"label": "missed", "color": _RED}],
        "techniques": techniques,
    }  # fmt: skip


def heatmap_svg(results: list[TechniqueResult]) -> str:
    """A column per tactic, a cell per simulated technique: green detected (with its time to detect),
    red missed."""
    by_tactic: dict[str, list[TechniqueResult]] = defaultdict(list)
    for r in results:
        by_tactic[r.tactic].append(r)
    tactics = [t for t in TACTICS if t in by_tactic]
    cell_w, cell_h, head = 210, 34, 58
    rows = max((len(v) for v in by_tactic.values()), default=0)
    width, height = max(cell_w * len(tactics), 420), head + cell_h * rows + 30
    detected = sum(r.detected for r in results)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif">',
           f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
           f'<text x="8" y="20" font-size="15" font-weight="bold">cloudsoc coverage: {detected}/{len(results)} '
           'techniques detected</text>']  # fmt: skip
    for col, tactic in enumerate(tactics):
        x = col * cell_w
        out.append(
            f'<text x="{x + 6}" y="{head - 10}" font-size="12" font-weight="bold">{escape(tactic)}</text>'
        )
        for row, r in enumerate(sorted(by_tactic[tactic], key=lambda r: r.technique)):
            y = head + row * cell_h
            colour = _GREEN if r.detected else _RED
            label = r.technique.split(".", 2)[-1]
            detail = f"{r.seconds_to_detect:.1f}s" if r.seconds_to_detect is not None else "missed"
            out += [f'<rect x="{x + 3}" y="{y}" width="{cell_w - 6}" height="{cell_h - 4}" rx="3" fill="{colour}">'
                    f"<title>{escape(r.technique)}: {escape(', '.join(r.fired) or 'no alert')}</title></rect>",
                    f'<text x="{x + 8}" y="{y + 13}" font-size="10" fill="#fff">{escape(label)}</text>',
                    f'<text x="{x + 8}" y="{y + 25}" font-size="9" fill="#fff">{escape(detail)}</text>']  # fmt: skip
    out.append("</svg>")
    return "\n".join(out)
