"""The HTTP plumbing of the local Messages API: one handler thread per connection, and the writing of answers.

Kept apart from `server.py` so the emulator's logic (routing, validation, faults) reads without socket
details: answers are JSON, a server-sent event stream in HTTP chunks (which a client can tell from a cut
connection), or a deliberate abrupt close.
"""

from __future__ import annotations

import json
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .replies import error_body


@dataclass
class RecordedRequest:
    """One request as received; `status` is the answer's status code (0: closed without an answer).

    `received` is when its request line arrived, on the `time.perf_counter()` clock, so tests can check
    the spacing of requests (a shared backoff, a pacing).
    """

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    status: int = 0
    seconds: float = 0.0  # time the server spent on it, from reading the body to the last byte sent
    received: float = 0.0


class HTTPServer(ThreadingHTTPServer):
    """Calls `serve(handler)` for every request, and knows its open connections so it can close them.

    With `ssl_context`, connections speak TLS; the handshake runs on the connection's own thread.
    """

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        serve: Callable[[Handler], None],
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.serve = serve
        self.ssl_context = ssl_context
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(address, Handler)

    def get_request(self) -> tuple[Any, Any]:
        sock, address = super().get_request()
        if self.ssl_context is not None:
            sock = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up (a test that is done, a dropped-connection fault) is not an error here.

        Nor is a TLS client that gives up the handshake (it does not trust the certificate).
        """
        if isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError)):
            return
        super().handle_error(request, client_address)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def close_all(self) -> None:
        """Shut every open connection, so keep-alive handler threads end."""
        with self.sockets_lock:
            for sock in list(self.open_sockets):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # small SSE writes must not wait for the client's delayed ACK (~40 ms)
    started = 0.0

    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()
        super().setup()

    def parse_request(self) -> bool:
        self.started = time.perf_counter()  # the request line has arrived: the server's time starts here
        return super().parse_request()

    server: HTTPServer

    def do_POST(self) -> None:
        self.server.serve(self)

    do_GET = do_PUT = do_PATCH = do_DELETE = do_POST

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read `requests` instead
        pass


class Exchange:
    """Writes the answer to one request and notes its status in the record."""

    def __init__(self, handler: Handler, record: RecordedRequest, request_id: str) -> None:
        self.handler = handler
        self.record = record
        self.request_id = request_id
        self.extra_headers: dict[str, str] = {}

    def _head(self, status: int, headers: dict[str, str]) -> None:
        self.record.status = status
        self.handler.send_response(status)
        self.handler.send_header("request-id", self.request_id)
        for name, value in {**self.extra_headers, **headers}.items():
            self.handler.send_header(name, value)
        self.handler.end_headers()

    def json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self._head(status, {"content-type": "application/json", "content-length": str(len(data)), **(headers or {})})
        self.handler.wfile.write(data)

    def error(
        self, status: int, message: str, error_type: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        self.json(status, error_body(status, message, self.request_id, error_type), headers)

    def stream(self, events: list[bytes], complete: bool = True) -> None:
        """Send SSE events as HTTP chunks; an incomplete stream ends in an abrupt close, like a lost connection."""
        self._head(
            200,
            {
                "content-type": "text/event-stream; charset=utf-8",
                "cache-control": "no-cache",
                "transfer-encoding": "chunked",
            },
        )
        try:
            for event in events:
                self.handler.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
            if complete:
                self.handler.wfile.write(b"0\r\n\r\n")
        except OSError:
            complete = False
        if not complete:
            self.abort()

    def abort(self) -> None:
        self.handler.close_connection = True
        try:
            self.handler.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
