"""The agent loop: send the task, run every tool_use through the editor, repeat until the model is done.

A loop of our own rather than the SDK's `tool_runner`: each turn must be recorded before and
after it runs (transcript, resume), every stop reason needs its own outcome, limits are checked
between turns, and the request is rebuilt each turn with fresh cache breakpoints. The SDK still
does the HTTP, the retries of 429/5xx (honouring `retry-after`) and the streaming.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any, Literal, cast

import anthropic
import httpx2
from anthropic._constants import RAW_RESPONSE_HEADER
from anthropic._types import RequestOptions
from pydantic import BaseModel

from ..api.connection import Connection
from ..api.errors import describe_api_error
from ..api.transport import TimeLimitReached
from ..api.transport import deadline as time_limit
from ..safety.changes import unified_diff
from ..safety.redact import redact_data
from ..tool.editor import Editor
from ..tool.versions import ResolvedModel
from . import prompts
from .progress import Progress
from .reply import MalformedReply, ReplyTimeout, StreamError, read_streamed_reply
from .requestbody import RequestEncoder
from .settings import RunSettings
from .transcript import Transcript
from .usage import Usage

Status = Literal[
    "completed",
    "refused",
    "max_turns",
    "max_tokens",
    "budget",
    "timeout",
    "context_exceeded",
    "stuck",
    "stopped",
    "error",
]
_EPHEMERAL = {"type": "ephemeral"}
_CACHEABLE = {"text", "tool_result", "tool_use", "image", "document"}


class RunResult(BaseModel):
    """The outcome of a run, as `--json` prints it."""

    status: Status
    stop_reason: str | None = None
    turns: int = 0
    usage: Usage = Usage()
    cost_usd: float | None = None
    files_changed: list[str] = []
    transcript: str | None = None
    error: str | None = None
    final_text: str = ""
    diff: str = ""


def _tool_result_images(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The image blocks inside the tool results of a conversation."""
    found = []
    for message in messages:
        if message["role"] != "user" or isinstance(message["content"], str):
            continue
        for block in message["content"]:
            if block.get("type") == "tool_result" and isinstance(block.get("content"), list):
                found += [part for part in block["content"] if part.get("type") == "image"]
    return found


def _within(timeout: Any, left: float) -> float | httpx2.Timeout:
    """The client's timeout with every wait cut to at most `left` seconds."""
    if isinstance(timeout, httpx2.Timeout):
        waits = (timeout.connect, timeout.read, timeout.write, timeout.pool)
        cut = [left if wait is None else min(wait, left) for wait in waits]
        return httpx2.Timeout(connect=cut[0], read=cut[1], write=cut[2], pool=cut[3])
    return min(timeout, left) if isinstance(timeout, (int, float)) else left


class _Stop(Exception):
    def __init__(self, status: Status, error: str | None = None) -> None:
        super().__init__(error or status)
        self.status, self.error = status, error


