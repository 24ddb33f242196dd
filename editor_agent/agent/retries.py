"""Asking the model for one turn's reply, again when the reply breaks off part-way.

The SDK retries a request that failed before its reply began (429, 5xx, a refused connection).
A reply that breaks off once streaming is the loop's to retry: nothing of it has run yet, so the
same request goes again, after 1, 2, 4, 8 s (never past the run's deadline).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .limits import timed_out
from .model import DeadlinePassed, Model, ReplyBrokeOff
from .outcome import Stop
from .progress import Progress
from .settings import RunSettings


class Retries:
    """Sends a turn's request to the model up to `stream_retries + 1` times; records each retry."""

    def __init__(self, settings: RunSettings, progress: Progress, record: Callable[..., None]) -> None:
        self.settings, self.progress, self.record = settings, progress, record

    def ask(
        self, model: Model, body: bytes, headers: dict[str, str], *, turn: int, deadline: float | None
    ) -> tuple[dict[str, Any], float]:
        """The reply, and the seconds its (last) attempt took; raises `Stop` on timeout or too many breaks."""
        last = self.settings.stream_retries
        for attempt in range(last + 1):
            started = time.monotonic()
            if deadline is not None and started >= deadline:
                raise timed_out(self.settings.max_seconds)
            self.progress.turn(turn)
            try:
                message = model.reply(body, headers, deadline=deadline, on_text=self.progress.text)
            except DeadlinePassed as passed:
                raise timed_out(self.settings.max_seconds, passed.during) from None
            except ReplyBrokeOff as broke:
                if attempt == last:
                    raise Stop("error", f"the reply broke off {attempt + 1} times: {broke.cause}") from None
                wait = min(2.0**attempt, 8.0)
                self.progress.retry(f"reply broke off ({type(broke.cause).__name__})", wait)
                self.record("retry", turn=turn, attempt=attempt + 1, reason=str(broke.cause))
                time.sleep(wait if deadline is None else max(0.0, min(wait, deadline - time.monotonic())))
                continue
            return message, time.monotonic() - started
        raise AssertionError("unreachable")
