"""The SDK client for a `Connection`: auth header style, endpoint path, headers, retries, HTTP transport."""

from __future__ import annotations

from typing import Any

import anthropic
from anthropic import Omit

from .connection import DEFAULT_PATH, Connection
from .httptransport import StdlibTransport, wanted


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
    (see `httptransport`); retries, timeouts and errors stay the SDK's either way.
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
    return anthropic.Anthropic(
        api_key=secret,
        base_url=connection.effective_base_url,
        default_headers=headers,
        max_retries=connection.max_retries,
        timeout=connection.timeout,
        middleware=middleware,
        http_client=http_client,
    )
