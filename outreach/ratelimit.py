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


class LoginThrottle:
    """Sign-in attempts, counted *before* the password is checked so that parallel guesses
    cannot slip past the limit; a successful sign-in gives its attempt back.

    Three windows, so that nobody can lock the real user out from elsewhere:
    per (email, address) the strict limit; per address, all emails, a wider one (one office
    NAT, many people); per email, all addresses, a slower one that bounds guessing spread
    over many addresses without letting five addresses lock an account.
    """

    def __init__(self, per_pair: int, per_address: int, window: float,
                 per_email: int, email_window: float, clock=time.monotonic):
        self._rules = {"pair": (per_pair, window), "ip": (per_address, window), "email": (per_email, email_window)}
        self._clock = clock
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _keys(self, email: str, address: str) -> list[tuple[str, str]]:
        email = email.strip().lower()
        return [("pair", f"{email}\n{address}"), ("ip", address), ("email", email)]

    def attempt(self, email: str, address: str) -> tuple[int, float | None]:
        """(0, ticket) when this attempt may check a password (it is counted now), else (seconds to wait, None)."""
        keys = self._keys(email, address)
        with self._lock:
            now = self._clock()
            wait = 0
            for key in keys:
                limit, window = self._rules[key[0]]
                hits = self._hits.setdefault(key, deque())
                while hits and hits[0] <= now - window:
                    hits.popleft()
                if len(hits) >= limit:
                    wait = max(wait, max(1, math.ceil(hits[0] + window - now)))
            if wait:
                return wait, None
            for key in keys:
                self._hits[key].append(now)
            if len(self._hits) > 150_000:  # bound memory under a flood of distinct keys
                for k in [k for k, v in self._hits.items() if not v][:75_000]:
                    del self._hits[k]
            return 0, now

    def succeeded(self, email: str, address: str, ticket: float) -> None:
        """The password was right: this attempt no longer counts as a failure."""
        with self._lock:
            for key in self._keys(email, address):
                hits = self._hits.get(key)
                if hits and ticket in hits:
                    hits.remove(ticket)


@dataclass
class Limits:
    """The app's rate limiters, built from settings."""

    login: RateLimiter
    sync: RateLimiter
    report: RateLimiter
    upload: RateLimiter
    sign_in: LoginThrottle
    nearby: RateLimiter
    extra: dict[str, RateLimiter] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, s) -> "Limits":
        return cls(
            login=RateLimiter(s.login_max_failures, s.login_window),
            sync=RateLimiter(s.sync_rate_limit, 60),
            report=RateLimiter(s.report_rate_limit, s.report_rate_window),
            upload=RateLimiter(s.upload_rate_limit, s.report_rate_window),
            sign_in=LoginThrottle(s.login_max_failures, s.login_address_max_failures, s.login_window,
                                  s.login_email_max_failures, s.login_email_window),
            nearby=RateLimiter(s.nearby_rate_limit, 60),
        )
