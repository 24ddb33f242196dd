"""One Messages request from the conversation: system prompt, cache breakpoints, betas, thinking, max_tokens.

The request is rebuilt every turn, with the cache breakpoints on the newest two user turns (the
prefix the last request wrote, and this one), so the history itself stays unmarked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..api.connection import Connection
from ..tool.editor import Editor
from ..tool.versions import ResolvedModel
from . import prompts
from .outcome import Stop
from .requestbody import RequestEncoder
from .settings import RunSettings

_EPHEMERAL = {"type": "ephemeral"}
_CACHEABLE = {"text", "tool_result", "tool_use", "image", "document"}


@dataclass
class Request:
    """A request before it is encoded: what the transcript records of it, and its headers."""

    params: dict[str, Any]
    betas: list[str]
    headers: dict[str, str]

    def summary(self) -> dict[str, Any]:
        """The transcript's `request` event: everything but the messages, which it records one by one."""
        params = {key: value for key, value in self.params.items() if key != "messages"}
        return {"messages": len(self.params["messages"]), "betas": self.betas, "params": params}


class RequestBuilder:
    """Builds each turn's request for one editor, model and connection; encodes the body (see requestbody.py)."""

    def __init__(self, editor: Editor, resolved: ResolvedModel, connection: Connection, settings: RunSettings) -> None:
        self.editor, self.resolved, self.connection, self.settings = editor, resolved, connection, settings
        self._encoder = RequestEncoder()

    def max_tokens(self) -> int:
        """The reply limit: the one asked for, at most the model's; raises `Stop` if thinking leaves no room."""
        cap = self.resolved.max_tokens
        wanted = min(self.settings.max_output_tokens or cap, cap)
        thinking = self.settings.thinking
        if isinstance(thinking, int) and wanted <= thinking:
            raise Stop("error", f"--thinking {thinking} must be below the reply limit of {wanted} tokens")
        return wanted

    def build(self, messages: list[dict[str, Any]]) -> Request:
        """The request for the conversation so far; raises `Stop` for settings the model cannot take."""
        system_text = (self.settings.system or prompts.SYSTEM).format(
            mount=self.editor.mount, tool_name=self.editor.tool_name
        )
        system: list[dict[str, Any]] = [{"type": "text", "text": system_text}]
        messages = list(messages)  # copied only where a breakpoint is added: history stays unmarked
        if self.settings.cache:
            system[0]["cache_control"] = _EPHEMERAL
            _mark_cache_breakpoints(messages)
        params: dict[str, Any] = {
            "model": self.resolved.model,
            "max_tokens": self.max_tokens(),
            "system": system,
            "tools": [self.editor.tool_definition()],
            "messages": messages,
        }
        betas = list(self.editor.betas)
        thinking = self.settings.thinking
        if thinking is not None and self.resolved.thinking == "none":
            raise Stop("error", f"{self.resolved.model} does not take extended thinking (tools.yaml); drop --thinking")
        if thinking == "adaptive":
            params["thinking"] = {"type": "adaptive"}
        elif isinstance(thinking, int):
            params["thinking"] = {"type": "enabled", "budget_tokens": thinking}
            betas += list(self.resolved.thinking_betas)
        betas += self.connection.betas
        headers = {"anthropic-beta": ",".join(dict.fromkeys(betas))} if betas else {}
        return Request(params, betas, headers)

    def encode(self, request: Request) -> bytes:
        """The streamed request's body, with the connection's extra body fields; raises `Stop` if it cannot be sent."""
        try:
            return self._encoder.encode(request.params, {"stream": True, **self.connection.body})
        except (TypeError, ValueError) as error:
            raise Stop("error", f"cannot build the request: {error}") from None


def _mark_cache_breakpoints(messages: list[dict[str, Any]]) -> None:
    """Mark the last block of the newest two user turns, on copies of those messages."""
    marked = 0
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if message["role"] != "user" or marked == 2:
            continue
        content = message["content"]
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else list(content)
        if blocks and blocks[-1].get("type") in _CACHEABLE:
            blocks[-1] = {**blocks[-1], "cache_control": _EPHEMERAL}
            messages[index] = {**message, "content": blocks}
            marked += 1
