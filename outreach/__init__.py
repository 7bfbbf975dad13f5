"""Outreach: the field tool of a city's participatory-democracy team."""

__version__ = "0.1.0"
