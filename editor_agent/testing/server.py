"""A local HTTP server that speaks the Anthropic Messages API from a script, for tests and offline runs.

It answers `POST {path}` with the next scripted entry (a reply, or a fault such as a 429 or a dropped
stream) and `POST {path}/count_tokens` with an estimate. Every request is validated as strictly as the
real API would, and checked against the replies the server already gave; each problem is answered with
the API's 400 and kept in `violations`, so a test of an agent loop can assert there were none.

The real `anthropic` client talks to it unchanged: `Anthropic(api_key=..., base_url=server.url)`.
"""

from __future__ import annotations

import hmac
import json
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import TypeAdapter

from .ledger import Ledger
from .ratelimit import RateLimiter
from .replies import IdMaker, content_blocks, message_body, usage_body
from .script import Entry, Fault, Script, TextBlock, Turn
from .sse import encode, message_events
from .transport import Exchange, Handler, HTTPServer, RecordedRequest
from .usage import PromptCache, UsageTotals, output_tokens, prompt_segments
from .validate import Rules, first_problem

AuthMode = Literal["x-api-key", "bearer", "any"]
Responder = Callable[[dict[str, Any]], Turn | Fault | dict[str, Any] | None]
"""Given a valid request body, the entry that answers it: a `Turn`, a `Fault`, or either as a dict."""
_ENTRY: TypeAdapter[Turn | Fault] = TypeAdapter(Entry)
REDACTED = "<redacted>"
_SECRET_HEADERS = {"x-api-key", "authorization", "proxy-authorization"}
_FAULT_REPLIES = {
    "rate_limit": (
        429,
        "rate_limit_error",
        "This request would exceed your organization's rate limit. Please try again later.",
    ),
    "overloaded": (529, "overloaded_error", "Overloaded"),
    "server_error": (500, "api_error", "Internal server error"),
}


