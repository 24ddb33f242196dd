"""The `Model` over the Messages API: the SDK sends the request, `reply.py` reads the streamed reply.

The body goes to the SDK already encoded (see requestbody.py), through its generic `post`: retries
of 429/5xx (honouring `retry-after`), auth, headers and errors stay the SDK's. Asking for an SSE
`Stream` hands back the HTTP response unread, and `read_streamed_reply` reads its raw bytes. With
a deadline, no wait for the server outlasts it: each socket wait is bounded by the time left, the
SDK's retries end at it (`transport.deadline`), and the reply stops being read when it passes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import anthropic
import httpx2

from ..api.connection import Connection
from ..api.errors import describe_api_error
from ..api.transport import TimeLimitReached, waits
from ..api.transport import deadline as time_limit
from ..tool.versions import ResolvedModel
from .model import DeadlinePassed, ReplyBrokeOff, ReplyFailed
from .reply import MalformedReply, ReplyTimeout, StreamError, read_streamed_reply


def _within(timeout: Any, left: float) -> float | httpx2.Timeout:
    """The client's timeout with every wait cut to at most `left` seconds."""
    if isinstance(timeout, httpx2.Timeout):
        waits = (timeout.connect, timeout.read, timeout.write, timeout.pool)
        cut = [left if wait is None else min(wait, left) for wait in waits]
        return httpx2.Timeout(connect=cut[0], read=cut[1], write=cut[2], pool=cut[3])
    return min(timeout, left) if isinstance(timeout, (int, float)) else left


class SDKModel:
    """Asks the model behind `client`; `resolved` and `tool_type` only go into the texts of API errors."""

    def __init__(
        self,
        client: anthropic.Anthropic,
        connection: Connection,
        resolved: ResolvedModel,
        tool_type: str = "",
        on_wait: Callable[[float, str], None] | None = None,
    ) -> None:
        self.client, self.connection, self.resolved = client, connection, resolved
        self.tool_type = tool_type or resolved.tool.type
        self.on_wait = on_wait  # hears of each wait before the SDK retries: a person is told, not left guessing

    def reply(
        self, body: bytes, headers: dict[str, str], *, deadline: float | None, on_text: Callable[[str], None]
    ) -> dict[str, Any]:
        options: anthropic.RequestOptions = {"headers": headers}
        if deadline is not None:
            options["timeout"] = _within(self.client.timeout, deadline - time.monotonic())
        streaming = False
        try:
            with time_limit(deadline), waits(self.on_wait):
                stream = self.client.post(
                    "/v1/messages", cast_to=object, content=body, options=options,
                    stream=True, stream_cls=anthropic.Stream[object],
                )  # fmt: skip
                try:
                    streaming = True  # from here on a lost connection is a broken-off reply; before, the SDK retried
                    kind = stream.response.headers.get("content-type", "")
                    if kind.startswith("application/json"):  # a whole message: the server ignored `stream`
                        raise MalformedReply(f"it came as {kind}, not as the event stream asked for")
                    return read_streamed_reply(stream.response.iter_bytes(), on_text, deadline=deadline)
                finally:
                    stream.close()
        except ReplyTimeout:
            raise DeadlinePassed(" (a reply was still arriving)") from None
        except TimeLimitReached:
            raise DeadlinePassed(" (waiting to retry the request)") from None
        except (anthropic.APIConnectionError, httpx2.TransportError, StreamError) as error:
            if deadline is not None and time.monotonic() >= deadline:
                raise DeadlinePassed(" (waiting for the server)") from None
            if isinstance(error, MalformedReply):
                base = self.connection.effective_base_url
                raise ReplyFailed(f"{base} sent a malformed reply: {error.detail}") from None
            if isinstance(error, StreamError) and not error.transient:
                raise ReplyFailed(f"the API reported an error mid-reply: {error}") from None
            if isinstance(error, anthropic.APITimeoutError) or (
                not streaming and isinstance(error, anthropic.APIConnectionError)
            ):
                raise ReplyFailed(self._describe(error)) from None
            raise ReplyBrokeOff(error) from None
        except anthropic.APIError as error:
            raise ReplyFailed(self._describe(error)) from None

    def _describe(self, error: Exception) -> str:
        return describe_api_error(
            error, connection=self.connection, model=self.resolved.model,
            family=self.resolved.family, tool_type=self.tool_type,
        )  # fmt: skip
