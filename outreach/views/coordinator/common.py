"""What every coordinator page shares: the reference labels, one way to read the filters from
the query string, the default period, and the labels every page template gets."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Mapping

from ... import localtime, refdata, vocab
from ...coordinator import lists, stats
from ...coordinator.lists import FilterError, Filters


def today(tz) -> date:
    """Today in the city (``request.app.state.settings.tz``, or ``localtime.zone_of(db)``)."""
    return localtime.today(tz)


def reference(db, locale: str) -> dict:
    """Codes and labels of zones, tools and categories, inactive ones included (old data uses them)."""
    ref = refdata.load(db, locale, include_inactive=True)
    return {
        "zones": {z["code"]: z["label"] for z in ref["zones"]},
        "tools": {t["code"]: t["label"] for t in ref["tools"]},
        "categories": {c["code"]: c["label"] for c in ref["categories"]},
    }


def parse_filters(params: Mapping, ref: dict) -> Filters:
    """The list filters of a query string, checked against the reference codes; raises FilterError."""
    return lists.parse_filters(params, {"zones": set(ref["zones"]), "tools": set(ref["tools"])})


def filters_or_errors(params: Mapping, ref: dict) -> tuple[Filters, dict]:
    """The filters and no errors, or no filters and the errors to show on the page."""
    try:
        return parse_filters(params, ref), {}
    except FilterError as e:
        return Filters(), e.errors


def within_default_period(f: Filters, tz) -> Filters:
    """Filters without any date get the dashboard's default period (the last eight weeks, local days)."""
    if f.start is None and f.end is None:
        period = stats.default_period(today(tz))
        return replace(f, start=period.start, end=period.end)
    return f


def page_context(ref: dict, **extra) -> dict:
    """The context every coordinator template gets: reference labels and the product's code labels."""
    return {
        "ref": ref,
        "L": {
            "outcomes": vocab.OUTCOMES.plain(),
            "age_bands": vocab.AGE_BANDS.plain(),
            "interests": vocab.INTERESTS.plain(),
            "place_types": vocab.PLACE_TYPES.plain(),
            "formats": vocab.OUTING_FORMATS.plain(),
            "outing_statuses": vocab.OUTING_STATUSES.plain(),
            "report_states": vocab.REPORT_STATES.plain(),
            "roles": vocab.ROLES.plain(),
            "channels": vocab.CHANNELS.plain(),
        },
        **extra,
    }