class MessagesServer:
    """The local Messages API. Use as a context manager; `url` is the `base_url` for the SDK.

    `api_key`: the credential to accept (None: any value, but one must be sent). `auth`: where it must be:
    the `x-api-key` header, `Authorization: Bearer`, or either ("any"; with both, `x-api-key` counts, as
    at the API). `path`: the messages endpoint (`/messages` for a gateway without `/v1`). `accept_tools`:
    text editor tool types every model accepts (default: the one `tools.yaml` gives the model).
    `require_version`: the only `anthropic-version` accepted. `min_cache_tokens`: the shortest cacheable
    prefix. `rate_limit_per_minute`: answer 429 above this many messages requests per minute.

    `responder`: replies that depend on the request, for many concurrent conversations (a batch): it is
    called with each valid messages request body and returns the entry that answers it, used instead of
    the script. It runs on the request's own thread, so it may sleep or wait; a `slow` fault it returns
    waits `seconds` and asks it again; an exception or `None` answers 500 and counts as a violation.

    `ssl_context`: serve HTTPS with this server-side context (its certificate must name `host`); `url`
    and `origin` then start with `https://`.
    """

    def __init__(
        self,
        script: Script | None = None,
        *,
        responder: Responder | None = None,
        api_key: str | None = "test-key",
        auth: AuthMode = "any",
        path: str = "/v1/messages",
        host: str = "127.0.0.1",
        port: int = 0,
        accept_tools: Iterable[str] | None = None,
        require_version: str | None = None,
        min_cache_tokens: int = 1024,
        rate_limit_per_minute: int | None = None,
        seed: int = 0,
        clock: Callable[[], float] = time.monotonic,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if auth not in ("x-api-key", "bearer", "any"):
            raise ValueError(f"auth must be 'x-api-key', 'bearer' or 'any', not {auth!r}")
        self.api_key = api_key
        self.auth: AuthMode = auth
        self.path = "/" + path.strip("/")
        if script is not None and script.turns and responder is not None:
            raise ValueError("give either a script with turns or a responder, not both")
        self._entries: deque[Turn | Fault] = deque(script.turns if script is not None else [])
        self._responder = responder
        self._rules = Rules(frozenset(accept_tools) if accept_tools is not None else None, require_version)
        self._cache = PromptCache(min_cache_tokens)
        self._limiter = RateLimiter(rate_limit_per_minute, clock) if rate_limit_per_minute else None
        self._ids = IdMaker(seed)
        self._ledger = Ledger()
        self._requests: list[RecordedRequest] = []
        self._violations: list[str] = []
        self._usage = UsageTotals()
        self._lock = threading.Lock()
        self._httpd = HTTPServer((host, port), self._serve, ssl_context)
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> MessagesServer:
        if self._thread is None:
            serve = self._httpd.serve_forever
            self._thread = threading.Thread(target=serve, args=(0.02,), name="messages-server", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every open connection (keep-alive ones included)."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.close_all()
        self._httpd.server_close()

    def __enter__(self) -> MessagesServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- what tests read ------------------------------------------------------------------

    @property
    def origin(self) -> str:
        host, port = self._httpd.server_address[:2]
        scheme = "http" if self._httpd.ssl_context is None else "https"
        return f"{scheme}://{host!s}:{port}"

    @property
    def url(self) -> str:
        """The SDK's `base_url`: the origin, plus any prefix before `/v1/messages` in `path`."""
        prefix = self.path[: -len("/v1/messages")] if self.path.endswith("/v1/messages") else ""
        return self.origin + prefix

    @property
    def endpoint(self) -> str:
        """The full URL of the messages endpoint."""
        return self.origin + self.path

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [replace(r) for r in self._requests]

    @property
    def violations(self) -> list[str]:
        with self._lock:
            return list(self._violations)

    @property
    def usage(self) -> UsageTotals:
        with self._lock:
            return replace(self._usage)

    @property
    def remaining(self) -> int:
        """Script entries not used yet."""
        with self._lock:
            return len(self._entries)

    # --- serving --------------------------------------------------------------------------

    def _serve(self, handler: Handler) -> None:
        started = handler.started or time.perf_counter()
        length = handler.headers.get("content-length", "0")
        raw = handler.rfile.read(int(length)) if length.isdigit() else b""
        headers = {name.lower(): value for name, value in handler.headers.items()}
        try:
            body: Any = json.loads(raw) if raw else None
            parsed = True
        except ValueError:
            body, parsed = raw.decode("utf-8", "replace"), False
        shown = {k: (REDACTED if k in _SECRET_HEADERS else v) for k, v in headers.items()}
        record = RecordedRequest(handler.command, urlsplit(handler.path).path, shown, body, received=started)
        with self._lock:
            self._requests.append(record)
        exchange = Exchange(handler, record, self._ids.request())
        try:
            self._dispatch(exchange, headers, body, parsed)
        except Exception as exc:  # a bug here must show up in the test, not as a silent hang-up
            self._violate(f"test server error: {exc!r}")
            if record.status == 0:
                exchange.error(500, f"test server error: {exc!r}", "api_error", {"x-should-retry": "false"})
            else:
                exchange.abort()
        finally:
            record.seconds = time.perf_counter() - started

    def _dispatch(self, exchange: Exchange, headers: dict[str, str], body: Any, parsed: bool) -> None:
        record = exchange.record
        counting = record.path == self.path + "/count_tokens"
        if record.method != "POST" or record.path not in (self.path, self.path + "/count_tokens"):
            exchange.error(404, "Not Found", "not_found_error")
            return
        problem = self._auth_problem(headers)
        if problem is not None:
            exchange.error(401, problem, "authentication_error")
            return
        if not counting and self._limiter is not None and self._rate_limited(exchange):
            return
        if not parsed:
            problem = "There was an error parsing the body of your request: it is not valid JSON"
        else:
            problem = first_problem(body, headers, self._rules, count_tokens=counting)
        if problem is None and not counting:
            problem = self._ledger.first_problem(body)
        if problem is not None:
            self._violate(problem)
            exchange.error(400, problem, "invalid_request_error")
        elif counting:
            exchange.json(200, {"input_tokens": sum(s.tokens for s in prompt_segments(body))})
        else:
            self._answer(exchange, body)

    def _auth_problem(self, headers: dict[str, str]) -> str | None:
        key = headers.get("x-api-key") or None
        authorization = headers.get("authorization", "")
        token = (authorization[7:].strip() or None) if authorization[:7].lower() == "bearer " else None
        if self.auth == "x-api-key":
            offered, where = key, "x-api-key"
        elif self.auth == "bearer":
            offered, where = token, "bearer token"
        else:
            offered, where = (key, "x-api-key") if key is not None else (token, "bearer token")
        if offered is None:
            required = {
                "x-api-key": "x-api-key header is required",
                "bearer": "Authorization header with a Bearer token is required",
            }
            return required.get(self.auth, "an x-api-key header or an Authorization: Bearer token is required")
        if self.api_key is not None and not hmac.compare_digest(offered.encode(), self.api_key.encode()):
            return f"invalid {where}"
        return None

    def _rate_limited(self, exchange: Exchange) -> bool:
        assert self._limiter is not None
        decision = self._limiter.admit()
        reset = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + decision.reset_in))
        headers = {
            "anthropic-ratelimit-requests-limit": str(self._limiter.per_minute),
            "anthropic-ratelimit-requests-remaining": str(decision.remaining),
            "anthropic-ratelimit-requests-reset": reset,
        }
        exchange.extra_headers.update(headers)
        if decision.admitted:
            return False
        message = f"This request would exceed the rate limit of {self._limiter.per_minute} requests per minute."
        exchange.error(429, message, "rate_limit_error", {"retry-after": str(decision.retry_after)})
        return True

    def _violate(self, problem: str) -> None:
        with self._lock:
            self._violations.append(problem)

    def _next_entry(self) -> tuple[Turn | Fault | None, float, Turn | None]:
        """The entry for this request, the delay of `slow` faults before it, and the turn after (for `drop`)."""
        delay = 0.0
        with self._lock:
            while self._entries:
                entry = self._entries.popleft()
                if isinstance(entry, Fault) and entry.fault == "slow":
                    delay += entry.seconds
                    continue
                upcoming = next((e for e in self._entries if isinstance(e, Turn)), None)
                return entry, delay, upcoming
        return None, delay, None

    def _respond(self, body: dict[str, Any]) -> tuple[Turn | Fault | None, float, Turn | None]:
        """The responder's entry for this request; `slow` faults wait, then ask it again."""
        assert self._responder is not None
        while True:
            answer = self._responder(body)
            entry = _ENTRY.validate_python(answer) if isinstance(answer, dict) else answer
            if isinstance(entry, Fault) and entry.fault == "slow":
                time.sleep(entry.seconds)
                continue
            return entry, 0.0, None

    def _answer(self, exchange: Exchange, body: dict[str, Any]) -> None:
        entry, delay, upcoming = self._respond(body) if self._responder is not None else self._next_entry()
        if delay:
            time.sleep(delay)
        if entry is None and self._responder is not None:
            self._violate("the responder returned no entry for a request")
            exchange.error(500, "the responder returned no reply", "api_error", {"x-should-retry": "false"})
        elif entry is None:
            count = len(self.requests)
            self._violate(f"script exhausted: request {count} came after the last scripted entry")
            exchange.error(
                500,
                "script exhausted: no scripted reply left for this request",
                "api_error",
                {"x-should-retry": "false"},
            )
        elif isinstance(entry, Fault):
            self._fault(exchange, body, entry, upcoming)
        else:
            message = self._reply(body, entry)
            if body.get("stream"):
                exchange.stream([encode(event) for event in message_events(message)])
            else:
                exchange.json(200, message)

    def _reply(self, body: dict[str, Any], turn: Turn, remember: bool = True) -> dict[str, Any]:
        content = content_blocks(turn, self._ids)
        input_usage = self._cache.account(str(body["model"]), prompt_segments(body))
        usage = usage_body(input_usage, output_tokens(content), turn)
        message = message_body(self._ids.message(), turn.model or body["model"], content, turn, usage)
        if remember:
            self._ledger.record(body["messages"], content)
            with self._lock:
                self._usage.add(usage)
        return message

    def _fault(self, exchange: Exchange, body: dict[str, Any], fault: Fault, upcoming: Turn | None) -> None:
        headers = dict(fault.headers)
        if fault.should_retry is not None:
            headers["x-should-retry"] = "true" if fault.should_retry else "false"
        if fault.fault == "drop":
            if not body.get("stream"):
                exchange.abort()
                return
            turn = upcoming or Turn(content=[TextBlock(text="This reply is cut off before it ends.")])
            events = [encode(e) for e in message_events(self._reply(body, turn, remember=False))]
            exchange.stream(events[: fault.after_events or max(3, len(events) // 2)], complete=False)
            return
        if fault.fault == "status":
            assert fault.status is not None
            exchange.error(fault.status, fault.message or f"HTTP {fault.status}", fault.error_type, headers)
            return
        status, error_type, message = _FAULT_REPLIES[fault.fault]
        if fault.fault == "rate_limit" or fault.retry_after is not None:
            seconds = 1.0 if fault.retry_after is None else fault.retry_after
            headers.setdefault("retry-after", str(int(seconds)) if seconds == int(seconds) else str(seconds))
        exchange.error(status, fault.message or message, fault.error_type or error_type, headers)
