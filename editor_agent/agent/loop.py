"""The agent loop: send the task, run every tool_use through the editor, repeat until the model is done.

A loop of our own rather than the SDK's `tool_runner`: each turn must be recorded before and
after it runs (transcript, resume), every stop reason needs its own outcome, limits are checked
between turns, and the request is rebuilt each turn with fresh cache breakpoints. The loop keeps
the conversation and reads the stop reasons; `RequestBuilder` builds each request, `Retries`
asks the `Model` (the Messages API through the SDK, or a test's fake), `Limits` says when to stop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..api.connection import Connection
from ..safety.changes import unified_diff
from ..safety.redact import redact_data
from ..tool.editor import Editor
from ..tool.versions import ResolvedModel
from . import prompts
from .limits import Limits
from .model import Model, ReplyFailed
from .outcome import RunResult, Status, Stop
from .progress import Progress
from .request import RequestBuilder
from .retries import Retries
from .settings import RunSettings
from .transcript import Transcript
from .usage import Usage

__all__ = ["AgentLoop", "RunResult", "Status"]


class AgentLoop:
    """Drives one conversation; `run(task)` or `resume(events)` returns a `RunResult`."""

    def __init__(
        self,
        model: Model,
        editor: Editor,
        resolved: ResolvedModel,
        *,
        connection: Connection | None = None,
        settings: RunSettings | None = None,
        transcript: Transcript | None = None,
        progress: Progress | None = None,
        after_tools: Callable[[int], None] | None = None,
    ) -> None:
        self.model, self.editor, self.resolved = model, editor, resolved
        self.settings = settings or RunSettings()
        self.transcript = transcript
        self.progress = progress or Progress()
        self.after_tools = after_tools  # e.g. a git checkpoint after each turn's tool calls
        self.requests = RequestBuilder(editor, resolved, connection or Connection(), self.settings)
        self.retries = Retries(self.settings, self.progress, self._record)
        self.limits = Limits(self.settings, resolved)
        self.usage = Usage()
        self.messages: list[dict[str, Any]] = []
        self.turns = 0
        self.continuations = 0

    def run(self, task: str) -> RunResult:
        self._record("start", model=self.resolved.model, **self.editor.description(), task=task,
                     strict=self.editor.strict, settings=self.settings.model_dump())  # fmt: skip
        self._append({"role": "user", "content": task})
        return self._loop()

    def follow_up(self, text: str) -> RunResult:
        """Continue the same conversation with another user message (e.g. a failed check's output)."""
        self.limits.fresh_start()
        self._append({"role": "user", "content": [{"type": "text", "text": text}]})
        return self._loop()

    def resume(self, events: list[dict[str, Any]]) -> RunResult:
        """Continue an interrupted run from its transcript without repeating executed tool calls."""
        for event in events:
            if event["event"] == "message":
                self._add({"role": event["role"], "content": event["content"]})
        for block in _tool_result_images(self.messages):  # they count against the request's limits again
            self.editor.image_budget.add_block(block)
        self.limits.note_history(self.messages)
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
            self._answer(uses, [self._tool_result(use, done) for use in uses], resumed=True)
        return self._loop()

    def _loop(self) -> RunResult:
        """One turn after another, until a stop reason or a limit ends the run."""
        stop_reason: str | None = None
        try:
            while True:
                self.limits.check(self.turns, self.usage)
                self.turns += 1
                message = self._ask()
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
                    self._answer(uses, [self._tool_result(use) for use in uses])
                    continue
                return self._finish("error", stop_reason=stop_reason,
                                    error=f"the model stopped for an unknown reason: {stop_reason!r}")  # fmt: skip
        except Stop as stop:
            return self._finish(stop.status, stop_reason=stop_reason, error=stop.error)
        except ReplyFailed as error:
            return self._finish("error", stop_reason=stop_reason, error=str(error))
        except KeyboardInterrupt:
            return self._finish("stopped", stop_reason=stop_reason, error="interrupted")

    def _ask(self) -> dict[str, Any]:
        """This turn's reply to the conversation so far, with the request and the response recorded."""
        request = self.requests.build(self.messages)
        self._record("request", turn=self.turns, **request.summary())
        body = self.requests.encode(request)
        deadline = self.limits.deadline()
        message, seconds = self.retries.ask(self.model, body, request.headers, turn=self.turns, deadline=deadline)
        self.usage.add(message.get("usage") or {})
        self._record("response", turn=self.turns, id=message.get("id"), stop_reason=message.get("stop_reason"),
                     usage=message.get("usage"), seconds=round(seconds, 3))  # fmt: skip
        self.progress.end_of_reply()
        return message

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

    def _answer(self, uses: list[dict[str, Any]], results: list[dict[str, Any]], *, note: str | None = None,
                resumed: bool = False) -> None:  # fmt: skip
        """Send the tool results back (with a note, if any); count the turn towards the stuck limits."""
        self._append({"role": "user", "content": results + ([{"type": "text", "text": note}] if note else [])})
        if uses:
            self.limits.note_turn(uses, results)
            if self.after_tools is not None and not resumed:  # a resumed turn's calls ran before: nothing new
                self.after_tools(self.turns)

    def _continue_after_cut(self, content: list[dict[str, Any]]) -> None:
        """The reply hit max_tokens: run the complete tool calls, never a cut one, and ask to go on.

        The reply goes back unchanged (thinking signatures must stay valid); a tool call cut
        short is answered with an error result instead of being executed.
        """
        self.continuations += 1
        if self.continuations > self.settings.max_continuations:
            raise Stop("max_tokens", f"the reply hit the output limit {self.continuations} times in a row")
        if not content:
            content = [{"type": "text", "text": "(reply cut off)"}]
        self._append({"role": "assistant", "content": content})
        cut = content[-1] if content[-1].get("type") == "tool_use" else None
        uses = [block for block in content if block.get("type") == "tool_use"]
        results = [
            {"type": "tool_result", "tool_use_id": block["id"],
             "content": prompts.CUT_OFF_TOOL.format(name=block.get("name")), "is_error": True}
            if block is cut else self._tool_result(block)
            for block in uses
        ]  # fmt: skip
        self._answer(uses, results, note=prompts.CUT_OFF.format(max_tokens=self.requests.max_tokens()))

    def _add(self, message: dict[str, Any]) -> None:
        """Append to the conversation; a message right after one of the same role joins it (roles alternate:
        a reply after pause_turn continues the paused one, a note after tool results joins them)."""
        last = self.messages[-1] if self.messages else None
        if last is not None and last["role"] == message["role"]:
            joined = _blocks(last["content"]) + _blocks(message["content"])
            self.messages[-1] = {"role": last["role"], "content": joined}
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
            status=status, stop_reason=stop_reason, turns=self.turns, usage=self.usage,
            cost_usd=self.usage.cost(self.resolved.price), files_changed=[c.path for c in changes],
            transcript=str(self.transcript.path) if self.transcript else None, error=error, final_text=final,
            diff=unified_diff(changes),
        )  # fmt: skip
        self._record("end", **result.model_dump(exclude={"diff"}))
        return result


def _blocks(content: Any) -> list[dict[str, Any]]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else list(content)


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
