"""The canonical JSON of an entry's data and its hash: one text, one hash, for every kind and route."""

from __future__ import annotations

import hashlib
import json

import orjson

# Built once: json.dumps() with options builds an encoder per call, a third of its cost in sync.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_SORTED = orjson.OPT_SORT_KEYS
_SCALARS = frozenset({str, int, bool, type(None)})
_INF = float("inf")
_DEPTH = 16  # deeper data is never a valid entry: the reference encoder settles it


def canonical(data) -> str:
    """The one JSON text of a value: sorted keys, no spaces, UTF-8 kept as is (ValueError on NaN)."""
    return _ENCODER.encode(data)


def canonical_bytes(data, *, plain: bool = False) -> bytes:
    """``canonical(data)`` encoded as UTF-8, by the fast encoder whenever it writes the very same text.

    orjson and ``json`` agree on strings, integers up to 64 bits, sorted keys and floats from
    1e-4 up (and zero); below 1e-4 orjson writes ``0.00001`` where json writes ``1e-05``, and it
    writes NaN as null: such data takes ``canonical``. UnicodeEncodeError on a lone surrogate,
    ValueError on NaN or infinity, as ``canonical(data).encode()`` would raise. ``plain``: the
    caller has checked every number already (``plain_number``).
    """
    if plain or _plain(data, 0):
        try:
            return orjson.dumps(data, option=_SORTED)
        except orjson.JSONEncodeError:
            pass  # a lone surrogate, an integer beyond 64 bits: the reference encoder decides
    return canonical(data).encode("utf-8")


def plain_number(value) -> bool:
    """Whether a JSON scalar writes the same in orjson as in json: anything but a float below 1e-4, NaN, infinity."""
    if value.__class__ is float:
        return value == 0.0 or 1e-4 <= abs(value) < _INF
    return True


def _plain(value, depth: int) -> bool:
    """Whether orjson writes this value exactly as ``canonical`` does (as far as numbers go)."""
    cls = value.__class__
    if cls is dict:
        items = value.values()
    elif cls is list:
        items = value
    elif cls is float:
        return value == 0.0 or 1e-4 <= abs(value) < _INF
    else:
        return cls in _SCALARS
    if depth >= _DEPTH:
        return False
    for item in items:
        cls = item.__class__
        if cls in _SCALARS:
            continue
        if cls is float:  # (checked here: a position's three numbers, every replay of an encounter)
            if not (item == 0.0 or 1e-4 <= abs(item) < _INF):
                return False
        elif not _plain(item, depth + 1):
            return False
    return True


def content_hash(data) -> str:
    """sha256 (hex) of the canonical JSON of an entry's data."""
    return hashlib.sha256(canonical_bytes(data)).hexdigest()
