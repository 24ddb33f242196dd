"""A Message as the server-sent event stream the API sends for `"stream": true`.

The order and shapes follow the recorded stream: `message_start` (empty content, usage so far), then per
block `content_block_start`, deltas and `content_block_stop` (one `ping` after the first start), then
`message_delta` with the stop reason and the output tokens, and `message_stop`. Tool input arrives as
`input_json_delta` pieces of `json.dumps(input)` after an empty first piece, thinking as `thinking_delta`
pieces followed by one `signature_delta`, and a redacted thinking block whole in its start event.
"""

from __future__ import annotations

import json
from typing import Any

Event = tuple[str, dict[str, Any]]

TEXT_PIECE = 16
JSON_PIECE = 8


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _block_events(index: int, block: dict[str, Any]) -> list[Event]:
    kind = block["type"]
    deltas: list[dict[str, Any]] = []
    if kind == "text":
        start: dict[str, Any] = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": piece} for piece in _pieces(block["text"], TEXT_PIECE)]
    elif kind == "tool_use":
        start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
        if "caller" in block:
            start["caller"] = block["caller"]
        raw = json.dumps(block["input"]) if block["input"] else ""
        deltas = [{"type": "input_json_delta", "partial_json": ""}]
        deltas += [{"type": "input_json_delta", "partial_json": p} for p in _pieces(raw, JSON_PIECE) if p]
    elif kind == "thinking":
        start = {"type": "thinking", "thinking": "", "signature": ""}
        deltas = [{"type": "thinking_delta", "thinking": p} for p in _pieces(block["thinking"], TEXT_PIECE)]
        deltas.append({"type": "signature_delta", "signature": block["signature"]})
    else:
        start = dict(block)
    events: list[Event] = [
        ("content_block_start", {"type": "content_block_start", "index": index, "content_block": start})
    ]
    if index == 0:
        events.append(("ping", {"type": "ping"}))
    events += [("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d}) for d in deltas]
    events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    return events


def message_events(message: dict[str, Any]) -> list[Event]:
    """Every event of the stream for a complete Message object."""
    start_usage = dict(message["usage"], output_tokens=1)
    started = {
        "model": message["model"],
        "id": message["id"],
        "type": "message",
        "role": "assistant",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": start_usage,
    }
    events: list[Event] = [("message_start", {"type": "message_start", "message": started})]
    for index, block in enumerate(message["content"]):
        events += _block_events(index, block)
    delta = {"stop_reason": message["stop_reason"], "stop_sequence": message["stop_sequence"]}
    usage = {"output_tokens": message["usage"]["output_tokens"]}
    events.append(("message_delta", {"type": "message_delta", "delta": delta, "usage": usage}))
    events.append(("message_stop", {"type": "message_stop"}))
    return events


def encode(event: Event) -> bytes:
    """One event in wire form: `event: NAME`, `data: JSON`, blank line (compact JSON, as the API sends)."""
    name, data = event
    text = '{"type": "ping"}' if name == "ping" else json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return f"event: {name}\ndata: {text}\n\n".encode()
