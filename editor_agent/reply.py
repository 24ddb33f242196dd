"""Read a streamed Messages API reply into the message JSON the API would have sent whole.

The SDK's `MessageStream` rebuilds a typed snapshot of the message on every event; on a short
reply that costs more than everything else a turn does. The loop needs the reply as plain JSON
anyway (it goes back verbatim in the next request), so it reads the server-sent events itself,
from the raw bytes of the SDK's own HTTP response (retries, auth and errors stay the SDK's):
splitting bytes costs less than httpx's decoding of every chunk into text and lines.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any


class StreamError(Exception):
    """The stream carried an `error` event (e.g. overloaded mid-reply) or ended before `message_stop`."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type

    @property
    def transient(self) -> bool:
        return self.error_type in ("overloaded_error", "api_error", "rate_limit_error", "incomplete_stream")


def _finish_block(block: dict[str, Any], buffer: str | None) -> None:
    if buffer is not None:
        try:
            block["input"] = json.loads(buffer) if buffer else {}
        except json.JSONDecodeError:
            block["input"] = {}  # cut short (max_tokens): the loop answers it with an error, never runs it


def _apply(
    message: dict[str, Any], event: dict[str, Any], buffers: dict[int, str], on_text: Callable[[str], None]
) -> None:
    kind = event.get("type")
    if kind == "content_block_start":
        message["content"].append(dict(event["content_block"]))
    elif kind == "content_block_delta":
        block, delta = message["content"][event["index"]], event["delta"]
        change = delta.get("type")
        if change == "text_delta":
            block["text"] = block.get("text", "") + delta["text"]
            on_text(delta["text"])
        elif change == "input_json_delta":  # tool input in JSON fragments; without any, the start's input stands
            buffers[event["index"]] = buffers.get(event["index"], "") + delta["partial_json"]
        elif change == "thinking_delta":
            block["thinking"] = block.get("thinking", "") + delta["thinking"]
        elif change == "signature_delta":
            block["signature"] = delta["signature"]
        elif change == "citations_delta":
            block["citations"] = [*(block.get("citations") or []), delta["citation"]]
    elif kind == "content_block_stop":
        _finish_block(message["content"][event["index"]], buffers.pop(event["index"], None))
    elif kind == "message_delta":
        message.update({k: v for k, v in event.get("delta", {}).items() if k in ("stop_reason", "stop_sequence")})
        for field, value in (event.get("usage") or {}).items():
            if value is not None:  # cumulative totals: they replace the message_start values
                message["usage"][field] = value


def server_sent_events(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The `data` of each event in a stream of raw bytes, however the chunks split it.

    Lines may end in LF, CRLF or CR; an event ends at a blank line; `event:` names, comments
    and fields other than `data` are skipped (the event's type is inside its data).
    """
    buffer = b""
    held_cr = False  # a chunk ending in CR may be the first half of a CRLF
    for chunk in itertools.chain(chunks, (None,)):
        if chunk is None:  # the end: a held CR ends its line after all
            if not held_cr:
                break
            chunk, held_cr = b"\n", False
        if held_cr:
            chunk, held_cr = b"\r" + chunk, False
        if b"\r" in chunk:
            if chunk.endswith(b"\r"):
                chunk, held_cr = chunk[:-1], True
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        buffer += chunk
        if b"\n\n" not in buffer:
            continue
        *blocks, buffer = buffer.split(b"\n\n")
        for block in blocks:
            data = [line[5:].removeprefix(b" ") for line in block.split(b"\n") if line.startswith(b"data:")]
            if data:
                yield data[0] if len(data) == 1 else b"\n".join(data)


def read_streamed_reply(chunks: Iterable[bytes], on_text: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """The complete message from the raw bytes of a streamed reply; `on_text` gets each text delta."""
    message: dict[str, Any] | None = None
    complete = False
    buffers: dict[int, str] = {}
    for data in server_sent_events(chunks):
        if complete:
            continue  # read to the end, so the connection can be reused
        event = json.loads(data)
        kind = event.get("type")
        if kind == "message_start":
            message = dict(event["message"])
            message["content"] = list(message.get("content") or [])
            message["usage"] = dict(message.get("usage") or {})
        elif kind == "error":
            error = event.get("error") or {}
            raise StreamError(error.get("type", "api_error"), error.get("message", "error event in the stream"))
        elif kind == "message_stop" and message is not None:
            for index, buffer in list(buffers.items()):
                _finish_block(message["content"][index], buffer)
            complete = True
        elif message is not None:
            _apply(message, event, buffers, on_text)
    if message is None or not complete:
        raise StreamError("incomplete_stream", "the reply ended before message_stop")
    return message
