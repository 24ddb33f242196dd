"""An httpx2 transport over the standard library's `http.client`, for cheaper streamed replies.

The SDK sends requests through httpx2, whose default transport speaks HTTP/1.1 with httpcore2 and h11.
A streamed reply arrives as one HTTP chunk per server-sent event, and that stack handles each chunk
through several layers of pure Python: about 1.5 ms of CPU per reply on a local connection, against
about 0.3 ms when `http.client` does the same wire work. `StdlibTransport` does only that work (connect,
TLS, send, read the status, headers and body as they arrive, keep connections alive); the SDK and httpx2
still do everything else: retries, auth headers, timeouts configuration, redirects, content decoding
and the mapping of errors.

`build_client` uses it unless
- the environment configures a proxy (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, ...): the SDK's own
  client then handles the proxy as before; or
- `EDITOR_AGENT_HTTP=httpx` is set: the SDK's default httpx2 transport is used.

Within `with deadline(at):` (`agent/sdk_model.py` sets the run's time limit so), no request waits past `at`:
every connect, write and read timeout is cut to the time left, and once it has passed a request fails
at once with `ConnectTimeout` instead of being sent. The client (client.py) does not start a retry the
deadline would interrupt: it waits until the deadline and raises `TimeLimitReached`.
"""

from __future__ import annotations

import http.client
import os
import select
import socket
import ssl
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import httpx2

ENV = "EDITOR_AGENT_HTTP"
"""Set to `httpx` to use the SDK's default transport instead of `StdlibTransport`."""

READ_SIZE = 65536
MAX_IDLE_PER_ORIGIN = 20
KEEPALIVE_EXPIRY = 5.0

_TIMEOUTS = ("connect", "read", "write", "pool")
Origin = tuple[str, str, int, str]  # scheme, host, port, the name TLS checks the certificate against

# A reused connection failing with one of these before any status line came back was most likely
# closed by the server while idle: the request is sent again once, on a fresh connection.
_DISCONNECTED = (
    BrokenPipeError,
    ConnectionResetError,  # http.client.RemoteDisconnected included
    ConnectionAbortedError,
    ssl.SSLEOFError,
    ssl.SSLZeroReturnError,
)
_INCOMPLETE_BODY = "peer closed connection without sending complete message body"


_DEADLINE: ContextVar[float | None] = ContextVar("editor_agent_deadline", default=None)


@contextmanager
def deadline(at: float | None) -> Iterator[None]:
    """Requests made in this block (on this thread) end by `at`, on the `time.monotonic()` clock; None: no limit."""
    token = _DEADLINE.set(at)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


class TimeLimitReached(Exception):
    """A request could not be (re)tried before the deadline of the enclosing `deadline` block."""


_ON_WAIT: ContextVar[Callable[[float, str], None] | None] = ContextVar("editor_agent_on_wait", default=None)


@contextmanager
def waits(announce: Callable[[float, str], None] | None) -> Iterator[None]:
    """Waits before a retry in this block (on this thread) are announced: `announce(seconds, why)`."""
    token = _ON_WAIT.set(announce)
    try:
        yield
    finally:
        _ON_WAIT.reset(token)


def announce_wait(seconds: float, why: str) -> None:
    """Tell whoever listens (a person's progress line) what is waited for, and how long."""
    announce = _ON_WAIT.get()
    if announce is not None:
        announce(seconds, why)


def time_left() -> float | None:
    """Seconds until the deadline of the enclosing `deadline` block (negative once past), or None."""
    at = _DEADLINE.get()
    return None if at is None else at - time.monotonic()


def _socket_options() -> list[tuple[int, int, int]]:
    """TCP keep-alive probing as the SDK's default client sets it (idle 60 s, every 60 s, 5 probes)."""
    options = [(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)]
    interval = getattr(socket, "TCP_KEEPINTVL", None)
    if interval is not None:
        options.append((socket.IPPROTO_TCP, interval, 60))
    elif sys.platform == "darwin":
        options.append((socket.IPPROTO_TCP, getattr(socket, "TCP_KEEPALIVE", 0x10), 60))
    count = getattr(socket, "TCP_KEEPCNT", None)
    if count is not None:
        options.append((socket.IPPROTO_TCP, count, 5))
    idle = getattr(socket, "TCP_KEEPIDLE", None)
    if idle is not None:
        options.append((socket.IPPROTO_TCP, idle, 60))
    return options


SOCKET_OPTIONS = _socket_options()


def environment_proxy() -> bool:
    """Whether the environment configures a proxy for http or https, as the SDK and httpx2 read it."""
    proxies = urllib.request.getproxies()
    if proxies.get("no", "").strip() == "*":
        return False  # no proxy for any host
    return any(proxies.get(scheme) for scheme in ("http", "https", "all"))


def wanted() -> bool:
    """Whether `build_client` should use `StdlibTransport`: no proxy configured, and not turned off."""
    return os.environ.get(ENV, "").strip().lower() != "httpx" and not environment_proxy()


def _configure(sock: socket.socket) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for level, name, value in SOCKET_OPTIONS:
        try:
            sock.setsockopt(level, name, value)
        except OSError:
            pass


