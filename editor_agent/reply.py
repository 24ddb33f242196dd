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


_DECODER = json.JSONDecoder()
_JOINED = ("text", "thinking")  # fields whose deltas are collected and joined once, at the block's end


def _event(data: bytes) -> dict[str, Any]:
    """One event's JSON; `raw_decode` of text costs half of `json.loads` of bytes."""
    try:
        text = data.decode().strip()
        event, end = _DECODER.raw_decode(text)
        if end != len(text) or not isinstance(event, dict):
            raise ValueError("not one JSON object")
    except ValueError as error:  # invalid UTF-8 or JSON: a gateway's fault, not worth retrying
        raise StreamError("invalid_event", f"an event of the reply is not a JSON object ({error})") from None
    return event


class _Reply:
    """The message being assembled; text, thinking and tool input come in many small pieces."""

    def __init__(self, start: dict[str, Any], on_text: Callable[[str], None]) -> None:
        self.message = dict(start)
        self.message["content"] = list(self.message.get("content") or [])
        self.message["usage"] = dict(self.message.get("usage") or {})
        self.on_text = on_text
        self.pieces: dict[int, dict[str, list[str]]] = {}  # block index -> field -> pieces

    def apply(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "content_block_delta":
            delta = event["delta"]
            change = delta.get("type")
            if change == "text_delta":
                self._piece(event["index"], "text", delta["text"])
                self.on_text(delta["text"])
            elif change == "input_json_delta":  # tool input in JSON fragments; without any, the start's stands
                self._piece(event["index"], "input", delta["partial_json"])
            elif change == "thinking_delta":
                self._piece(event["index"], "thinking", delta["thinking"])
            elif change == "signature_delta":
                self.message["content"][event["index"]]["signature"] = delta["signature"]
            elif change == "citations_delta":
                block = self.message["content"][event["index"]]
                block["citations"] = [*(block.get("citations") or []), delta["citation"]]
        elif kind == "content_block_start":
            self.message["content"].append(dict(event["content_block"]))
        elif kind == "content_block_stop":
            self._finish(event["index"])
        elif kind == "message_delta":
            changes = event.get("delta", {})
            self.message.update({k: v for k, v in changes.items() if k in ("stop_reason", "stop_sequence")})
            for field, value in (event.get("usage") or {}).items():
                if value is not None:  # cumulative totals: they replace the message_start values
                    self.message["usage"][field] = value

    def _piece(self, index: int, field: str, piece: str) -> None:
        self.pieces.setdefault(index, {}).setdefault(field, []).append(piece)

    def _finish(self, index: int) -> None:
        fields = self.pieces.pop(index, None)
        if not fields:
            return
        block = self.message["content"][index]
        for field in _JOINED:
            if field in fields:
                block[field] = block.get(field, "") + "".join(fields[field])
        raw = "".join(fields.get("input", ()))
        if raw:  # only empty pieces (the API's usual first delta): the input given at block start stands
            try:
                block["input"] = json.loads(raw)
            except json.JSONDecodeError:
                block["input"] = {}  # cut short (max_tokens): the loop answers it with an error, never runs it

    def complete(self) -> dict[str, Any]:
        for index in list(self.pieces):
            self._finish(index)
        return self.message


def _field_value(line: bytes) -> bytes:
    """The value of a `data` line: after the colon and one optional space (`data` alone: empty)."""
    return line[5:].removeprefix(b" ")


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
        buffer = buffer + chunk if buffer else chunk
        if b"\n\n" not in buffer:
            continue
        *blocks, buffer = buffer.split(b"\n\n")
        for block in blocks:
            at = block.find(b"data:")
            if at >= 0 and (at == 0 or block[at - 1] == 10) and block.find(b"\n", at) < 0:  # the usual: one data
                value = block[at + 5 :]  # line, the last of its event
                yield value[1:] if value[:1] == b" " else value
                continue
            lines = [_field_value(line) for line in block.split(b"\n") if line[:5] == b"data:" or line == b"data"]
            if lines:
                yield lines[0] if len(lines) == 1 else b"\n".join(lines)


def read_streamed_reply(chunks: Iterable[bytes], on_text: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """The complete message from the raw bytes of a streamed reply; `on_text` gets each text delta."""
    reply: _Reply | None = None
    complete = False
    for data in server_sent_events(chunks):
        if complete or not data.strip():
            continue  # read to the end, so the connection can be reused; an empty event is a keep-alive
        event = _event(data)
        kind = event.get("type")
        if kind == "message_start":
            reply = _Reply(event["message"], on_text)
        elif kind == "error":
            error = event.get("error") or {}
            raise StreamError(error.get("type", "api_error"), error.get("message", "error event in the stream"))
        elif kind == "message_stop" and reply is not None:
            complete = True
        elif reply is not None:
            reply.apply(event)
    if reply is None or not complete:
        raise StreamError("incomplete_stream", "the reply ended before message_stop")
    return reply.complete()
