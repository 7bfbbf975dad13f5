"""Outreach: the field tool of a city's participatory-democracy team."""

__version__ = "0.1.0"


def _import_sqlite_utils_without_dataframes() -> None:
    """Import sqlite-utils with pandas and numpy hidden from it.

    sqlite-utils imports both, when installed, only to name their column types (this code base
    never stores either); that is some 40 MB of a server's memory budget of 150 (numpy comes with
    shapely, pandas with the test tools). Anything that imports them later gets them as usual.
    """
    import sys

    if "sqlite_utils" in sys.modules:
        return
    hidden = [name for name in ("pandas", "numpy") if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # `import name` raises ImportError
    try:
        import sqlite_utils  # noqa: F401
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


_import_sqlite_utils_without_dataframes()
