"""The SDK client for a `Connection`: auth header style, endpoint path, headers, retries, HTTP transport."""

from __future__ import annotations

import time
from typing import Any

import anthropic
from anthropic import Omit

from .connection import DEFAULT_PATH, Connection
from .transport import StdlibTransport, TimeLimitReached, announce_wait, time_left, wanted

MAX_RETRY_WAIT = 60.0
"""The longest wait before a retry, whatever `retry-after` a server asks for (the SDK would wait days)."""


class _Anthropic(anthropic.Anthropic):
    """The SDK's client; a wait before a retry lasts at most `MAX_RETRY_WAIT`, and never past a run's deadline.

    The SDK has no public setting for that wait: this overrides its `_calculate_retry_timeout`, the one
    private name the package relies on (tests/agent/test_hostile_server.py fails if the SDK renames it).

    A retry that could not start before the deadline (`transport.deadline`) is not made: the wait ends
    at the deadline with `TimeLimitReached`.
    """

    def _calculate_retry_timeout(self, remaining_retries: int, options: Any, response_headers: Any = None) -> float:
        wait = min(super()._calculate_retry_timeout(remaining_retries, options, response_headers), MAX_RETRY_WAIT)
        left = time_left()
        if left is not None and wait >= left:
            announce_wait(max(0.0, left), "the server asked to wait past the time limit")
            time.sleep(max(0.0, left))
            raise TimeLimitReached("the time limit came before the request could be retried")
        asked = response_headers is not None and (
            "retry-after" in response_headers or "retry-after-ms" in response_headers
        )
        announce_wait(wait, "the server asked to wait (retry-after)" if asked else "the server did not answer in full")
        return wait


class _EndpointPath(anthropic.Middleware):
    """Send Messages API calls to a gateway's own path (e.g. `/messages` without `/v1`)."""

    def __init__(self, path: str) -> None:
        self.path = "/" + path.strip("/")

    def handle(self, request: Any, call_next: Any) -> Any:
        url = request.url
        if url.startswith(DEFAULT_PATH):
            request = request.copy(url=self.path + url[len(DEFAULT_PATH) :])
        return call_next(request)


def build_client(connection: Connection) -> anthropic.Anthropic:
    """An SDK client configured for the connection; only the SDK ever holds the credential.

    Its HTTP goes through `StdlibTransport` unless a proxy is configured or `EDITOR_AGENT_HTTP=httpx`
    (see `transport`); retries, timeouts and errors stay the SDK's either way.
    """
    _, secret = connection.credential()
    headers: dict[str, Any] = dict(connection.headers)
    if connection.anthropic_version:
        headers["anthropic-version"] = connection.anthropic_version
    if connection.auth == "x-api-key":
        headers["x-api-key"] = secret
        headers["Authorization"] = Omit()
    middleware = [] if connection.messages_path == DEFAULT_PATH else [_EndpointPath(connection.messages_path)]
    http_client = anthropic.DefaultHttpxClient(transport=StdlibTransport()) if wanted() else None
    return _Anthropic(
        api_key=secret,
        base_url=connection.effective_base_url,
        default_headers=headers,
        max_retries=connection.max_retries,
        timeout=connection.timeout,
        middleware=middleware,
        http_client=http_client,
    )
