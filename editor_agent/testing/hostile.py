"""A Messages API endpoint that misbehaves on purpose: its reply is whatever bytes a test chooses.

The scripted `MessagesServer` only ever sends replies the real API could send; this one shows what the
harness does with a reply that never ends, is enormous, or is not what the API would send. Every POST
is answered (by default) `200 text/event-stream` in HTTP chunks, one chunk for each piece `body()` yields (a number
instead of bytes: wait that many seconds; before the first piece of bytes, the status line and headers
wait too). The stream is closed properly when `body()` ends.

```python
with HostileServer(lambda: [event(START), b": ping\\n\\n", ...]) as server:
    run against server.url
```
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from .transport import Handler, HTTPServer

Body = Callable[[], Iterable[bytes | float]]

START: dict[str, Any] = {
    "type": "message_start",
    "message": {
        "id": "msg_hostile", "type": "message", "role": "assistant", "model": "claude-opus-4-5", "content": [],
        "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 1},
    },
}  # fmt: skip
PING = b'event: ping\ndata: {"type": "ping"}\n\n'


def event(data: dict[str, Any] | str) -> bytes:
    """One server-sent event; a string is sent as the data verbatim (it need not be JSON)."""
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    name = data.get("type", "x") if isinstance(data, dict) else "x"
    return f"event: {name}\ndata: {text}\n\n".encode()


def text_reply(text: str = "Done.", stop_reason: str = "end_turn") -> list[bytes]:
    """A whole, well-formed reply of one text block, as its events."""
    return [
        event(START),
        event({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        event({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}),
        event({"type": "content_block_stop", "index": 0}),
        *end_of_reply(stop_reason),
    ]


def end_of_reply(stop_reason: str = "end_turn") -> list[bytes]:
    """The `message_delta` and `message_stop` that end a reply."""
    delta = {"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": None},
             "usage": {"output_tokens": 5}}  # fmt: skip
    return [event(delta), event({"type": "message_stop"})]


class HostileServer:
    """Answers every request with `body()`; `requests` counts them. Use as a context manager; `url` is the base URL.

    `status` and `headers` replace the usual `200` and `content-type: text/event-stream` (e.g. a 429 with
    a `retry-after` of an hour, its JSON error as the body).
    """

    def __init__(
        self, body: Body, *, status: int = 200, headers: dict[str, str] | None = None, host: str = "127.0.0.1"
    ) -> None:
        self._body = body
        self._status = status
        self._headers = {"content-type": "text/event-stream; charset=utf-8", **(headers or {})}
        self._lock = threading.Lock()
        self._requests = 0
        self._httpd = HTTPServer((host, 0), self._serve)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def requests(self) -> int:
        with self._lock:
            return self._requests

    def __enter__(self) -> HostileServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._httpd.shutdown()
        if self._thread is not None:
            self._thread.join()
        self._httpd.close_all()
        self._httpd.server_close()

    def _serve(self, handler: Handler) -> None:
        length = handler.headers.get("content-length", "0")
        handler.rfile.read(int(length) if length.isdigit() else 0)
        with self._lock:
            self._requests += 1
        headed = False
        try:
            for piece in self._body():
                if isinstance(piece, (int, float)):
                    time.sleep(piece)
                    continue
                if not headed:
                    self._head(handler)
                    headed = True
                if piece:
                    handler.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            if not headed:
                self._head(handler)
            handler.wfile.write(b"0\r\n\r\n")
        except OSError:  # the client hung up: what a harness should do with an endless reply
            handler.close_connection = True

    def _head(self, handler: Handler) -> None:
        handler.send_response(self._status)
        for name, value in self._headers.items():
            handler.send_header(name, value)
        handler.send_header("transfer-encoding", "chunked")
        handler.end_headers()
