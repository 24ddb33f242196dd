"""Read a streamed Messages API reply into the message JSON the API would have sent whole.

The SDK's `MessageStream` rebuilds a typed snapshot of the message on every event; on a short
reply that costs more than everything else a turn does. The loop needs the reply as plain JSON
anyway (it goes back verbatim in the next request), so it reads the server-sent events itself,
from the raw bytes of the SDK's own HTTP response (retries, auth and errors stay the SDK's):
splitting bytes costs less than httpx's decoding of every chunk into text and lines.

The bytes come from a server the harness does not control: a reply is read in time linear in its size,
may be at most `MAX_REPLY_BYTES`, must arrive before the run's deadline, and anything in it that the API
would never send ends the run with `MalformedReply` (one line saying what), never an internal error.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

MAX_REPLY_BYTES = 64 << 20
"""The most one streamed reply may take on the wire, pings and all; the longest real reply is a few MB."""
MAX_NESTING = 64
"""The deepest nesting of objects and lists a reply may hold (a tool input is two or three levels deep)."""
_SHOWN = 200  # characters of server-sent text quoted in an error


class StreamError(Exception):
    """The stream carried an `error` event (e.g. overloaded mid-reply) or ended before `message_stop`."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.detail = message

    @property
    def transient(self) -> bool:
        return self.error_type in ("overloaded_error", "api_error", "rate_limit_error", "incomplete_stream")


class MalformedReply(StreamError):
    """The reply is not what the API sends (bad JSON, a block that was never started, too large...).

    Asking again would most likely get the same answer from the same gateway: not transient.
    """

    def __init__(self, message: str) -> None:
        super().__init__("malformed_reply", message)


class ReplyTimeout(Exception):
    """The run's deadline passed while a reply was still arriving."""


def _short(value: Any) -> str:
    """Server-sent text for an error message: one line, not too long."""
    text = " ".join(str(value).split())
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"


def _size(limit: int) -> str:
    return f"{limit >> 20} MiB" if limit % (1 << 20) == 0 else f"{limit} bytes"


_DECODER = json.JSONDecoder()
_JOINED = ("text", "thinking")  # fields whose deltas are collected and joined once, at the block's end
_USAGE = ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
_BEFORE_START = ("content_block_start", "content_block_delta", "content_block_stop", "message_delta")


