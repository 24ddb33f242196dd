"""`StdlibTransport`, the `http.client` transport `build_client` gives the SDK, over real sockets.

The local Messages API server covers whole replies, TLS and dropped streams; small raw socket servers
cover what it cannot do on purpose: pause mid-stream, close idle connections, never answer, record the
exact bytes of a request.
"""

from __future__ import annotations

import gzip
import json
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

import anthropic
import httpx2
import pytest
import trustme

from editor_agent.api.client import build_client
from editor_agent.api.connection import Connection
from editor_agent.api.transport import ENV, StdlibTransport
from editor_agent.testing import MessagesServer, Script
from editor_agent.testing.sse import encode, message_events

KEY = "test-key"
MODEL = "claude-sonnet-4-6"
ASK: dict[str, Any] = {"model": MODEL, "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}
API_HEADERS = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
PROXY_VARS = ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL", ENV):
        monkeypatch.delenv(name, raising=False)
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def script(*texts: str, **fault: Any) -> Script:
    turns: list[dict[str, Any]] = [fault] if fault else []
    turns += [{"content": [{"type": "text", "text": value}]} for value in texts]
    return Script.model_validate({"turns": turns})


def sdk(base_url: str, **options: Any) -> anthropic.Anthropic:
    options.setdefault("max_retries", 0)
    return build_client(Connection(base_url=base_url, api_key=KEY, **options))


def transport_of(client: anthropic.Anthropic) -> object:
    return client._client._transport


def http(transport: StdlibTransport | None = None, timeout: float = 10.0) -> httpx2.Client:
    return httpx2.Client(transport=transport or StdlibTransport(), timeout=timeout)


# --- a raw socket server ----------------------------------------------------------------------


class RawServer:
    """Runs `serve(reader, connection, index)` on its own thread for each connection accepted.

    `connections` counts them; `requests` keeps every request read with `read_request`, whole.
    """

    def __init__(self, serve: Callable[[RawServer, BinaryIO, socket.socket, int], None]) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections = 0
        self.requests: list[tuple[bytes, bytes]] = []
        self.release = threading.Event()  # servers that hold a connection wait on this
        self._serve = serve
        self._stopping = threading.Event()
        self._accepting = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> RawServer:
        self._accepting.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release.set()
        self._stopping.set()
        self._accepting.join()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            conn.settimeout(None)
            index, self.connections = self.connections, self.connections + 1
            threading.Thread(target=self._run, args=(conn, index), daemon=True).start()

    def _run(self, conn: socket.socket, index: int) -> None:
        with conn, conn.makefile("rb") as reader:
            try:
                self._serve(self, reader, conn, index)
            except OSError:
                pass

    def read_request(self, reader: BinaryIO) -> tuple[bytes, bytes] | None:
        """The head (request line and headers) and the body of the next request; None at end of stream."""
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            line = reader.readline()
            if not line:
                return None
            head += line
        fields = dict(line.split(b": ", 1) for line in head.split(b"\r\n")[1:-2])
        fields = {name.lower(): value for name, value in fields.items()}
        if fields.get(b"transfer-encoding") == b"chunked":
            body = b""
            while size := int(reader.readline().strip(), 16):
                body += reader.read(size)
                reader.readline()
            reader.readline()
        else:
            body = reader.read(int(fields.get(b"content-length", b"0")))
        self.requests.append((head, body))
        return head, body


def respond(conn: socket.socket, body: bytes = b"ok", *headers: bytes) -> None:
    extra = b"".join(h + b"\r\n" for h in headers)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body))


def keep_alive(server: RawServer, reader: BinaryIO, conn: socket.socket, index: int) -> None:
    while server.read_request(reader) is not None:
        respond(conn, b"ok %d" % index)


# --- 1. streamed replies ----------------------------------------------------------------------


def sse_message(text: str) -> list[bytes]:
    usage = {"input_tokens": 3, "output_tokens": 5}
    message = {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": usage,
    }
    return [encode(event) for event in message_events(message)]


def test_a_streamed_reply_comes_whole_through_build_client() -> None:
    reply = "A reply long enough to be streamed as a good number of text deltas."
    with MessagesServer(script(reply, "again"), api_key=KEY) as server:
        client = sdk(server.url)
        assert isinstance(transport_of(client), StdlibTransport)
        with client.messages.stream(**ASK) as stream:
            assert stream.get_final_message().content[0].text == reply
        assert client.messages.create(**ASK).content[0].text == "again"
        assert server.violations == [] and [r.status for r in server.requests] == [200, 200]


