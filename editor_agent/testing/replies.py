"""The JSON bodies the server sends: Message objects and error objects, shaped like the recorded API traffic.

Ids and thinking signatures come from a counter hashed with a seed, so two runs of the same script give
the same ids (handy for snapshots) while ids within one server never repeat.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import threading
from typing import Any

from .script import RedactedThinkingBlock, TextBlock, ThinkingBlock, ToolUseBlock, Turn
from .usage import InputUsage

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}


class IdMaker:
    """Deterministic, unique ids in the API's formats (`msg_01…`, `toolu_01…`, `req_011C…`)."""

    def __init__(self, seed: int = 0) -> None:
        self._seed = seed
        self._counter = itertools.count()
        self._lock = threading.Lock()

    def _token(self, length: int) -> str:
        with self._lock:
            number = next(self._counter)
        digest = int.from_bytes(hashlib.sha256(f"{self._seed}:{number}".encode()).digest(), "big")
        chars = []
        for _ in range(length):
            digest, rest = divmod(digest, len(_ALPHABET))
            chars.append(_ALPHABET[rest])
        return "".join(chars)

    def message(self) -> str:
        return "msg_01" + self._token(22)

    def tool_use(self) -> str:
        return "toolu_01" + self._token(22)

    def request(self) -> str:
        return "req_011C" + self._token(20)

    def signature(self, thinking: str) -> str:
        """An opaque signature, different for every thinking block the server emits."""
        raw = hashlib.sha512(f"{self._seed}:{self._token(8)}:{thinking}".encode()).digest()
        return base64.b64encode(b"\x12" + raw * 2).decode()


def content_blocks(turn: Turn, ids: IdMaker) -> list[dict[str, Any]]:
    """The turn's content as the API returns it: generated ids and signatures filled in."""
    blocks: list[dict[str, Any]] = []
    for block in turn.content:
        if isinstance(block, TextBlock):
            text: dict[str, Any] = {"type": "text", "text": block.text}
            if block.citations is not None:
                text["citations"] = block.citations
            blocks.append(text)
        elif isinstance(block, ToolUseBlock):
            tool: dict[str, Any] = {"type": "tool_use", "id": block.id or ids.tool_use(), "name": block.name}
            tool["input"] = block.input
            if block.caller is not None:
                tool["caller"] = block.caller
            blocks.append(tool)
        elif isinstance(block, ThinkingBlock):
            signature = block.signature if block.signature is not None else ids.signature(block.thinking)
            blocks.append({"type": "thinking", "thinking": block.thinking, "signature": signature})
        elif isinstance(block, RedactedThinkingBlock):
            blocks.append({"type": "redacted_thinking", "data": block.data})
    return blocks


def usage_body(usage: InputUsage, output_tokens: int, turn: Turn) -> dict[str, Any]:
    """The `usage` object of a reply (as in the cassettes), with the script's overrides applied."""
    body: dict[str, Any] = {
        "cache_creation": {
            "ephemeral_1h_input_tokens": usage.ephemeral_1h_input_tokens,
            "ephemeral_5m_input_tokens": usage.ephemeral_5m_input_tokens,
        },
        "cache_creation_input_tokens": usage.cache_creation_input_tokens,
        "cache_read_input_tokens": usage.cache_read_input_tokens,
        "inference_geo": "global",
        "input_tokens": usage.input_tokens,
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }
    if turn.usage is not None:
        body.update(turn.usage.model_dump(exclude_none=True))
    return body


def message_body(
    message_id: str, model: str, content: list[dict[str, Any]], turn: Turn, usage: dict[str, Any]
) -> dict[str, Any]:
    """A complete Message object, key for key as the API sends it."""
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": turn.effective_stop_reason(),
        "stop_sequence": turn.stop_sequence,
        "usage": usage,
    }


def error_body(status: int, message: str, request_id: str, error_type: str | None = None) -> dict[str, Any]:
    """The API's error shape: `{"type": "error", "error": {"type", "message"}, "request_id"}`."""
    kind = error_type or ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    return {"type": "error", "error": {"type": kind, "message": message}, "request_id": request_id}
