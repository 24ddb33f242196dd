"""What a person watching a batch sees: one status line that keeps updating on a terminal, plain lines in a log.

The status line counts tasks done, running and failed, tokens and cost so far, and says when the
workers are held by a rate limit. Without a terminal (CI logs), each start, finish and rate limit
is one line instead. It all goes to stderr, so stdout stays clean for `--json`. Task names and
errors are shown terminal-safe (`terminal.safe`): only the display's own redraw sequences reach the terminal.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

from ..safety.terminal import safe
from .report import TaskReport, task_line


class BatchDisplay:
    """Receives the batch's events from any thread; `live` (default: the stream is a terminal) redraws in place."""

    def __init__(self, total: int, stream: TextIO | None = None, *, live: bool | None = None, quiet: bool = False):
        self.stream = stream or sys.stderr
        self.total = total
        self.live = (self.stream.isatty() if live is None else live) and not quiet
        self.quiet = quiet
        self.done = self.failed = self.running = self.tokens = 0
        self.cost = 0.0
        self._held_until = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        if self.live:
            self._ticker = threading.Thread(target=self._tick, name="batch-display", daemon=True)
            self._ticker.start()

    def started(self, index: int, name: str, job: str) -> None:
        with self._lock:
            self.running += 1
            self._say(f"start  {name} ({job}, task {index})")

    def finished(self, task: TaskReport) -> None:
        with self._lock:
            self.running = max(0, self.running - (task.status not in ("skipped", "not_run")))
            self.done += 1
            self.failed += task.status == "failed"
            self.tokens += task.tokens
            self.cost += task.cost_usd or 0.0
            verdict = {"succeeded": "ok", "failed": "FAILED", "skipped": "skipped", "not_run": "not run"}[task.status]
            line = f"[{self.done}/{self.total}] {verdict:<7} {task.name}: {task_line(task)}"
            self._say(line, keep=task.status == "failed")

    def rate_limited(self, seconds: float) -> None:
        with self._lock:
            self._held_until = max(self._held_until, time.monotonic() + seconds)
            self._say(f"rate limited: every worker waits {seconds:.1f}s")

    def close(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        with self._lock:
            if self.live:
                self.stream.write("\r\x1b[K")
                self.stream.flush()

    def status(self) -> str:
        held = self._held_until - time.monotonic()
        wait = f" · rate limited, resuming in {held:.0f}s" if held > 0 else ""
        return (
            f"batch: {self.done}/{self.total} done · {self.running} running · {self.failed} failed · "
            f"{self.tokens:,} tokens · ${self.cost:.4f}{wait}"
        )

    def _say(self, line: str, keep: bool = False) -> None:
        """A plain line in a log; on a terminal only lines worth keeping go above the status line."""
        if self.quiet:
            return
        line = safe(line, line=True)
        if not self.live:
            self.stream.write(line + "\n")
            self.stream.flush()
            return
        if keep:
            self.stream.write("\r\x1b[K" + line + "\n")
        self._draw()

    def _draw(self) -> None:
        self.stream.write("\r\x1b[K" + self.status())
        self.stream.flush()

    def _tick(self) -> None:
        while not self._stop.wait(1.0):
            with self._lock:
                self._draw()