class AgentLoop:
    """Drives one conversation; `run(task)` or `resume(events)` returns a `RunResult`."""

    def __init__(
        self,
        client: anthropic.Anthropic,
        editor: Editor,
        resolved: ResolvedModel,
        *,
        connection: Connection | None = None,
        settings: RunSettings | None = None,
        transcript: Transcript | None = None,
        progress: Progress | None = None,
        max_characters: int | None = None,
        after_tools: Callable[[int], None] | None = None,
    ) -> None:
        self.client = client
        self.editor = editor
        self.resolved = resolved
        self.connection = connection or Connection()
        self.settings = settings or RunSettings()
        self.transcript = transcript
        self.progress = progress or Progress()
        self.max_characters = max_characters
        self.after_tools = after_tools  # e.g. a git checkpoint after each turn's tool calls
        self.usage = Usage()
        self.messages: list[dict[str, Any]] = []
        self.turns = 0
        self.continuations = 0
        self.started = time.monotonic()
        self._encoder = RequestEncoder()
        self._failed_turns = 0
        self._last_turn: list[tuple[Any, ...]] | None = None
        self._repeats = 0

    # --- the loop, top to bottom --------------------------------------------------------

    def run(self, task: str) -> RunResult:
        self._record("start", model=self.resolved.model, **self.editor.description(), task=task,
                     strict=self.editor.strict, settings=self.settings.model_dump())  # fmt: skip
        self._append({"role": "user", "content": task})
        return self._loop()

    def follow_up(self, text: str) -> RunResult:
        """Continue the same conversation with another user message (e.g. a failed check's output)."""
        self._failed_turns, self._repeats, self._last_turn = 0, 0, None  # news from outside: a fresh start
        self._append({"role": "user", "content": [{"type": "text", "text": text}]})
        return self._loop()

    def resume(self, events: list[dict[str, Any]]) -> RunResult:
        """Continue an interrupted run from its transcript without repeating executed tool calls."""
        for event in events:
            if event["event"] == "message":
                self._add({"role": event["role"], "content": event["content"]})
        for block in _tool_result_images(self.messages):  # they count against the request's limits again
            self.editor.image_budget.add_block(block)
        for asked, answered in itertools.pairwise(self.messages):  # the stuck limits count on
            uses = [b for b in asked["content"] if asked["role"] == "assistant" and isinstance(b, dict)]
            uses = [b for b in uses if b.get("type") == "tool_use"]
            results = [b for b in answered["content"] if isinstance(b, dict) and b.get("type") == "tool_result"]
            if uses and len(results) == len(uses):
                self._note_turn(uses, results)
        self.turns = sum(1 for e in events if e["event"] == "response")
        for event in events:
            if event["event"] == "response":
                self.usage.add(event.get("usage") or {})
        done = {e["id"]: e for e in events if e["event"] == "tool_call"}
        self._record("resume", messages=len(self.messages), tool_calls_done=len(done))
        last = self.messages[-1] if self.messages else None
        if last and last["role"] == "assistant":
            uses = [b for b in last["content"] if isinstance(b, dict) and b.get("type") == "tool_use"]
            if not uses:
                return self._finish("completed", stop_reason="end_turn")
            results = [self._tool_result(use, done) for use in uses]
            self._append({"role": "user", "content": results})
            self._note_turn(uses, results)
        return self._loop()

    def _loop(self) -> RunResult:
        stop_reason: str | None = None
        try:
            while True:
                self._check_limits()
                self.turns += 1
                message = self._send(self._request())
                stop_reason = message.get("stop_reason")
                content: list[dict[str, Any]] = message.get("content") or []
                if stop_reason == "refusal":
                    self._append({"role": "assistant", "content": content})
                    return self._finish("refused", stop_reason=stop_reason)
                if stop_reason == "model_context_window_exceeded":
                    return self._finish("context_exceeded", stop_reason=stop_reason,
                                        error="the conversation no longer fits the model's context window")  # fmt: skip
                if stop_reason == "max_tokens":
                    self._continue_after_cut(content)
                    continue
                self.continuations = 0
                if content:  # the API takes no empty message back; an empty final reply adds nothing
                    self._append({"role": "assistant", "content": content})
                if stop_reason in ("end_turn", "stop_sequence"):
                    return self._finish("completed", stop_reason=stop_reason)
                if stop_reason == "pause_turn":
                    continue  # the API continues its own turn when sent back as it is
                if stop_reason == "tool_use":
                    uses = [b for b in content if b.get("type") == "tool_use"]
                    if not uses:
                        return self._finish("error", stop_reason=stop_reason,
                                            error="the model stopped for tool use but sent no tool call")  # fmt: skip
                    results = [self._tool_result(use) for use in uses]
                    self._append({"role": "user", "content": results})
                    self._note_turn(uses, results)
                    if self.after_tools is not None:
                        self.after_tools(self.turns)
                    continue
                return self._finish("error", stop_reason=stop_reason,
                                    error=f"the model stopped for an unknown reason: {stop_reason!r}")  # fmt: skip
        except _Stop as stop:
            return self._finish(stop.status, stop_reason=stop_reason, error=stop.error)
        except MalformedReply as error:
            error_text = f"{self.connection.effective_base_url} sent a malformed reply: {error.detail}"
            return self._finish("error", stop_reason=stop_reason, error=error_text)
        except StreamError as error:
            return self._finish("error", stop_reason=stop_reason, error=f"the API reported an error mid-reply: {error}")
        except anthropic.APIError as error:
            explanation = describe_api_error(
                error, connection=self.connection, model=self.resolved.model,
                family=self.resolved.family, tool_type=self.editor.description()["tool"],
            )  # fmt: skip
            return self._finish("error", stop_reason=stop_reason, error=explanation)
        except KeyboardInterrupt:
            return self._finish("stopped", stop_reason=stop_reason, error="interrupted")

    # --- one request --------------------------------------------------------------------

    def _max_tokens(self) -> int:
        cap = self.resolved.max_tokens
        wanted = min(self.settings.max_output_tokens or cap, cap)
        thinking = self.settings.thinking
        if isinstance(thinking, int) and wanted <= thinking:
            raise _Stop("error", f"--thinking {thinking} must be below the reply limit of {wanted} tokens")
        return wanted

    def _request(self) -> tuple[bytes, dict[str, str]]:
        tool = self.editor.tool_definition()
        system_text = (self.settings.system or prompts.SYSTEM).format(
            mount=self.editor.mount, tool_name=self.editor.tool_name
        )
        system: list[dict[str, Any]] = [{"type": "text", "text": system_text}]
        messages = list(self.messages)  # copied only where a breakpoint is added: history stays unmarked
        if self.settings.cache:
            system[0]["cache_control"] = _EPHEMERAL
            marked = 0
            for index in range(len(messages) - 1, -1, -1):  # the newest two user turns: last prefix and this one
                message = messages[index]
                if message["role"] != "user" or marked == 2:
                    continue
                content = message["content"]
                blocks = [{"type": "text", "text": content}] if isinstance(content, str) else list(content)
                if blocks and blocks[-1].get("type") in _CACHEABLE:
                    blocks[-1] = {**blocks[-1], "cache_control": _EPHEMERAL}
                    messages[index] = {**message, "content": blocks}
                    marked += 1
        params: dict[str, Any] = {
            "model": self.resolved.model,
            "max_tokens": self._max_tokens(),
            "system": system,
            "tools": [tool],
            "messages": messages,
        }
        betas = list(self.editor.betas)
        thinking = self.settings.thinking
        if thinking is not None and self.resolved.thinking == "none":
            raise _Stop("error", f"{self.resolved.model} does not take extended thinking (tools.yaml); drop --thinking")
        if thinking == "adaptive":
            params["thinking"] = {"type": "adaptive"}
        elif isinstance(thinking, int):
            params["thinking"] = {"type": "enabled", "budget_tokens": thinking}
            betas += list(self.resolved.thinking_betas)
        betas += self.connection.betas
        headers = {"anthropic-beta": ",".join(dict.fromkeys(betas))} if betas else {}
        headers[RAW_RESPONSE_HEADER] = "stream"  # as `with_streaming_response`: the reply comes back unread
        self._record("request", turn=self.turns, messages=len(messages), betas=betas,
                     params={k: v for k, v in params.items() if k != "messages"})  # fmt: skip
        try:
            body = self._encoder.encode(params, {"stream": True, **self.connection.body})
        except (TypeError, ValueError) as error:
            raise _Stop("error", f"cannot build the request: {error}") from None
        return body, headers

    def _deadline(self) -> float | None:
        """When the run must end (`time.monotonic()` clock), if it has a time limit."""
        seconds = self.settings.max_seconds
        return None if seconds is None else self.started + seconds

    def _timed_out(self, during: str = "") -> _Stop:
        return _Stop("timeout", f"ran for {self.settings.max_seconds:g} seconds, the time limit{during}")

    def _send(self, request: tuple[bytes, dict[str, str]]) -> dict[str, Any]:
        """Stream one reply; a stream that breaks off retries the turn (nothing of it has run yet).

        The body goes to the SDK already encoded (see requestbody.py), through its generic `post`:
        retries, auth, headers and errors stay the SDK's, and the reply is read as raw bytes. With a
        time limit, no wait for the server outlasts it: each socket wait is bounded by the time left,
        and the reply stops being read when the deadline passes, pings or no pings.
        """
        deadline = self._deadline()
        with time_limit(deadline):  # the SDK's own retries and their waits end at the deadline too
            return self._stream(request, deadline)

    def _stream(self, request: tuple[bytes, dict[str, str]], deadline: float | None) -> dict[str, Any]:
        body, headers = request
        for attempt in range(self.settings.stream_retries + 1):
            started = time.monotonic()
            options: RequestOptions = {"headers": headers}
            if deadline is not None:
                if started >= deadline:
                    raise self._timed_out()
                options["timeout"] = _within(self.client.timeout, deadline - started)
            self.progress.turn(self.turns)
            streaming = False
            try:
                response = cast(  # the raw-response header makes the SDK hand back its unread APIResponse
                    anthropic.APIResponse[object],
                    self.client.post("/v1/messages", cast_to=object, content=body, options=options, stream=True),
                )
                try:
                    streaming = True  # from here on a lost connection is a broken-off reply; before, the SDK retried
                    kind = response.http_response.headers.get("content-type", "")
                    if kind.startswith("application/json"):  # a whole message: the server ignored `stream`
                        raise MalformedReply(f"it came as {kind}, not as the event stream asked for")
                    chunks = response.http_response.iter_bytes()
                    message = read_streamed_reply(chunks, self.progress.text, deadline=deadline)
                finally:
                    response.close()
            except ReplyTimeout:
                raise self._timed_out(" (a reply was still arriving)") from None
            except TimeLimitReached:
                raise self._timed_out(" (waiting to retry the request)") from None
            except (anthropic.APIConnectionError, httpx2.TransportError, StreamError) as error:
                if deadline is not None and time.monotonic() >= deadline:
                    raise self._timed_out(" (waiting for the server)") from None
                if not streaming and isinstance(error, anthropic.APIConnectionError):
                    raise
                transient = not isinstance(error, StreamError) or error.transient
                if isinstance(error, anthropic.APITimeoutError) or not transient:
                    raise
                if attempt == self.settings.stream_retries:
                    raise _Stop("error", f"the reply broke off {attempt + 1} times: {error}") from None
                wait = min(2.0**attempt, 8.0)
                self.progress.retry(f"reply broke off ({type(error).__name__})", wait)
                self._record("retry", turn=self.turns, attempt=attempt + 1, reason=str(error))
                time.sleep(wait if deadline is None else max(0.0, min(wait, deadline - time.monotonic())))
                continue
            self.usage.add(message.get("usage") or {})
            self._record("response", turn=self.turns, id=message.get("id"), stop_reason=message.get("stop_reason"),
                         usage=message.get("usage"), seconds=round(time.monotonic() - started, 3))  # fmt: skip
            self.progress.end_of_reply()
            return message
        raise AssertionError("unreachable")

    # --- tools and continuations ------------------------------------------------------------

    def _tool_result(self, use: dict[str, Any], done: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
        if done and use["id"] in done:  # executed before an interruption: reuse, never run twice
            content, is_error = done[use["id"]]["content"], done[use["id"]]["is_error"]
        elif use.get("name") != self.editor.tool_name:
            content = prompts.UNKNOWN_TOOL.format(name=use.get("name"), tool_name=self.editor.tool_name)
            is_error = True
        else:
            started = time.monotonic()
            result = self.editor.run(use.get("input"))
            content, is_error = redact_data(result.content), result.is_error  # a file can hold a credential
            self._record("tool_call", turn=self.turns, id=use["id"], input=use.get("input"), content=content,
                         is_error=is_error, seconds=round(time.monotonic() - started, 4))  # fmt: skip
            self.progress.tool(use.get("input"), content, is_error)
        block: dict[str, Any] = {"type": "tool_result", "tool_use_id": use["id"], "content": content}
        if is_error:
            block["is_error"] = True
        return block

    def _note_turn(self, uses: list[dict[str, Any]], results: list[dict[str, Any]]) -> None:
        """Count turns whose tool calls all failed, and turns that repeat the one before exactly (same
        calls, same results), so that a model going in circles is stopped rather than paid for."""
        self._failed_turns = self._failed_turns + 1 if all(r.get("is_error") for r in results) else 0
        pairs = zip(uses, results, strict=True)
        turn = [(u.get("name"), u.get("input"), r["content"], bool(r.get("is_error"))) for u, r in pairs]
        self._repeats = self._repeats + 1 if turn == self._last_turn else 1
        self._last_turn = turn

    def _continue_after_cut(self, content: list[dict[str, Any]]) -> None:
        """The reply hit max_tokens: run the complete tool calls, never a cut one, and ask to go on.

        The reply goes back unchanged (thinking signatures must stay valid); a tool call cut
        short is answered with an error result instead of being executed.
        """
        self.continuations += 1
        if self.continuations > self.settings.max_continuations:
            raise _Stop("max_tokens", f"the reply hit the output limit {self.continuations} times in a row")
        if not content:
            content = [{"type": "text", "text": "(reply cut off)"}]
        self._append({"role": "assistant", "content": content})
        cut = content[-1] if content[-1].get("type") == "tool_use" else None
        results = []
        uses = [block for block in content if block.get("type") == "tool_use"]
        for block in uses:
            if block is cut:
                message = prompts.CUT_OFF_TOOL.format(name=cut.get("name"))
                results.append({"type": "tool_result", "tool_use_id": cut["id"], "content": message, "is_error": True})
            else:
                results.append(self._tool_result(block))
        note = prompts.CUT_OFF.format(max_tokens=self._max_tokens())
        self._append({"role": "user", "content": [*results, {"type": "text", "text": note}]})
        if uses:
            self._note_turn(uses, results)
            if self.after_tools is not None:
                self.after_tools(self.turns)

    # --- bookkeeping -------------------------------------------------------------------------

    def _check_limits(self) -> None:
        s = self.settings
        if self.turns >= s.max_turns:
            raise _Stop("max_turns", f"reached the limit of {s.max_turns} turns")
        if s.max_total_tokens is not None and self.usage.total >= s.max_total_tokens:
            raise _Stop("budget", f"used {self.usage.total} tokens, the limit is {s.max_total_tokens}")
        cost = self.usage.cost(self.resolved.price)
        if s.max_cost_usd is not None:
            if cost is None:
                raise _Stop("budget", f"--max-cost needs a price for {self.resolved.family} in tools.yaml")
            if cost >= s.max_cost_usd:
                raise _Stop("budget", f"spent ${cost:.4f}, the limit is ${s.max_cost_usd:.4f}")
        if s.max_seconds is not None and time.monotonic() - self.started >= s.max_seconds:
            raise self._timed_out()
        if s.max_failed_turns is not None and self._failed_turns >= s.max_failed_turns:
            raise _Stop("stuck", f"every tool call failed in the last {self._failed_turns} turns "
                                 f"(limit {s.max_failed_turns})")  # fmt: skip
        if s.max_repeats is not None and self._repeats >= s.max_repeats:
            raise _Stop("stuck", f"the model repeated the same tool calls with the same results {self._repeats} "
                                 "turns in a row")  # fmt: skip

    def _add(self, message: dict[str, Any]) -> None:
        """Append to the conversation; a message right after one of the same role joins it (roles alternate:
        a reply after pause_turn continues the paused one, a note after tool results joins them)."""
        last = self.messages[-1] if self.messages else None
        if last is not None and last["role"] == message["role"]:

            def blocks(content: Any) -> list[dict[str, Any]]:
                return [{"type": "text", "text": content}] if isinstance(content, str) else list(content)

            self.messages[-1] = {"role": last["role"], "content": blocks(last["content"]) + blocks(message["content"])}
        else:
            self.messages.append(message)

    def _append(self, message: dict[str, Any]) -> None:
        self._add(message)
        self._record("message", **message)

    def _record(self, event: str, **fields: Any) -> None:
        if self.transcript is not None:
            self.transcript.write(event, **fields)

    def _finish(self, status: Status, *, stop_reason: str | None, error: str | None = None) -> RunResult:
        if error is not None and ("\n" in error or "\r" in error):  # a server's message may span lines
            error = " ".join(error.splitlines())
        changes = self.editor.changes.files()
        final = ""
        if self.messages and self.messages[-1]["role"] == "assistant":
            final = "".join(b.get("text", "") for b in self.messages[-1]["content"] if b.get("type") == "text")
        result = RunResult(
            status=status,
            stop_reason=stop_reason,
            turns=self.turns,
            usage=self.usage,
            cost_usd=self.usage.cost(self.resolved.price),
            files_changed=[c.path for c in changes],
            transcript=str(self.transcript.path) if self.transcript else None,
            error=error,
            final_text=final,
            diff=unified_diff(changes),
        )
        self._record("end", **result.model_dump(exclude={"diff"}))
        return result
