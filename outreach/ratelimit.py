"""In-memory sliding-window rate limits (one process, so memory is the right place)."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field


class RateLimiter:
    """At most ``limit`` hits per ``window`` seconds for each key."""

    def __init__(self, limit: int, window: float, clock=time.monotonic):
        self.limit = limit
        self.window = window
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _prune(self, key: str, now: float) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        return hits

    def check(self, key: str) -> int:
        """Seconds to wait before the next hit is allowed (0: allowed), without counting one."""
        with self._lock:
            now = self._clock()
            hits = self._prune(key, now)
            if len(hits) < self.limit:
                return 0
            return max(1, math.ceil(hits[0] + self.window - now))

    def hit(self, key: str) -> int:
        """Count one hit if allowed. Returns 0 when allowed, else the seconds to wait."""
        with self._lock:
            now = self._clock()
            hits = self._prune(key, now)
            if len(hits) >= self.limit:
                return max(1, math.ceil(hits[0] + self.window - now))
            hits.append(now)
            if len(self._hits) > 50_000:  # bound memory under a flood of distinct keys
                for k in [k for k, v in self._hits.items() if not v][:25_000]:
                    del self._hits[k]
            return 0

    def reset(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)


@dataclass
class Limits:
    """The app's rate limiters, built from settings."""

    login: RateLimiter
    sync: RateLimiter
    report: RateLimiter
    upload: RateLimiter
    extra: dict[str, RateLimiter] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, s) -> "Limits":
        return cls(
            login=RateLimiter(s.login_max_failures, s.login_window),
            sync=RateLimiter(s.sync_rate_limit, 60),
            report=RateLimiter(s.report_rate_limit, s.report_rate_window),
            upload=RateLimiter(s.upload_rate_limit, s.report_rate_window),
        )
