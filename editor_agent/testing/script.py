"""The scripted replies of the local Messages API server, as pydantic models.

A script is a list of entries answered in order: a `Turn` is one assistant reply, a `Fault` answers
one request with an error (or a dropped connection) without using up a turn. Scripts are plain data so
a test or a demo can keep them in a YAML or JSON file next to the code that uses them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

StopReason = Literal[
    "end_turn", "max_tokens", "stop_sequence", "tool_use", "pause_turn", "refusal", "model_context_window_exceeded"
]
FaultKind = Literal["rate_limit", "overloaded", "server_error", "drop", "slow", "status"]


class _Strict(BaseModel):
    """Unknown keys are errors: a typo in a script must not silently change the reply."""

    model_config = ConfigDict(extra="forbid")


class TextBlock(_Strict):
    type: Literal["text"] = "text"
    text: str
    citations: list[dict[str, Any]] | None = None


class ToolUseBlock(_Strict):
    """A tool call; `id` is generated ("toolu_…") when the script leaves it out."""

    type: Literal["tool_use"] = "tool_use"
    id: str | None = None
    name: str
    input: dict[str, Any] = Field(default_factory=dict)
    caller: dict[str, Any] | None = Field(default_factory=lambda: {"type": "direct"})


class ThinkingBlock(_Strict):
    """Extended thinking; `signature` is generated when the script leaves it out."""

    type: Literal["thinking"] = "thinking"
    thinking: str
    signature: str | None = None


class RedactedThinkingBlock(_Strict):
    type: Literal["redacted_thinking"] = "redacted_thinking"
    data: str


ContentBlock = Annotated[TextBlock | ToolUseBlock | ThinkingBlock | RedactedThinkingBlock, Field(discriminator="type")]


class UsageOverride(_Strict):
    """Numbers to report instead of the server's estimate (each one optional)."""

    input_tokens: int | None = Field(default=None, ge=0)
    output_tokens: int | None = Field(default=None, ge=0)
    cache_read_input_tokens: int | None = Field(default=None, ge=0)
    cache_creation_input_tokens: int | None = Field(default=None, ge=0)


class Turn(_Strict):
    """One assistant reply. `stop_reason` defaults to "tool_use" when the content calls a tool, else "end_turn".

    `model` replaces the echoed request model (the real API may answer `claude-sonnet-4-5` with the dated id).
    """

    content: list[ContentBlock] = Field(default_factory=list)
    stop_reason: StopReason | None = None
    stop_sequence: str | None = None
    usage: UsageOverride | None = None
    model: str | None = None

    def effective_stop_reason(self) -> StopReason:
        if self.stop_reason is not None:
            return self.stop_reason
        return "tool_use" if any(isinstance(b, ToolUseBlock) for b in self.content) else "end_turn"


class Fault(_Strict):
    """Answers exactly one request with an error instead of a turn; the turns do not advance.

    - `rate_limit`: 429 `rate_limit_error` with `retry-after: retry_after` (1 second when not given).
    - `overloaded`: 529 `overloaded_error`; `server_error`: 500 `api_error`.
    - `drop`: a streaming request gets `message_start` and some deltas (`after_events` events in all), then the
      connection closes; a non-streaming request is closed without any response.
    - `slow`: waits `seconds`, then answers the request with the next entry (this one does use up a turn).
    - `status`: any `status` with `error_type` and `message`, e.g. 404 `not_found_error` "model: claude-x".
    `headers` are added to the response; `should_retry` sets the `x-should-retry` header the SDK obeys.
    """

    fault: FaultKind
    retry_after: float | None = Field(default=None, ge=0)
    seconds: float = Field(default=0.0, ge=0)
    status: int | None = Field(default=None, ge=400, le=599)
    error_type: str | None = None
    message: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    should_retry: bool | None = None
    after_events: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _status_needs_a_code(self) -> Fault:
        if self.fault == "status" and self.status is None:
            raise ValueError("a 'status' fault needs 'status' (e.g. 404)")
        return self


def _entry_kind(value: Any) -> str:
    if isinstance(value, Fault) or (isinstance(value, dict) and "fault" in value):
        return "fault"
    return "turn"


Entry = Annotated[Annotated[Turn, Tag("turn")] | Annotated[Fault, Tag("fault")], Discriminator(_entry_kind)]


class Script(_Strict):
    """The entries the server answers with, in order."""

    turns: list[Entry]

    @classmethod
    def load(cls, path: str | Path) -> Script:
        """Read a script from a `.json` file, or YAML for any other suffix."""
        text = Path(path).read_text(encoding="utf-8")
        data = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
        return cls.model_validate(data)
