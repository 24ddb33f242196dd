"""What the server has replied, so a request's history can be checked against it.

An agent loop must send every assistant reply back as it came: not dropped, not reordered, not edited,
and thinking blocks byte for byte. The ledger remembers each reply together with the assistant history
of the request that produced it, which makes the check work for several conversations (or a batch) on
one server, and for retries that repeat a request.

Blocks are compared by what the model said: text, tool name, id and input, thinking and signature,
redacted data. Fields a client may legitimately add or drop (`cache_control`, `caller`, a null
`citations`) are ignored. Thinking of earlier turns may be dropped (the API ignores it), but when the
request enables thinking, the latest assistant message must carry its thinking blocks.
"""

from __future__ import annotations

import threading
from typing import Any

from .usage import canonical

_THINKING = ("thinking", "redacted_thinking")
_IGNORED = {"cache_control", "caller"}


def _normal(block: Any) -> dict[str, Any]:
    if not isinstance(block, dict):
        return {"invalid": repr(block)}
    kind = block.get("type")
    if kind == "text":
        return {"type": "text", "text": block.get("text")}
    if kind == "tool_use":
        return {"type": "tool_use", "id": block.get("id"), "name": block.get("name"), "input": block.get("input")}
    if kind == "thinking":
        return {"type": "thinking", "thinking": block.get("thinking"), "signature": block.get("signature")}
    if kind == "redacted_thinking":
        return {"type": "redacted_thinking", "data": block.get("data")}
    return {k: v for k, v in block.items() if k not in _IGNORED and v is not None}


def _content(message: dict[str, Any]) -> list[Any]:
    content = message.get("content")
    return [{"type": "text", "text": content}] if isinstance(content, str) else list(content or [])


def _key(blocks: list[Any], with_thinking: bool) -> str:
    kept = [_normal(b) for b in blocks if with_thinking or not (isinstance(b, dict) and b.get("type") in _THINKING)]
    return canonical(kept)


def _thinking_enabled(body: dict[str, Any]) -> bool:
    thinking = body.get("thinking")
    return isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive")


class Ledger:
    """Replies sent so far, and the check that a request's assistant messages are among them."""

    def __init__(self) -> None:
        self._chains: set[tuple[str, ...]] = set()
        self._full_chains: set[tuple[str, ...]] = set()
        self._thinking: set[str] = set()
        self._lock = threading.Lock()

    def record(self, request_messages: list[dict[str, Any]], reply: list[dict[str, Any]]) -> None:
        """Remember a reply sent in answer to a request with these messages."""
        history = tuple(_key(_content(m), False) for m in request_messages if m.get("role") == "assistant")
        with self._lock:
            self._chains.add((*history, _key(reply, False)))
            self._full_chains.add((*history, _key(reply, True)))
            if request_messages and request_messages[-1].get("role") == "assistant":
                # a paused turn being continued: the client may send the two back joined as one message
                joined = _content(request_messages[-1]) + list(reply)
                self._chains.add((*history[:-1], _key(joined, False)))
                self._full_chains.add((*history[:-1], _key(joined, True)))
            for block in reply:
                if block.get("type") in _THINKING:
                    self._thinking.add(canonical(_normal(block)))

    def first_problem(self, body: dict[str, Any]) -> str | None:
        """The first assistant message that is not a reply the server sent in this conversation, or None."""
        messages: list[dict[str, Any]] = body["messages"]
        assistant = [i for i, m in enumerate(messages) if m.get("role") == "assistant"]
        latest = assistant[-1] if assistant else -1
        with self._lock:
            for index in assistant:
                for position, block in enumerate(_content(messages[index])):
                    if isinstance(block, dict) and block.get("type") in _THINKING:
                        if canonical(_normal(block)) not in self._thinking:
                            return self._modified_thinking(index, position, index == latest)
            chain: tuple[str, ...] = ()
            for index in assistant:
                content = _content(messages[index])
                chain = (*chain, _key(content, False))
                if chain not in self._chains:
                    return (
                        f"messages.{index}: this assistant message is not the reply the server sent at this point "
                        "of the conversation; send every assistant reply back unchanged and in order "
                        "(a turn was dropped, reordered or altered)"
                    )
                if index == latest and _thinking_enabled(body):
                    if (*chain[:-1], _key(content, True)) not in self._full_chains:
                        return (
                            f"messages.{index}: the thinking blocks of the latest assistant message are missing. "
                            "When `thinking` is enabled, pass the latest assistant message back complete, "
                            "thinking blocks included."
                        )
        return None

    @staticmethod
    def _modified_thinking(index: int, position: int, latest: bool) -> str:
        where = f"messages.{index}.content.{position}"
        if latest:
            return (
                f"{where}: `thinking` or `redacted_thinking` blocks in the latest assistant message cannot be "
                "modified. These blocks must remain as they were in the original response."
            )
        return f"{where}: Invalid `signature` in `thinking` block"
