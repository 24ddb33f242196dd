"""How a run ends: its status names, the `RunResult` it returns, and `Stop`, which ends it early."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from .usage import Usage

Status = Literal[
    "completed",
    "refused",
    "max_turns",
    "max_tokens",
    "budget",
    "timeout",
    "context_exceeded",
    "stuck",
    "stopped",
    "error",
]


class RunResult(BaseModel):
    """The outcome of a run, as `--json` prints it."""

    status: Status
    stop_reason: str | None = None
    turns: int = 0
    usage: Usage = Usage()
    cost_usd: float | None = None
    files_changed: list[str] = []
    transcript: str | None = None
    error: str | None = None
    final_text: str = ""
    diff: str = ""


class Stop(Exception):
    """Ends the run with `status` before the model does (a limit, a request that cannot be built...)."""

    def __init__(self, status: Status, error: str | None = None) -> None:
        super().__init__(error or status)
        self.status, self.error = status, error