def test_events_are_delivered_as_they_arrive_not_when_a_buffer_fills() -> None:
    events = sse_message("First the start, then the rest once the client has seen it.")
    first_seen = threading.Event()
    waited: list[bool] = []

    def serve(server: RawServer, reader: BinaryIO, conn: socket.socket, index: int) -> None:
        server.read_request(reader)
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
        conn.sendall(head + b"%x\r\n%s\r\n" % (len(events[0]), events[0]))
        waited.append(first_seen.wait(5))
        for event in events[1:]:
            conn.sendall(b"%x\r\n%s\r\n" % (len(event), event))
        conn.sendall(b"0\r\n\r\n")
        server.read_request(reader)

    with RawServer(serve) as server:
        seen = []
        with sdk(server.url).messages.stream(**ASK) as stream:
            for event in stream:
                seen.append(event.type)
                first_seen.set()
            final = stream.get_final_message()
    assert waited == [True]  # the client had the first event before the second was written
    assert seen[0] == "message_start" and seen[-1] == "message_stop"
    assert final.content[0].text == "First the start, then the rest once the client has seen it."


# --- 2. keep-alive ----------------------------------------------------------------------------


def test_sequential_requests_share_one_connection() -> None:
    with RawServer(keep_alive) as server, http() as client:
        assert [client.get(server.url + f"/{i}").text for i in range(3)] == ["ok 0"] * 3
    assert server.connections == 1 and len(server.requests) == 3


def test_the_sdk_keeps_its_connection_between_turns() -> None:
    with MessagesServer(script("one", "two", "three"), api_key=KEY) as server:
        client = sdk(server.url)
        transport = transport_of(client)
        assert isinstance(transport, StdlibTransport)
        for expected in ("one", "two"):
            with client.messages.stream(**ASK) as stream:
                assert stream.get_final_message().content[0].text == expected
        pooled = [conn for idle in transport._idle.values() for conn, _ in idle]
        assert len(pooled) == 1
        assert client.messages.create(**ASK).content[0].text == "three"
        assert [conn for idle in transport._idle.values() for conn, _ in idle] == pooled


def test_a_connection_the_server_closed_while_idle_is_not_reused() -> None:
    closed = threading.Event()

    def serve(server: RawServer, reader: BinaryIO, conn: socket.socket, index: int) -> None:
        server.read_request(reader)
        respond(conn, b"ok %d" % index)
        if index == 0:
            conn.shutdown(socket.SHUT_WR)  # closed for the client, but a request sent anyway would be seen
            closed.set()
            server.read_request(reader)

    transport = StdlibTransport()
    with RawServer(serve) as server, http(transport) as client:
        assert client.get(server.url).text == "ok 0"
        assert closed.wait(5)
        [(idle, _)] = [entry for entries in transport._idle.values() for entry in entries]
        assert select.select([idle.sock], [], [], 5)[0]  # the server's FIN has reached the client
        assert client.get(server.url).text == "ok 1"
    assert server.connections == 2 and len(server.requests) == 2  # noticed before sending: nothing sent twice


def test_a_reused_connection_lost_before_the_answer_is_retried_once_on_a_fresh_one() -> None:
    def serve(server: RawServer, reader: BinaryIO, conn: socket.socket, index: int) -> None:
        server.read_request(reader)
        respond(conn, b"ok %d" % index)
        if index == 0:
            server.read_request(reader)  # the second request: hang up without answering
            conn.shutdown(socket.SHUT_RDWR)

    with RawServer(serve) as server, http() as client:
        assert client.get(server.url).text == "ok 0"
        assert client.get(server.url).text == "ok 1"
    assert server.connections == 2 and len(server.requests) == 3


def test_a_fresh_connection_lost_before_the_answer_is_an_error_not_a_retry() -> None:
    def serve(server: RawServer, reader: BinaryIO, conn: socket.socket, index: int) -> None:
        server.read_request(reader)
        conn.shutdown(socket.SHUT_RDWR)

    with RawServer(serve) as server, http() as client:
        with pytest.raises(httpx2.RemoteProtocolError, match="without sending a response") as caught:
            client.get(server.url)
    assert isinstance(caught.value.__cause__, ConnectionError)
    assert server.connections == 1 and len(server.requests) == 1


def test_an_unfinished_body_closes_its_connection_and_idle_ones_are_capped() -> None:
    with RawServer(keep_alive) as server:
        transport = StdlibTransport(max_idle_per_origin=2)
        with http(transport) as client:
            with client.stream("GET", server.url) as response:
                pass  # closed without reading the body
            assert transport._idle == {}
            responses = [client.send(client.build_request("GET", server.url), stream=True) for _ in range(4)]
            for response in responses:
                response.read()
                response.close()
            assert sum(len(idle) for idle in transport._idle.values()) == 2
        assert transport._idle == {}


