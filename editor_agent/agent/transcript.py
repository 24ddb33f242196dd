"""A run's JSON Lines record, written as it goes: enough to audit, replay and resume the run.

Events: `start` (settings), `message` (every message appended to the conversation, in order),
`request` (request parameters without messages or credentials), `response` (stop reason,
usage, timing), `tool_call` (input, result, timing) and `end` (status and totals).

The file is created 0600 (it holds the user's code) and every event passes `redact` on its way in.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from ..safety.private import private_dirs, private_open
from ..safety.redact import redact, redact_data


class Transcript:
    """Append-only JSON Lines file; each event is flushed as it is written.

    Flushing hands the line to the operating system, so it survives the process being killed;
    only the final `end` event is also fsynced (against power loss), to keep turns fast.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        private_dirs(self.path.parent)
        self._handle = private_open(self.path, "a", encoding="utf-8")

    def write(self, event: str, **fields: Any) -> None:
        record = {"event": event, "time": round(time.time(), 3), **redact_data(fields)}
        # ASCII escapes: a lone surrogate from the model must not make a line unwritable
        self._handle.write(redact(json.dumps(record, default=str)) + "\n")  # `default=str` may show a value
        self._handle.flush()
        if event == "end":
            os.fsync(self._handle.fileno())

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> Transcript:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_events(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every complete event of a transcript; a half-written last line (a crash) is ignored."""
    events = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                break
    return events
