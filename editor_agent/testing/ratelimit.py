"""A server-wide requests-per-minute limit, so a batch runner can be measured against one.

A sliding window over the last 60 seconds: a request is admitted while fewer than `per_minute` were
admitted in the window; otherwise it is told how long until the oldest one leaves the window, which is
what the server sends as `retry-after` (whole seconds, rounded up, as the API does).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

WINDOW = 60.0


@dataclass(frozen=True)
class Decision:
    admitted: bool
    remaining: int
    retry_after: int = 0
    reset_in: float = 0.0


class RateLimiter:
    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute < 1:
            raise ValueError("rate_limit_per_minute must be at least 1")
        self.per_minute = per_minute
        self._clock = clock
        self._admitted: deque[float] = deque()
        self._lock = threading.Lock()

    def admit(self) -> Decision:
        with self._lock:
            now = self._clock()
            while self._admitted and self._admitted[0] <= now - WINDOW:
                self._admitted.popleft()
            if len(self._admitted) < self.per_minute:
                self._admitted.append(now)
                reset_in = self._admitted[0] + WINDOW - now
                return Decision(True, self.per_minute - len(self._admitted), reset_in=reset_in)
            wait = self._admitted[0] + WINDOW - now
            return Decision(False, 0, retry_after=max(1, math.ceil(wait)), reset_in=wait)