def _event(data: bytes) -> dict[str, Any]:
    """One event's JSON; `raw_decode` of text costs half of `json.loads` of bytes."""
    try:
        text = data.decode().strip()
        event, end = _DECODER.raw_decode(text)
        if end != len(text) or not isinstance(event, dict):
            raise ValueError("not one JSON object")
    except ValueError as error:  # invalid UTF-8 or JSON: a gateway's fault, not worth retrying
        raise MalformedReply(f"an event of the reply is not a JSON object ({_short(error)})") from None
    except RecursionError:
        raise MalformedReply("an event of the reply is nested too deeply to read") from None
    return event


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Whether objects and lists nest deeper than `limit` levels in `value`."""
    if isinstance(value, dict):
        value = list(value.values())
    elif not isinstance(value, list):
        return False
    if limit == 0:
        return True
    return any(_depth_exceeds(item, limit - 1) for item in value if isinstance(item, (dict, list)))


def _usage(usage: Any, where: str) -> dict[str, Any]:
    if usage is None:
        return {}
    if not isinstance(usage, dict):
        raise MalformedReply(f"the usage in {where} is not an object")
    for field in _USAGE:
        value = usage.get(field)
        if value is not None and (type(value) is not int or value < 0):
            raise MalformedReply(f"{field} in {where} is not a count of tokens: {_short(repr(value))}")
    return usage


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise MalformedReply(f"{what} is not a string: {_short(repr(value))}")
    return value


class _Reply:
    """The message being assembled; text, thinking and tool input come in many small pieces."""

    def __init__(self, start: Any, on_text: Callable[[str], None]) -> None:
        if not isinstance(start, dict):
            raise MalformedReply("message_start carries no message object")
        self.message = dict(start)
        content = self.message.get("content") or []
        if not isinstance(content, list):
            raise MalformedReply("the content in message_start is not a list")
        self.content: list[dict[str, Any]] = []
        self.message["content"] = self.content
        for block in content:
            self._start(len(self.content), block)
        self.message["usage"] = dict(_usage(self.message.get("usage"), "message_start"))
        self.on_text = on_text
        self.pieces: dict[int, dict[str, list[str]]] = {}  # block index -> field -> pieces

    def apply(self, event: dict[str, Any], kind: Any) -> None:
        if kind == "content_block_delta":
            index = self._index(event, kind)
            delta = event.get("delta")
            if not isinstance(delta, dict):
                raise MalformedReply(f"a content_block_delta for block {index} carries no delta object")
            change = delta.get("type")
            if change == "text_delta":
                piece = _text(delta.get("text"), f"a text_delta of block {index}")
                self._piece(index, "text", piece)
                self.on_text(piece)
            elif change == "input_json_delta":  # tool input in JSON fragments; without any, the start's stands
                self._piece(index, "input", _text(delta.get("partial_json"), f"an input_json_delta of block {index}"))
            elif change == "thinking_delta":
                self._piece(index, "thinking", _text(delta.get("thinking"), f"a thinking_delta of block {index}"))
            elif change == "signature_delta":
                self.content[index]["signature"] = _text(delta.get("signature"), f"a signature_delta of block {index}")
            elif change == "citations_delta":
                block = self.content[index]
                citations = block.get("citations") or []
                if not isinstance(citations, list):
                    raise MalformedReply(f"the citations of block {index} are not a list")
                block["citations"] = [*citations, delta.get("citation")]
        elif kind == "content_block_start":
            at = event.get("index")
            if at != len(self.content) or type(at) is not int:
                raise MalformedReply(f"content block {_short(repr(at))} started after {len(self.content)} blocks")
            self._start(at, event.get("content_block"))
        elif kind == "content_block_stop":
            self._finish(self._index(event, kind))
        elif kind == "message_delta":
            changes = event.get("delta") or {}
            if not isinstance(changes, dict):
                raise MalformedReply("a message_delta carries no delta object")
            self.message.update({k: v for k, v in changes.items() if k in ("stop_reason", "stop_sequence")})
            for field, value in _usage(event.get("usage"), "message_delta").items():
                if value is not None:  # cumulative totals: they replace the message_start values
                    self.message["usage"][field] = value

    def _start(self, index: int, block: Any) -> None:
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            raise MalformedReply(f"content block {index} is not an object with a type")
        self.content.append(dict(block))

    def _index(self, event: dict[str, Any], kind: str) -> int:
        index = event.get("index")
        if type(index) is not int or not 0 <= index < len(self.content):
            raise MalformedReply(f"a {kind} for content block {_short(repr(index))}, which was never started")
        return index

    def _piece(self, index: int, field: str, piece: str) -> None:
        self.pieces.setdefault(index, {}).setdefault(field, []).append(piece)

    def _finish(self, index: int) -> None:
        fields = self.pieces.pop(index, None)
        if not fields:
            return
        block = self.content[index]
        for field in _JOINED:
            if field in fields:
                block[field] = _text(block.get(field, ""), f"the {field} of block {index}") + "".join(fields[field])
        raw = "".join(fields.get("input", ()))
        if raw:  # only empty pieces (the API's usual first delta): the input given at block start stands
            try:
                block["input"] = json.loads(raw)
            except json.JSONDecodeError:
                block["input"] = {}  # cut short (max_tokens): the loop answers it with an error, never runs it
            except RecursionError:
                raise MalformedReply(f"the tool input of block {index} is nested too deeply to read") from None

    def complete(self) -> dict[str, Any]:
        for index in list(self.pieces):
            self._finish(index)
        for index, block in enumerate(self.content):
            kind = block["type"]
            if kind in _JOINED:
                _text(block.get(kind), f"the {kind} of block {index}")
            elif kind == "tool_use":
                if not isinstance(block.get("id"), str) or not block["id"]:
                    raise MalformedReply(f"the tool_use block {index} has no id")
                _text(block.get("name"), f"the name of tool_use block {index}")
                if not isinstance(block.get("input"), dict):
                    raise MalformedReply(f"the input of tool_use block {index} is not an object")
        for field in ("stop_reason", "stop_sequence"):
            value = self.message.get(field)
            if value is not None:
                _text(value, field)
        if _depth_exceeds(self.message, MAX_NESTING + 3):  # the message, its content list and a block: three levels
            raise MalformedReply(f"the reply nests objects or lists more than {MAX_NESTING} levels deep")
        return self.message


def _field_value(line: bytes) -> bytes:
    """The value of a `data` line: after the colon and one optional space (`data` alone: empty)."""
    return line[5:].removeprefix(b" ")


def server_sent_events(
    chunks: Iterable[bytes], *, max_bytes: int | None = None, deadline: float | None = None
) -> Iterator[bytes]:
    """The `data` of each event in a stream of raw bytes, however the chunks split it.

    Lines may end in LF, CRLF or CR; an event ends at a blank line; `event:` names, comments
    and fields other than `data` are skipped (the event's type is inside its data). The bytes of an
    unfinished event are kept as a list of chunks, joined once when its end arrives: time stays linear
    in the size of an event however many chunks it comes in. More than `max_bytes` in all (default
    `MAX_REPLY_BYTES`) raises `MalformedReply`; a chunk arriving at or after `deadline` (on the
    `time.monotonic()` clock) raises `ReplyTimeout`.
    """
    limit = MAX_REPLY_BYTES if max_bytes is None else max_bytes
    received = 0
    pending: list[bytes] = []  # the start of an event whose blank line has not arrived; never empty pieces
    held_cr = False  # a chunk ending in CR may be the first half of a CRLF
    for chunk in itertools.chain(chunks, (None,)):
        if chunk is None:  # the end: a held CR ends its line after all
            if not held_cr:
                break
            chunk, held_cr = b"\n", False
        else:
            received += len(chunk)
            if received > limit:
                raise MalformedReply(f"the reply is larger than {_size(limit)}, the most one reply may take")
            if deadline is not None and time.monotonic() >= deadline:
                raise ReplyTimeout
        if held_cr:
            chunk, held_cr = b"\r" + chunk, False
        if b"\r" in chunk:
            if chunk.endswith(b"\r"):
                chunk, held_cr = chunk[:-1], True
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if not chunk:
            continue
        if pending:  # a blank line is in this chunk, or is its first byte after the last one's "\n"
            if b"\n\n" not in chunk and not (chunk[0] == 10 and pending[-1][-1] == 10):
                pending.append(chunk)
                continue
            pending.append(chunk)
            buffer = b"".join(pending)
            pending = []
        elif b"\n\n" not in chunk:
            pending.append(chunk)
            continue
        else:
            buffer = chunk
        *blocks, rest = buffer.split(b"\n\n")
        if rest:
            pending.append(rest)
        for block in blocks:
            at = block.find(b"data:")
            if at >= 0 and (at == 0 or block[at - 1] == 10) and block.find(b"\n", at) < 0:  # the usual: one data
                value = block[at + 5 :]  # line, the last of its event
                yield value[1:] if value[:1] == b" " else value
                continue
            lines = [_field_value(line) for line in block.split(b"\n") if line[:5] == b"data:" or line == b"data"]
            if lines:
                yield lines[0] if len(lines) == 1 else b"\n".join(lines)


def read_streamed_reply(
    chunks: Iterable[bytes],
    on_text: Callable[[str], None] = lambda _: None,
    *,
    max_bytes: int | None = None,
    deadline: float | None = None,
) -> dict[str, Any]:
    """The complete message from the raw bytes of a streamed reply; `on_text` gets each text delta.

    Raises `StreamError` for an `error` event or a reply cut short, `MalformedReply` for one the API
    would not send or one above `max_bytes`, and `ReplyTimeout` at `deadline` (see `server_sent_events`).
    """
    reply: _Reply | None = None
    complete = False
    for data in server_sent_events(chunks, max_bytes=max_bytes, deadline=deadline):
        if complete or not data.strip():
            continue  # read to the end, so the connection can be reused; an empty event is a keep-alive
        event = _event(data)
        kind = event.get("type")
        if kind == "message_start":
            if reply is not None:
                raise MalformedReply("a second message_start in one reply")
            reply = _Reply(event.get("message"), on_text)
        elif kind == "error":
            error = event.get("error")
            if not isinstance(error, dict):
                raise MalformedReply("an error event without an error object")
            raise StreamError(_short(error.get("type", "api_error")), _short(error.get("message", "error event")))
        elif kind == "message_stop" and reply is not None:
            complete = True
        elif reply is not None:
            reply.apply(event, kind)
        elif kind in _BEFORE_START:
            raise MalformedReply(f"a {kind} before message_start")
    if reply is None or not complete:
        raise StreamError("incomplete_stream", "the reply ended before message_stop")
    return reply.complete()
