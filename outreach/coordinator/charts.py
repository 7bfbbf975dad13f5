"""Geometry for server-rendered charts: horizontal SVG bar charts and heat tables.

This module only computes numbers; the templates (``_charts.html``) draw them, so every
label goes through Jinja's autoescaping. Each chart is paired with a data table for screen
readers, and nothing needs a script to appear.
"""

from __future__ import annotations

from typing import Iterable, Mapping

BAR_HEIGHT = 22
BAR_GAP = 8
LABEL_WIDTH = 290  # room for the longest French tool name ("Consultation sur un grand projet")
VALUE_WIDTH = 64
CHART_WIDTH = 640


def bars(values: Mapping[str, int], labels: Mapping[str, str], order: Iterable[str] | None = None) -> dict:
    """A horizontal bar chart: one row per code (all codes of ``order`` shown, zeros included)."""
    codes = list(order) if order is not None else sorted(values, key=lambda c: -values[c])
    for code in values:
        if code not in codes:
            codes.append(code)
    top = max([values.get(c, 0) for c in codes] + [0]) or 1
    span = CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH
    rows = []
    for i, code in enumerate(codes):
        value = values.get(code, 0)
        y = i * (BAR_HEIGHT + BAR_GAP)
        rows.append(
            {
                "code": code,
                "label": labels.get(code, code or "—"),
                "value": value,
                "x": LABEL_WIDTH,
                "y": y,
                "w": round(span * value / top, 1),
                "h": BAR_HEIGHT,
                "text_y": y + BAR_HEIGHT * 0.7,
                "zero": value == 0,
            }
        )
    total = sum(r["value"] for r in rows)
    for r in rows:
        r["share"] = round(100 * r["value"] / total) if total else 0
    return {
        "width": CHART_WIDTH,
        "height": max(len(rows) * (BAR_HEIGHT + BAR_GAP) - BAR_GAP, BAR_HEIGHT),
        "label_width": LABEL_WIDTH,
        "value_x": LABEL_WIDTH + span + 6,
        "rows": rows,
        "total": total,
    }


def level(value: int, top: int) -> int:
    """Heat level 0 (nobody reached: stands out) to 4 (the most reached cell)."""
    if value <= 0:
        return 0
    if top <= 0:
        return 1
    return 1 + min(3, int(4 * value / (top + 1)))


def heat(cells: Mapping[str, Mapping[str, int]], row_codes: Iterable[str], col_codes: Iterable[str],
         row_labels: Mapping[str, str], col_labels: Mapping[str, str] | None = None,
         detail: Mapping[str, Mapping[str, int]] | None = None) -> dict:
    """A row x column table of counts with a heat level per cell and totals; empty cells flagged.

    ``detail`` is the part of each count to show apart (the tallied people among those reached).
    """
    detail = detail or {}
    rows_out = []
    cols = list(col_codes)
    rows = list(row_codes)
    for code in cells:
        if code not in rows:
            rows.append(code)
    top = max([v for r in cells.values() for v in r.values()] + [0])
    col_totals = {c: 0 for c in cols}
    gaps = 0
    for r in rows:
        line = cells.get(r, {})
        out = []
        for c in cols:
            v = line.get(c, 0)
            col_totals[c] += v
            gaps += v == 0
            out.append({"code": c, "value": v, "level": level(v, top), "detail": detail.get(r, {}).get(c, 0)})
        rows_out.append({"code": r, "label": row_labels.get(r, r or "—"), "cells": out, "total": sum(line.get(c, 0) for c in cols)})
    col_labels = col_labels or {}
    return {
        "cols": [{"code": c, "label": col_labels.get(c, c), "total": col_totals[c]} for c in cols],
        "rows": rows_out,
        "gaps": gaps,
        "total": sum(col_totals.values()),
    }