# --- 3. timeouts and connection failures --------------------------------------------------------


def hold(server: RawServer, reader: BinaryIO, conn: socket.socket, index: int) -> None:
    server.read_request(reader)
    server.release.wait(10)


def closed_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return int(sock.getsockname()[1])


def test_a_server_that_never_answers_is_a_read_timeout() -> None:
    with RawServer(hold) as server, http(timeout=0.3) as client:
        started = time.monotonic()
        with pytest.raises(httpx2.ReadTimeout) as caught:
            client.get(server.url)
        assert 0.25 < time.monotonic() - started < 3
        assert isinstance(caught.value.__cause__, TimeoutError)


def test_through_the_sdk_a_silent_server_is_an_api_timeout() -> None:
    with RawServer(hold) as server:
        with pytest.raises(anthropic.APITimeoutError):
            sdk(server.url, timeout=0.3).messages.create(**ASK)
    assert len(server.requests) == 1


def test_a_closed_port_is_a_connect_error() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    with http() as client, pytest.raises(httpx2.ConnectError) as caught:
        client.get(url)
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)
    with pytest.raises(anthropic.APIConnectionError) as error:
        sdk(url).messages.create(**ASK)
    assert not isinstance(error.value, anthropic.APITimeoutError)


def test_a_tls_handshake_that_never_completes_is_a_connect_timeout() -> None:
    def silent(server: RawServer, reader: BinaryIO, conn: socket.socket, index: int) -> None:
        server.release.wait(10)

    with RawServer(silent) as server:
        transport = StdlibTransport(ssl_context=ssl.create_default_context())
        with http(transport, timeout=0.3) as client, pytest.raises(httpx2.ConnectTimeout):
            client.get(f"https://127.0.0.1:{server.port}/")


def test_write_timeout_applies_while_sending() -> None:
    def stall(server: RawServer, reader: BinaryIO, conn: socket.socket, index: int) -> None:
        server.release.wait(10)  # never reads, so the client's send buffer fills

    with RawServer(stall) as server, http(timeout=httpx2.Timeout(10, write=0.3)) as client:
        with pytest.raises(httpx2.WriteTimeout):
            client.post(server.url, content=b"x" * (64 << 20))


# --- 4. a connection cut mid-body ----------------------------------------------------------------


def test_a_stream_cut_mid_way_raises_from_iterating_the_body() -> None:
    reply = "A reply long enough to need a good number of text deltas on the wire."
    with MessagesServer(script(reply, fault="drop", after_events=4), api_key=KEY) as server, http() as client:
        received = b""
        payload = {**ASK, "stream": True}
        with pytest.raises((httpx2.RemoteProtocolError, httpx2.ReadError)) as caught:
            with client.stream("POST", server.endpoint, json=payload, headers=API_HEADERS) as response:
                assert response.status_code == 200
                for chunk in response.iter_raw():
                    received += chunk
        assert caught.value.__cause__ is not None
        assert received.startswith(b"event: message_start") and b"message_stop" not in received
        with sdk(server.url).messages.stream(**ASK) as stream:
            assert stream.get_final_message().content[0].text == reply


def test_a_body_shorter_than_its_content_length_is_a_protocol_error() -> None:
    def short(server: RawServer, reader: BinaryIO, conn: socket.socket, index: int) -> None:
        server.read_request(reader)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b")
        conn.shutdown(socket.SHUT_RDWR)

    with RawServer(short) as server, http() as client:
        with pytest.raises(httpx2.RemoteProtocolError, match="complete message body"):
            client.get(server.url)


# --- 5. TLS -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def tls_server(ca: trustme.CA, *texts: str) -> MessagesServer:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return MessagesServer(script(*texts), api_key=KEY, ssl_context=context)


def test_https_works_with_a_context_that_trusts_the_server(ca: trustme.CA) -> None:
    trusted = ssl.create_default_context()
    ca.configure_trust(trusted)
    with tls_server(ca, "over TLS", "streamed over TLS") as server:
        assert server.url.startswith("https://127.0.0.1:")
        http_client = anthropic.DefaultHttpxClient(transport=StdlibTransport(ssl_context=trusted))
        client = anthropic.Anthropic(api_key=KEY, base_url=server.url, max_retries=0, http_client=http_client)
        assert client.messages.create(**ASK).content[0].text == "over TLS"
        with client.messages.stream(**ASK) as stream:
            assert stream.get_final_message().content[0].text == "streamed over TLS"
        assert server.violations == []


