"""The access log keeps no secret link: the token of a tracking, invitation or reset path is redacted.

Those tokens are the only key to a resident's report or to an account; a log line is read by
more people, and kept longer, than the links were ever meant for.
"""

from __future__ import annotations

import logging
import re

_SECRET_PATH = re.compile(r"^/(track|invite|reset)/[^/?#]+")


def redact_path(path: str) -> str:
    """The path with the token segment of a secret link replaced."""
    return _SECRET_PATH.sub(lambda m: f"/{m.group(1)}/[redacted]", path)


class RedactTokens(logging.Filter):
    """Rewrites uvicorn's access-log record (args: client, method, path, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = args[:2] + (redact_path(args[2]),) + args[3:]
        return True


def install() -> None:
    """Put the filter on uvicorn's access logger (once, however many apps are made)."""
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactTokens) for f in logger.filters):
        logger.addFilter(RedactTokens())
