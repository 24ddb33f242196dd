"""What a person sees while a run goes: the model's text as it streams, each tool call and its outcome.

`Progress` is silent (for `--json` and library use); `ConsoleProgress` writes to a stream, stderr
by default, so stdout stays clean for machines. Everything it prints is terminal-safe: control
characters in model text, paths and results are shown escaped, and credential values redacted.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from ..safety.redact import StreamRedactor
from ..safety.terminal import safe


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
        self._redactor = StreamRedactor()

    def _line(self, text: str) -> None:
        self._release()
        if self._mid_line:
            self.stream.write("\n")
            self._mid_line = False
        self.stream.write(text + "\n")
        self.stream.flush()

    def turn(self, number: int) -> None:
        self._line(f"── turn {number} ──")

    def text(self, delta: str) -> None:
        self._show(self._redactor.feed(delta))

    def _show(self, text: str) -> None:
        if text:
            self.stream.write(safe(text))
            self.stream.flush()
            self._mid_line = not text.endswith("\n")

    def _release(self) -> None:
        """Text held back because it could begin a credential value: it did not, or it is redacted now."""
        self._show(self._redactor.flush())

    def end_of_reply(self) -> None:
        self._release()
        if self._mid_line:
            self._line("")

    def tool(self, tool_input: Any, content: str | list[dict[str, Any]], is_error: bool) -> None:
        command = tool_input.get("command", "?") if isinstance(tool_input, dict) else "?"
        path = tool_input.get("path", "") if isinstance(tool_input, dict) else ""
        first = content.splitlines()[0][:160] if isinstance(content, str) and content else ""
        outcome = "error: " + first if is_error else "ok"
        fields = " ".join(safe(str(field), line=True) for field in (command, path))
        self._line(f"  {'✗' if is_error else '✓'} {fields} — {safe(outcome, line=True)}")

    def retry(self, reason: str, wait: float) -> None:
        self._line(f"  … {safe(reason, line=True)}; retrying in {wait:.0f}s")