def test_the_default_context_honours_ssl_cert_file(
    ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    with tls_server(ca, "trusted from SSL_CERT_FILE") as server:
        client = sdk(server.url)
        assert isinstance(transport_of(client), StdlibTransport)
        assert client.messages.create(**ASK).content[0].text == "trusted from SSL_CERT_FILE"


def test_an_untrusted_certificate_is_a_connect_error_before_anything_is_sent(
    ca: trustme.CA, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with tls_server(ca, "never") as server, http() as client:
        with pytest.raises(httpx2.ConnectError, match="CERTIFICATE_VERIFY_FAILED") as caught:
            client.post(server.endpoint, json=ASK, headers=API_HEADERS)
        assert isinstance(caught.value.__cause__, ssl.SSLCertVerificationError)
        with pytest.raises(anthropic.APIConnectionError):
            sdk(server.url).messages.create(**ASK)
        assert server.requests == [] and server.remaining == 1


# --- 6. when build_client leaves the SDK's own transport ----------------------------------------


@pytest.mark.parametrize("name", ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "ALL_PROXY"])
def test_a_proxy_in_the_environment_keeps_the_sdk_transport(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name, "http://127.0.0.1:3128")
    client = sdk("https://api.example.com")
    assert isinstance(transport_of(client), httpx2.HTTPTransport)
    assert any(mount is not None for mount in client._client._mounts.values())


def test_no_proxy_alone_does_not_count_as_a_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "localhost")
    assert isinstance(transport_of(sdk("https://api.example.com")), StdlibTransport)


def test_editor_agent_http_httpx_keeps_the_sdk_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "httpx")
    with MessagesServer(script("via httpx"), api_key=KEY) as server:
        client = sdk(server.url)
        assert isinstance(transport_of(client), httpx2.HTTPTransport)
        assert client.messages.create(**ASK).content[0].text == "via httpx"


def test_build_client_keeps_the_connection_timeout_and_retries() -> None:
    with MessagesServer(script("second try", fault="overloaded"), api_key=KEY) as server:
        client = sdk(server.url, timeout=42.0, max_retries=1)
        assert client.timeout == 42.0 and client.max_retries == 1
        assert client.messages.create(**ASK).content[0].text == "second try"
        assert [r.status for r in server.requests] == [529, 200]


# --- 7. threads ---------------------------------------------------------------------------------


def test_one_transport_serves_many_threads() -> None:
    with RawServer(keep_alive) as server, http() as client:

        def requests(worker: int) -> list[str]:
            return [client.get(f"{server.url}/{worker}/{i}").text for i in range(10)]

        with ThreadPoolExecutor(8) as pool:
            results = [text for texts in pool.map(requests, range(8)) for text in texts]
    assert len(results) == 80 and all(text.startswith("ok ") for text in results)
    assert len(server.requests) == 80 and server.connections <= 8


def test_many_threads_through_the_sdk() -> None:
    with MessagesServer(responder=lambda body: {"content": [{"type": "text", "text": "same"}]}, api_key=KEY) as server:
        client = sdk(server.url)

        def ask(_: int) -> str:
            return str(client.messages.create(**ASK).content[0].text)

        with ThreadPoolExecutor(8) as pool:
            assert list(pool.map(ask, range(40))) == ["same"] * 40
        assert server.violations == []


# --- 8. bytes on the wire -----------------------------------------------------------------------


def header_lines(head: bytes) -> list[tuple[bytes, bytes]]:
    lines = head.split(b"\r\n")[1:-2]
    return [(name.lower(), value) for name, value in (line.split(b": ", 1) for line in lines)]


def test_request_line_headers_and_body_arrive_byte_exact() -> None:
    body = bytes(range(256)) * 40 + "é ✓".encode()
    with RawServer(keep_alive) as server, http() as client:
        sent = client.post(
            server.url + "/v1/messages?beta=true&q=a%20b",
            content=body,
            headers={"X-Custom": "one", "anthropic-beta": "a,b"},
        )
        assert sent.text == "ok 0"
    head, received = server.requests[0]
    assert head.split(b"\r\n")[0] == b"POST /v1/messages?beta=true&q=a%20b HTTP/1.1"
    assert received == body
    fields = header_lines(head)
    names = [name for name, _ in fields]
    assert len(names) == len(set(names))  # each header exactly once
    assert dict(fields)[b"host"] == b"127.0.0.1:%d" % server.port
    assert dict(fields)[b"content-length"] == str(len(body)).encode()
    assert dict(fields)[b"x-custom"] == b"one" and dict(fields)[b"anthropic-beta"] == b"a,b"
    assert sorted(names) == sorted(name.lower() for name, _ in sent.request.headers.raw)


