"""One rate-limit gate for every worker of a batch.

Left alone, each worker's SDK client retries its own 429s while the other workers keep sending,
and each of them collects a 429 before it learns to wait: the limit is hammered once per worker.
Here every request of every worker passes one gate (an SDK middleware, which runs once per HTTP
attempt inside the SDK's retry loop). The first 429 closes the gate for everyone until its
`retry-after`; the request is then sent again by the gate, so a rate limit does not use up the
SDK's `--max-retries`. With `rpm`, request starts are also spaced 60/rpm seconds apart, so the
limit is rarely reached at all.
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import anthropic

MAX_WAIT = 120.0
"""The longest a single 429 closes the gate, whatever its retry-after says."""


class BatchStopped(KeyboardInterrupt):
    """Raised at the gate once the batch is stopping: the loop ends the run as `stopped`, as for Ctrl-C."""


def retry_after(headers: Mapping[str, str], attempt: int) -> float:
    """Seconds to wait from `retry-after-ms` or `retry-after` (seconds or an HTTP date); else exponential."""
    millis = headers.get("retry-after-ms")
    value = headers.get("retry-after")
    try:
        if millis is not None:
            return min(max(float(millis) / 1000, 0.0), MAX_WAIT)
    except ValueError:
        pass
    if value is not None:
        try:
            seconds = float(value)
        except ValueError:
            parsed = email.utils.parsedate_tz(value)
            seconds = email.utils.mktime_tz(parsed) - time.time() if parsed else -1.0
        if seconds >= 0:
            return min(seconds, MAX_WAIT)
    return min(0.5 * 2.0**attempt, 30.0)


class RateGate:
    """Where every worker waits its turn: closed for all after a 429, and paced when `rpm` is given.

    `on_close(seconds)` is called when a 429 closes the gate (or keeps it closed longer), for a display.
    """

    def __init__(
        self,
        rpm: int | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        on_close: Callable[[float], None] | None = None,
    ) -> None:
        if rpm is not None and rpm < 1:
            raise ValueError("--rpm must be at least 1")
        self.interval = 60.0 / rpm if rpm else 0.0
        self._clock = clock
        self._sleep = sleep
        self._on_close = on_close
        self._lock = threading.Lock()
        self._closed_until = 0.0
        self._next_slot = 0.0
        self._closings = 0  # slots taken before the latest closing are void
        self._stopped = threading.Event()
        self.rate_limited = 0
        """429 responses seen by all workers."""

    def acquire(self) -> None:
        """Block until this worker may send: the gate is open and, when pacing, its time slot has come."""
        slot: float | None = None
        taken_after = -1
        while True:
            if self._stopped.is_set():
                raise BatchStopped("the batch is stopping")
            with self._lock:
                now = self._clock()
                if self._closed_until > now:
                    wait = self._closed_until - now
                elif slot is None or taken_after != self._closings:
                    slot, taken_after = max(now, self._next_slot), self._closings
                    self._next_slot = slot + self.interval
                    wait = slot - now
                else:
                    wait = slot - now
                if wait <= 0:
                    return
            self._sleep(min(wait, 0.5))  # short naps: a stop or a longer closure is noticed

    def close_for(self, seconds: float) -> None:
        """A 429 arrived: nobody sends for `seconds` (a later closing time is never shortened)."""
        with self._lock:
            self.rate_limited += 1
            until = self._clock() + seconds
            extended = until > self._closed_until
            if extended:  # pacing starts again when the gate opens, not after the slots given before
                self._closed_until = self._next_slot = until
                self._closings += 1
        if extended and self._on_close is not None:
            self._on_close(seconds)

    def stop(self) -> None:
        """Every worker's next request raises BatchStopped."""
        self._stopped.set()


class SharedBackoff(anthropic.Middleware):
    """The SDK middleware in front of every HTTP attempt of every worker: waits at the gate, reports 429s.

    A 429 is sent again here up to `patience` times (each after the gate reopens); past that it is
    handed to the SDK, whose own retries (each through this gate again) and errors take over.
    """

    def __init__(self, gate: RateGate, patience: int = 8) -> None:
        self.gate = gate
        self.patience = patience

    def handle(self, request: Any, call_next: Any) -> Any:
        attempt = 0
        while True:
            self.gate.acquire()
            response = call_next(request)
            http = response.http_response
            if http.status_code != 429:
                return response
            self.gate.close_for(retry_after(http.headers, attempt))
            if attempt >= self.patience:
                return response
            http.close()
            attempt += 1
