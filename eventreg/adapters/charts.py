"""Server-rendered SVG charts: plain numbers and labels in, an accessible ``<svg>`` string out.

No JavaScript, no CDN. Each chart has ``role="img"``, an ``aria-label``, a ``<title>`` and a
``<desc>`` (the page puts the numbers in a table right under it), a ``viewBox`` so it scales to
the width it is given, the app's Japanese font stack, and the Okabe–Ito colour-blind-safe
palette. Labels that would not fit are shortened with "…" (the full text is in the table).
Every text is XML-escaped here; callers pass plain str.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from html import escape

FONT = ('system-ui, -apple-system, "Hiragino Sans", "Noto Sans JP", "Noto Sans CJK JP", "IPAexGothic", '
        '"Yu Gothic", sans-serif')
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#999999", "#F0E442"]
INK, MUTED, GRID = "#1d232b", "#5b6572", "#d9dee4"
FONT_SIZE = 12


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """About how wide ``text`` is: wide (CJK) characters one em, others 0.6 em."""
    return sum(size if unicodedata.east_asian_width(ch) in "WF" else size * 0.6 for ch in text)


def fit(text: str, width: float, size: float = FONT_SIZE) -> str:
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def wrap(text: str, width: float, lines: int = 2, size: float = FONT_SIZE) -> list[str]:
    """``text`` over at most ``lines`` lines of ``width``; the last one shortened with "…"."""
    out, current = [], ""
    for ch in text:
        if text_width(current + ch, size) > width and current:
            out.append(current)
            current = ch.lstrip()
        else:
            current += ch
    out.append(current)
    if len(out) > lines:
        out = out[:lines - 1] + [fit("".join(out[lines - 1:]), width, size)]
    return out


def _nice_max(value: float) -> int:
    if value <= 5:
        return 5
    for power in range(0, 7):
        for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8):
            top = step * 10 ** power
            if top >= value:
                return int(top) if top == int(top) else int(top) + 1
    return int(value)


def _ticks(top: int, count: int = 5) -> list[int]:
    step = max(1, top // count)
    return list(range(0, top + 1, step))


def _open(width: int, height: int, title: str, desc: str, uid: str) -> list[str]:
    return [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
            f'aria-labelledby="{uid}-t {uid}-d" class="chart" '
            f'font-family="{escape(FONT)}" font-size="{FONT_SIZE}" fill="{INK}">',
            f'<title id="{uid}-t">{escape(title)}</title><desc id="{uid}-d">{escape(desc)}</desc>']


def _text(x, y, value, anchor="start", size=FONT_SIZE, fill=INK, weight="", halo=False) -> str:
    w = f' font-weight="{weight}"' if weight else ""
    if halo:  # readable over lines and bars
        w += ' stroke="#fff" stroke-width="3" paint-order="stroke" stroke-linejoin="round"'
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{fill}"{w}>'
            f'{escape(str(value))}</text>')


def _legend(items: Sequence[tuple[str, str, str]], x: float, y: float, width: float) -> tuple[list[str], float]:
    """(colour, label, kind "box"|"line"|"dash") items wrapped over lines; returns parts and height."""
    parts, cx, cy = [], x, y
    for colour, label, kind in items:
        w = 18 + text_width(label) + 14
        if cx + w > x + width and cx > x:
            cx, cy = x, cy + 18
        if kind == "box":
            parts.append(f'<rect x="{cx:.1f}" y="{cy - 9:.1f}" width="12" height="12" fill="{colour}"/>')
        else:
            dash = ' stroke-dasharray="5 3"' if kind == "dash" else ""
            parts.append(f'<line x1="{cx:.1f}" y1="{cy - 3:.1f}" x2="{cx + 14:.1f}" y2="{cy - 3:.1f}" '
                         f'stroke="{colour}" stroke-width="3"{dash}/>')
        parts.append(_text(cx + 18, cy + 1, label))
        cx += w
    return parts, cy - y + 18


def line_chart(*, uid: str, title: str, desc: str, x_labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]],
               hlines: Sequence[tuple[float, str]] = (), markers: Sequence[tuple[float, str]] = (),
               width: int = 720, height: int = 300, step: bool = True, bars: Sequence[float] | None = None,
               bars_label: str = "", edge_labels: bool = False) -> str:
    """Cumulative series over equally spaced points (days, time bins) as step lines; ``hlines``:
    horizontal reference lines (capacity); ``markers``: vertical dashed lines at a fractional
    point index (the deadline, doors, start); ``bars``: per-point columns behind the lines;
    ``edge_labels``: x labels at the start of their point (time bins) rather than its middle (days)."""
    n = max(len(x_labels), 1)
    top_value = max([max(v, default=0) for _, v in series] + [v for v, _ in hlines] + list(bars or []) + [1])
    top = _nice_max(top_value * 1.05)
    left, right = 8 + text_width(str(top)) + 6, 12
    legend_items = [(PALETTE[i], label, "line") for i, (label, _) in enumerate(series)]
    legend_items += [(MUTED, label, "dash") for _, label in hlines]
    if bars is not None:
        legend_items.append(("#b9d7ea", bars_label, "box"))
    legend, legend_h = _legend(legend_items, left, 16, width - left - right)
    plot_top, plot_bottom = 16 + legend_h + 18, height - 40
    plot_w, plot_h = width - left - right, plot_bottom - (16 + legend_h + 18)
    parts = _open(width, height, title, desc, uid) + legend

    def x_of(i: float) -> float:
        return left + (i + 0.5) * plot_w / n if not step else left + i * plot_w / n

    def y_of(v: float) -> float:
        return plot_bottom - v / top * plot_h

    for t in _ticks(top):
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y_of(t):.1f}" y2="{y_of(t):.1f}" stroke="{GRID}"/>')
        parts.append(_text(left - 6, y_of(t) + 4, t, "end", 11, MUTED))
    if bars is not None:
        bw = plot_w / n
        for i, v in enumerate(bars):
            if v:
                parts.append(f'<rect x="{left + i * bw + bw * 0.1:.1f}" y="{y_of(v):.1f}" width="{bw * 0.8:.1f}" '
                             f'height="{plot_bottom - y_of(v):.1f}" fill="#b9d7ea"/>')
    # x labels: as many as fit without overlapping
    label_w = max((text_width(lbl, 11) for lbl in x_labels), default=0) + 10
    every = max(1, int(-(-label_w * n // plot_w)))
    for i, lbl in enumerate(x_labels):
        if i % every == 0:
            cx = left + (i + (0 if edge_labels else 0.5)) * plot_w / n  # a time bin starts at its label
            parts.append(f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{plot_bottom}" y2="{plot_bottom + 4}" stroke="{MUTED}"/>')
            parts.append(_text(cx, plot_bottom + 17, lbl, "middle", 11, MUTED))
    for value, label in hlines:
        y = y_of(value)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{MUTED}" '
                     f'stroke-width="2" stroke-dasharray="6 4"/>')
        parts.append(_text(width - right - 2, y - 5, fit(f"{label} {value:g}", plot_w / 2), "end", 11, MUTED, halo=True))
    for index, (position, label) in enumerate(markers):
        x = left + position * plot_w / n
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{plot_top - 4}" y2="{plot_bottom}" stroke="{INK}" '
                     f'stroke-width="1.5" stroke-dasharray="3 3"/>')
        anchor = "end" if x > left + plot_w * 0.6 else "start"
        parts.append(_text(x + (-4 if anchor == "end" else 4), plot_top + 10 + index * 14,
                           fit(label, plot_w * 0.45, 11), anchor, 11, INK, "700", halo=True))
    for i, (_label, values) in enumerate(series):
        points = []
        for j, v in enumerate(values):
            if step:
                points += [(left + j * plot_w / n, y_of(v)), (left + (j + 1) * plot_w / n, y_of(v))]
            else:
                points.append((x_of(j), y_of(v)))
        if points:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{PALETTE[i % len(PALETTE)]}" '
                         f'stroke-width="2.5" stroke-linejoin="round"/>')
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{plot_bottom}" y2="{plot_bottom}" stroke="{MUTED}"/>')
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(*, uid: str, title: str, desc: str, categories: Sequence[str],
              series: Sequence[tuple[str, Sequence[float]]], stacked: bool = True, width: int = 720,
              marks: Sequence[float] | None = None, marks_label: str = "") -> str:
    """Horizontal bars, one per category, with the category's label above its bar (long Japanese
    titles stay readable on a phone); several series stack (or sit side by side with
    ``stacked=False``); ``marks``: a per-category tick (capacity)."""
    left, right = 8, 44
    plot_w = width - left - right
    legend_items = [(PALETTE[i % len(PALETTE)], label, "box") for i, (label, _) in enumerate(series)]
    if marks is not None:
        legend_items.append((INK, marks_label, "line"))
    legend, legend_h = _legend(legend_items, left, 16, plot_w) if len(legend_items) > 1 else ([], 0)
    totals = [sum(v[i] for _, v in series) if stacked else max((v[i] for _, v in series), default=0)
              for i in range(len(categories))]
    top = _nice_max(max(totals + list(marks or []) + [1]))
    bar_h = 18 if stacked else 12
    bars_h = bar_h if stacked else bar_h * len(series) + 2 * (len(series) - 1)
    labels = [wrap(name, plot_w - 10) for name in categories]
    y0 = 16 + legend_h + 4
    height = int(y0 + sum(16 * len(lines) + 2 + bars_h + 12 for lines in labels) + 8)
    parts = _open(width, height, title, desc, uid) + legend
    scale = plot_w / top
    y = y0
    for i, lines in enumerate(labels):
        for k, line in enumerate(lines):
            parts.append(_text(left, y + 13 + 16 * k, line))
        x = left
        bar_y = y + 16 * len(lines) + 2
        by = bar_y
        for j, (_, values) in enumerate(series):
            v = values[i]
            w = v * scale
            if not stacked:
                x, by = left, bar_y + j * (bar_h + 2)
            if w > 0:
                parts.append(f'<rect x="{x:.1f}" y="{by:.1f}" width="{w:.1f}" height="{bar_h}" '
                             f'fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(f"{series[j][0]}: {v:g}")}</title></rect>')
            if stacked:
                x += w
            else:
                parts.append(_text(left + w + 4, by + bar_h - 2, f"{v:g}", "start", 11, INK))
        if marks is not None:
            mx = left + marks[i] * scale
            parts.append(f'<line x1="{mx:.1f}" x2="{mx:.1f}" y1="{bar_y - 4}" y2="{bar_y + bars_h + 4}" stroke="{INK}" stroke-width="2.5"/>')
        if stacked:
            parts.append(_text(left + totals[i] * scale + 4, bar_y + bar_h - 4, f"{totals[i]:g}", "start", 11, INK, "700"))
        y = bar_y + bars_h + 12
    parts.append("</svg>")
    return "".join(parts)
