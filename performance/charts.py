"""Small hand-made SVG charts: the same markup on screen and, as a data URI, in the PDF pack.

Pure functions: no Django, no database. Every piece of text is escaped; colours are SVG
presentation attributes (no style attribute or sheet), so the chart looks the same inline on a
page with a strict Content Security Policy and inside an ``<img>`` in WeasyPrint.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from decimal import Decimal
from html import escape

from psis.formatting import in_unit

BAR = "#1d4f91"
BAR_LATEST = "#0b2a55"
TARGET = "#5c3b00"
AXIS = "#495057"
TEXT = "#212529"
FONT = "DejaVu Sans, Arial, sans-serif"

Point = tuple[str, Decimal | None]


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def describe(
    points: Sequence[Point], *, targets: Sequence[Decimal | None] = (), unit: str = ""
) -> str:
    """A plain-text reading of the chart, for ``<desc>`` and an image's alt text."""
    parts = [
        f"{label}: {'not reported' if value is None else in_unit(value, unit)}"
        for label, value in points
    ]
    text = "; ".join(parts) + "." if parts else "No figures yet."
    known = [t for t in targets if t is not None]
    if known:
        if len(set(known)) == 1:
            text += f" Target {in_unit(known[0], unit)}."
        else:
            text += f" Target from {in_unit(known[0], unit)} to {in_unit(known[-1], unit)}."
    return text


def history_chart(
    points: Sequence[Point],
    *,
    target: Decimal | Sequence[Decimal | None] | None = None,
    title: str,
    desc: str | None = None,
    width: int = 240,
    height: int = 90,
    unit: str = "",
    chart_id: str | None = None,
) -> str:
    """A bar chart of quarterly figures with the target as a dashed line, as SVG markup.

    ``points`` are (short label, value or None) oldest first; ``target`` is one figure or one
    per point (targets change by contract year). ``chart_id`` makes the ids of ``<title>`` and
    ``<desc>`` unique on a page (by default a hash of the content).
    """
    values = [v for _, v in points]
    if target is None or isinstance(target, Decimal | int):
        per_point = [None if target is None else Decimal(target)] * len(points)
    else:
        per_point = list(target)
        if len(per_point) != len(points):
            raise ValueError("Give one target per point, or a single target.")
    if desc is None:
        desc = describe(points, targets=per_point, unit=unit)
    if chart_id is None:
        digest = hashlib.sha1(f"{title}|{desc}".encode(), usedforsecurity=False).hexdigest()
        chart_id = f"chart-{digest[:10]}"
    chart_id = escape(chart_id, quote=True)

    small = max(8, round(height / 18))  # text grows with the chart
    left, right, top, bottom = 4, 4, small + 6, small + 8
    plot_w, plot_h = width - left - right, height - top - bottom
    known = [v for v in values if v is not None] + [t for t in per_point if t is not None]
    peak = max(known, default=Decimal(0))
    scale = float(peak) * 1.1 if peak > 0 else 1.0
    n = max(len(points), 1)
    slot = plot_w / n
    bar_w = max(slot * 0.6, 1.0)
    base_y = top + plot_h

    def y(value: Decimal) -> float:
        return base_y - float(value) / scale * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="history-chart" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
        f'<line x1="{left}" y1="{_num(base_y)}" x2="{width - right}" y2="{_num(base_y)}" '
        f'stroke="{AXIS}" stroke-width="1"/>',
    ]
    for i, (label, value) in enumerate(points):
        x = left + i * slot + (slot - bar_w) / 2
        centre = left + i * slot + slot / 2
        if value is None:
            parts.append(
                f'<text x="{_num(centre)}" y="{_num(base_y - 3)}" font-size="{small + 1}" '
                f'text-anchor="middle" fill="{AXIS}" font-family="{FONT}">–</text>'
            )
        else:
            top_y = y(value)
            fill = BAR_LATEST if i == len(points) - 1 else BAR
            parts.append(
                f'<rect x="{_num(x)}" y="{_num(top_y)}" width="{_num(bar_w)}" '
                f'height="{_num(max(base_y - top_y, 0.5))}" fill="{fill}"/>'
            )
        if n <= 12 or i % 2 == (n - 1) % 2:
            parts.append(
                f'<text x="{_num(centre)}" y="{height - 4}" font-size="{small}" '
                f'text-anchor="middle" fill="{TEXT}" font-family="{FONT}">{escape(label)}</text>'
            )
    # The target as a dashed step line, one segment per quarter (it may change by year).
    for i, t in enumerate(per_point):
        if t is None:
            continue
        x1, x2 = left + i * slot, left + (i + 1) * slot
        parts.append(
            f'<line x1="{_num(x1)}" y1="{_num(y(t))}" x2="{_num(x2)}" y2="{_num(y(t))}" '
            f'stroke="{TARGET}" stroke-width="1.5" stroke-dasharray="4 2"/>'
        )
    last_target = next((t for t in reversed(per_point) if t is not None), None)
    if last_target is not None:
        parts.append(
            f'<text x="{width - right}" y="{small + 2}" font-size="{small + 1}" text-anchor="end" '
            f'fill="{TARGET}" '
            f'font-family="{FONT}">target {escape(in_unit(last_target, unit))}</text>'
        )
    latest = next((v for v in reversed(values) if v is not None), None)
    if latest is not None:
        parts.append(
            f'<text x="{left}" y="{small + 2}" font-size="{small + 1}" fill="{TEXT}" '
            f'font-family="{FONT}">'
            f"latest {escape(in_unit(latest, unit))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def data_uri(svg: str) -> str:
    """For ``<img src="...">``, as the PDF pack embeds charts (faster than inline SVG)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