def test_a_body_of_unknown_length_is_sent_chunked() -> None:
    def pieces() -> Iterator[bytes]:
        yield b"first,"
        yield b"second"

    with RawServer(keep_alive) as server, http() as client:
        assert client.post(server.url, content=pieces()).text == "ok 0"
        assert client.get(server.url).text == "ok 0"  # the connection is still in step
    head, received = server.requests[0]
    assert received == b"first,second" and (b"transfer-encoding", b"chunked") in header_lines(head)


def test_the_sdk_request_arrives_as_json_with_its_headers_once() -> None:
    with RawServer(hold) as server:
        with pytest.raises(anthropic.APITimeoutError):
            sdk(server.url, timeout=0.3).messages.create(**ASK)
    head, received = server.requests[0]
    names = [name for name, _ in header_lines(head)]
    assert len(names) == len(set(names)) and b"anthropic-version" in names
    assert json.loads(received) == ASK


def test_the_response_is_passed_on_raw_and_httpx_decodes_it() -> None:
    packed = gzip.compress(b"decoded by httpx")

    def serve(server: RawServer, reader: BinaryIO, conn: socket.socket, index: int) -> None:
        server.read_request(reader)
        respond(conn, packed, b"Content-Encoding: gzip", b"X-Twice: a", b"X-Twice: b")

    with RawServer(serve) as server, http() as client:
        response = client.get(server.url)
    assert response.content == b"decoded by httpx" and response.headers.get_list("x-twice") == ["a", "b"]
    assert response.http_version == "HTTP/1.1" and response.reason_phrase == "OK"
    assert response.headers["content-length"] == str(len(packed))


def test_a_host_with_an_underscore_is_checked_against_the_name_the_sdk_gives(
    ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SDK asks for `corp-gateway` where the host is `corp_gateway` (httpx discussion 2880)."""
    resolve = socket.getaddrinfo
    monkeypatch.setattr(
        socket, "getaddrinfo", lambda host, *a, **k: resolve("127.0.0.1" if host.endswith(".test") else host, *a, **k)
    )
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("*.example.test").configure_cert(context)
    with MessagesServer(script("through a wildcard"), api_key=KEY, ssl_context=context) as server:
        client = sdk(f"https://corp_gateway.example.test:{server.url.rsplit(':', 1)[1]}")
        assert isinstance(transport_of(client), StdlibTransport)
        reply = client.messages.create(model=MODEL, max_tokens=8, messages=[{"role": "user", "content": "hi"}])
    assert reply.content[0].text == "through a wildcard"  # type: ignore[union-attr]


def test_informational_answers_are_skipped() -> None:
    def early_hints(server: RawServer, reader: BinaryIO, conn: socket.socket, index: int) -> None:
        while server.read_request(reader) is not None:
            conn.sendall(b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n")
            respond(conn, b"after the hints")

    with RawServer(early_hints) as server, http() as client:
        for _ in range(2):  # and the connection stays usable
            response = client.get(server.url)
            assert (response.status_code, response.content) == (200, b"after the hints")
        assert server.connections == 1


@pytest.mark.parametrize("status", [b"204 No Content", b"304 Not Modified"])
def test_answers_without_a_body_do_not_wait_for_one(status: bytes) -> None:
    def bodiless(server: RawServer, reader: BinaryIO, conn: socket.socket, index: int) -> None:
        while server.read_request(reader) is not None:
            conn.sendall(b"HTTP/1.1 " + status + b"\r\nTransfer-Encoding: chunked\r\n\r\n")

    with RawServer(bodiless) as server, http(timeout=5) as client:
        began = time.monotonic()
        response = client.get(server.url)
        assert response.content == b"" and time.monotonic() - began < 2
        assert client.get(server.url).status_code == int(status[:3])
        assert server.connections == 1


@pytest.mark.parametrize(
    ("variables", "proxied"),
    [({"FTP_PROXY": "http://p:1"}, False), ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "*"}, False),
     ({"ALL_PROXY": "http://p:1"}, True)],
)  # fmt: skip
def test_only_http_proxies_turn_the_transport_off(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], proxied: bool
) -> None:
    monkeypatch.delenv("FTP_PROXY", raising=False)
    monkeypatch.delenv("ftp_proxy", raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert isinstance(transport_of(sdk("http://127.0.0.1:9")), StdlibTransport) is not proxied