class _Response(http.client.HTTPResponse):
    """Skips informational answers (e.g. 103 Early Hints) as httpx does; `http.client` skips only 100."""

    def _read_status(self) -> tuple[str, int, str]:
        while True:
            version, status, reason = super()._read_status()  # type: ignore[misc]
            if not (100 < status < 200 and status != 101):
                return version, status, reason
            while self.fp.readline(http.client._MAXLINE + 1) not in (b"\r\n", b"\n", b""):  # type: ignore[attr-defined]
                pass  # its header lines


class _HTTPConnection(http.client.HTTPConnection):
    response_class = _Response

    def connect(self) -> None:
        super().connect()
        _configure(self.sock)


class _HTTPSConnection(http.client.HTTPSConnection):
    """TLS that checks the certificate against `server_hostname` (the SDK's `sni_hostname`), not always the host."""

    response_class = _Response

    def __init__(self, host: str, port: int, *, timeout: float | None, context: ssl.SSLContext,
                 server_hostname: str) -> None:  # fmt: skip
        super().__init__(host, port, timeout=timeout, context=context)
        self.server_hostname = server_hostname

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)  # the TCP connection; TLS is wrapped on here
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self.server_hostname)  # type: ignore[attr-defined]
        _configure(self.sock)


def _readable(sock: socket.socket | None) -> bool:
    """True if an idle connection has something to read (the server closed it, or sent junk), or is gone."""
    if sock is None:
        return True
    try:
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


def _message(exc: BaseException, default: str) -> str:
    return str(exc) or default


