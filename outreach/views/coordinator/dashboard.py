"""The coordinators' dashboard: coverage over a period, by zone, tool, outcome and week."""

from __future__ import annotations

from starlette.requests import Request

from ... import localtime, vocab
from ...coordinator import charts, choropleth, reach, stats
from ...coordinator.lists import FilterError
from ...i18n import get_locale
from ...i18n import gettext as _
from ...web import render, run_db
from .common import page_context, parse_filters, reference, today


def _period(params, ref: dict, day) -> stats.Period:
    """The period and zone asked for; raises FilterError. A missing bound takes the default's."""
    period = stats.default_period(day)
    f = parse_filters({k: params.get(k) for k in ("start", "end", "zone") if params.get(k) is not None}, ref)
    # One bound alone keeps the default length (eight weeks) on the other side.
    if f.end and not f.start:
        start, end = stats.default_period(f.end).start, f.end
    else:
        start = f.start or period.start
        end = f.end or (period.end if not f.start or f.start <= period.end else f.start)
    if start > end:
        raise FilterError({"end": _("The end date is before the start date.")})
    if (end - start).days > 3 * 366:
        raise FilterError({"start": _("Choose a period of at most three years.")})
    return stats.Period(start, end, f.zone)


def _dashboard_data(db, locale: str, params) -> dict:
    ref = reference(db, locale)
    errors: dict = {}
    day = today(localtime.zone_of(db))
    try:
        period = _period(params, ref, day)
    except FilterError as e:
        period, errors = stats.default_period(day), e.errors
    o = stats.overview(db, period)
    zones_shown = [period.zone] if period.zone else list(ref["zones"])
    by_zone = reach.by_zone(db, period, reach.tallied_by_zone(o))  # the tallies the overview just read
    return {
        "reach": reach.ranked(by_zone),
        "choropleth": choropleth.draw(choropleth.outlines(db, period.zone), {r.code: r.per_1000 for r in by_zone}),
        "ages": reach.age_shares(db, period, list(vocab.AGE_BANDS)),
        "ref": ref,
        "errors": errors,
        "o": o,
        "period": period,
        "tools_chart": charts.bars({t: v["presented"] for t, v in o["tools"].items()}, ref["tools"], order=ref["tools"]),
        "outcome_chart": charts.bars(o["outcome"], vocab.OUTCOMES.plain(), order=vocab.OUTCOMES),
        "interest_chart": charts.bars(o["interest"], vocab.INTERESTS.plain(), order=vocab.INTERESTS),
        "place_chart": charts.bars(o["place_type"], vocab.PLACE_TYPES.plain(), order=vocab.PLACE_TYPES),
        "report_chart": charts.bars(o["reports"], vocab.REPORT_STATES.plain(), order=vocab.REPORT_STATES),
        "zone_tool": charts.heat(o["zone_tool"], zones_shown, ref["tools"], dict(ref["zones"], **{"": _("No zone")}), ref["tools"],
                                 detail=o["zone_tool_tallied"]),
        "zone_week": charts.heat(o["zone_week"], zones_shown, o["weeks"], dict(ref["zones"], **{"": _("No zone")}),
                                 detail=o["zone_week_tallied"]),
        "upcoming": stats.upcoming_outings(db, day, period.zone),
    }


async def dashboard(request: Request):
    data = await run_db(request, _dashboard_data, get_locale(), request.query_params)
    period = data["period"]
    data["filter_params"] = {"start": period.start.isoformat(), "end": period.end.isoformat(), **({"zone": period.zone} if period.zone else {})}
    return render(request, "coordinator/dashboard.html", page_context(**data), status_code=400 if data["errors"] else 200)
