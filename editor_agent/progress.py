"""What a person sees while a run goes: the model's text as it streams, each tool call and its outcome.

`Progress` is silent (for `--json` and library use); `ConsoleProgress` writes to a stream, stderr
by default, so stdout stays clean for machines.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO


class Progress:
    """Receives the events of a run; the base class ignores them."""

    def turn(self, number: int) -> None: ...
    def text(self, delta: str) -> None: ...
    def end_of_reply(self) -> None: ...
    def tool(self, tool_input: Any, content: str | list[dict[str, Any]], is_error: bool) -> None: ...
    def retry(self, reason: str, wait: float) -> None: ...


class ConsoleProgress(Progress):
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self._mid_line = False

    def _line(self, text: str) -> None:
        if self._mid_line:
            self.stream.write("\n")
            self._mid_line = False
        self.stream.write(text + "\n")
        self.stream.flush()

    def turn(self, number: int) -> None:
        self._line(f"── turn {number} ──")

    def text(self, delta: str) -> None:
        self.stream.write(delta)
        self.stream.flush()
        self._mid_line = not delta.endswith("\n")

    def end_of_reply(self) -> None:
        if self._mid_line:
            self._line("")

    def tool(self, tool_input: Any, content: str | list[dict[str, Any]], is_error: bool) -> None:
        command = tool_input.get("command", "?") if isinstance(tool_input, dict) else "?"
        path = tool_input.get("path", "") if isinstance(tool_input, dict) else ""
        first = content.splitlines()[0][:160] if isinstance(content, str) and content else ""
        outcome = "error: " + first if is_error else "ok"
        self._line(f"  {'✗' if is_error else '✓'} {command} {path} — {outcome}")

    def retry(self, reason: str, wait: float) -> None:
        self._line(f"  … {reason}; retrying in {wait:.0f}s")