class _Stale(Exception):
    """The connection failed before any response arrived; `error` is what the socket raised."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


class StdlibTransport(httpx2.BaseTransport):
    """HTTP/1.1 over `http.client`, with a thread-safe keep-alive pool per (scheme, host, port).

    `ssl_context`: for https (default: the context httpx2 builds, which honours `SSL_CERT_FILE` and
    `SSL_CERT_DIR`, made on the first https connection). `max_idle_per_origin`: idle connections kept
    per origin. `keepalive_expiry`: seconds an idle connection may wait before it is closed instead of
    reused. Connections are not limited in number, so the `pool` timeout never applies.
    """

    def __init__(
        self,
        ssl_context: ssl.SSLContext | None = None,
        *,
        max_idle_per_origin: int = MAX_IDLE_PER_ORIGIN,
        keepalive_expiry: float = KEEPALIVE_EXPIRY,
    ) -> None:
        self._ssl_context = ssl_context
        self._ssl_lock = threading.Lock()
        self._max_idle = max_idle_per_origin
        self._keepalive_expiry = keepalive_expiry
        self._lock = threading.Lock()
        self._idle: dict[Origin, list[tuple[http.client.HTTPConnection, float]]] = {}
        self._closed = False

    # --- httpx2.BaseTransport ---------------------------------------------------------------

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        url = request.url
        scheme = url.scheme
        if scheme not in ("http", "https"):
            raise httpx2.UnsupportedProtocol(f"Request URL has an unsupported protocol '{scheme}://'.")
        host = url.raw_host.decode("ascii")
        server_name = request.extensions.get("sni_hostname") or host  # set by the SDK for hosts with "_"
        if isinstance(server_name, bytes):
            server_name = server_name.decode("ascii")
        origin = (scheme, host, url.port or (443 if scheme == "https" else 80), server_name)
        target = url.raw_path.decode("latin-1")
        headers = request.headers.raw
        body = request.read()
        if any(n.lower() == b"transfer-encoding" and b"chunked" in v.lower() for n, v in headers):
            body = (b"%x\r\n%s\r\n" % (len(body), body) if body else b"") + b"0\r\n\r\n"
        timeouts = request.extensions.get("timeout", {})
        left = time_left()
        if left is not None:
            if left <= 0:
                raise httpx2.ConnectTimeout("the time limit has passed")
            timeouts = {k: left if timeouts.get(k) is None else min(timeouts[k], left) for k in _TIMEOUTS}

        for attempt in (1, 2):
            conn, reused = self._checkout(origin, timeouts.get("connect"))
            try:
                response = self._exchange(conn, request.method, target, headers, body, timeouts)
            except _Stale as stale:
                conn.close()
                if reused and attempt == 1:
                    continue
                error = stale.error
                if isinstance(error, http.client.RemoteDisconnected):
                    raise httpx2.RemoteProtocolError("Server disconnected without sending a response.") from error
                raise httpx2.ReadError(_message(error, "connection lost before a response")) from error
            except BaseException:
                conn.close()
                raise
            break

        pairs = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in response.msg.items()]
        bodiless = request.method == "HEAD" or response.status in (204, 304)
        return httpx2.Response(
            status_code=response.status,
            headers=pairs,
            stream=_ResponseStream(self, origin, conn, response, bodiless),
            extensions={
                "http_version": b"HTTP/1.1" if response.version == 11 else b"HTTP/1.0",
                "reason_phrase": response.reason.encode("latin-1"),
            },
        )

    def close(self) -> None:
        """Close every idle connection; connections still streaming are closed when their response is."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for conn, _ in connections:
                conn.close()

    def __del__(self) -> None:
        if getattr(self, "_idle", None):
            self.close()

    # --- connections ------------------------------------------------------------------------

    def _context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            with self._ssl_lock:
                if self._ssl_context is None:
                    context = httpx2.create_ssl_context()
                    context.set_alpn_protocols(["http/1.1"])
                    self._ssl_context = context
        return self._ssl_context

    def _checkout(self, origin: Origin, connect_timeout: float | None) -> tuple[http.client.HTTPConnection, bool]:
        """An idle connection to `origin` that still looks usable, else a new one; and whether it was reused."""
        while True:
            with self._lock:
                idle = self._idle.get(origin)
                if not idle:
                    break
                conn, since = idle.pop()
            if time.monotonic() - since <= self._keepalive_expiry and not _readable(conn.sock):
                return conn, True
            conn.close()
        return self._connect(origin, connect_timeout), False

    def _connect(self, origin: Origin, timeout: float | None) -> http.client.HTTPConnection:
        scheme, host, port, server_name = origin
        conn: http.client.HTTPConnection
        if scheme == "https":
            conn = _HTTPSConnection(host, port, timeout=timeout, context=self._context(), server_hostname=server_name)
        else:
            conn = _HTTPConnection(host, port, timeout=timeout)
        try:
            conn.connect()
        except TimeoutError as exc:
            conn.close()
            raise httpx2.ConnectTimeout(_message(exc, "timed out while connecting")) from exc
        except OSError as exc:
            conn.close()
            raise httpx2.ConnectError(_message(exc, "cannot connect")) from exc
        conn.auto_open = 0  # a dropped connection must fail, not reconnect behind the pool's back
        return conn

    def _release(self, origin: Origin, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if not self._closed:
                idle = self._idle.setdefault(origin, [])
                if len(idle) < self._max_idle:
                    idle.append((conn, time.monotonic()))
                    return
        conn.close()

    # --- one request ------------------------------------------------------------------------

    @staticmethod
    def _exchange(
        conn: http.client.HTTPConnection,
        method: str,
        target: str,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        timeouts: dict[str, float | None],
    ) -> http.client.HTTPResponse:
        """Send the request and read the status line and headers."""
        sock = conn.sock
        try:
            sock.settimeout(timeouts.get("write"))
            conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                conn.putheader(name, value)
            conn.endheaders(body)
        except TimeoutError as exc:
            raise httpx2.WriteTimeout(_message(exc, "timed out while sending the request")) from exc
        except _DISCONNECTED:
            pass  # the server may have answered before closing (e.g. 413): read it, as httpcore does
        except OSError as exc:
            raise httpx2.WriteError(_message(exc, "cannot send the request")) from exc
        except (ValueError, http.client.HTTPException) as exc:
            raise httpx2.LocalProtocolError(_message(exc, "invalid request")) from exc
        try:
            sock.settimeout(timeouts.get("read"))
            return conn.getresponse()
        except TimeoutError as exc:
            raise httpx2.ReadTimeout(_message(exc, "timed out while waiting for the response")) from exc
        except _DISCONNECTED as exc:
            raise _Stale(exc) from exc
        except OSError as exc:
            raise httpx2.ReadError(_message(exc, "cannot read the response")) from exc
        except http.client.HTTPException as exc:
            raise httpx2.RemoteProtocolError(_message(exc, "invalid response")) from exc


class _ResponseStream(httpx2.SyncByteStream):
    """The body as it arrives; closing it returns the connection to the pool if the body was read whole."""

    def __init__(
        self,
        transport: StdlibTransport,
        origin: Origin,
        conn: http.client.HTTPConnection,
        response: http.client.HTTPResponse,
        bodiless: bool = False,
    ) -> None:
        self._transport = transport
        self._bodiless = bodiless  # HEAD, 204, 304: nothing follows the headers, whatever they say
        self._origin = origin
        self._conn = conn
        self._response = response
        self._complete = False
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        response = self._response
        if self._bodiless:
            self._complete = True
            return
        try:
            while True:
                chunk = response.read1(READ_SIZE)
                if not chunk:
                    break
                yield chunk
        except TimeoutError as exc:
            raise httpx2.ReadTimeout(_message(exc, "timed out while reading the response")) from exc
        except http.client.IncompleteRead as exc:
            raise httpx2.RemoteProtocolError(_INCOMPLETE_BODY) from exc
        except http.client.HTTPException as exc:
            raise httpx2.RemoteProtocolError(_message(exc, "invalid response body")) from exc
        except OSError as exc:
            raise httpx2.ReadError(_message(exc, "cannot read the response body")) from exc
        if response.length:  # a Content-Length body cut short: http.client just stops
            raise httpx2.RemoteProtocolError(_INCOMPLETE_BODY)
        self._complete = True

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        reusable = self._complete and not self._response.will_close
        self._response.close()
        if reusable:
            self._transport._release(self._origin, self._conn)
        else:
            self._conn.close()
