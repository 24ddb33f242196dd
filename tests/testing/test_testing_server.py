"""The local Messages API server, driven by the real `anthropic` client and by raw HTTP.

Each test states one behaviour of the real API the server must reproduce (shapes, stream events,
validation errors, faults, usage and caching, auth) or one of its own promises (violations, recording).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import pytest
import yaml
from anthropic import Omit
from pydantic import ValidationError

from editor_agent.testing import Fault, MessagesServer, Script, Turn, catalog
from editor_agent.testing.validate import Rules, first_problem
from editor_agent.tool import versions

from ..conftest import RunCli, shared_data

MODEL = "claude-sonnet-4-6"
TOOL = {"type": "text_editor_20250728", "name": "str_replace_based_edit_tool"}
OLD_EDITOR = {"type": "text_editor_20250124", "name": "str_replace_editor"}
KEY = "test-key"
CASSETTES = ("conformance", "api-cassettes", "pydantic-ai")  # in ../shared, see conftest.shared_data
CASSETTE_NAMES = ("test_anthropic_text_editor_tool.yaml", "test_anthropic_text_editor_toolset.yaml",
                  "test_anthropic_text_editor_toolset_stream.yaml")  # fmt: skip
TEXT = {"type": "text", "text": "some text"}
ASK: dict[str, Any] = {"model": MODEL, "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture(autouse=True)
def _no_credentials_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def script(*entries: dict[str, Any]) -> Script:
    return Script.model_validate({"turns": list(entries)})


def text(value: str, **extra: Any) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": value}], **extra}


def view(path: str) -> dict[str, Any]:
    tool_call = {"type": "tool_use", "name": TOOL["name"], "input": {"command": "view", "path": path}}
    return {"content": [{"type": "text", "text": "Let me look."}, tool_call], "stop_reason": "tool_use"}


def client(server: MessagesServer, **options: Any) -> anthropic.Anthropic:
    options.setdefault("api_key", KEY)
    options.setdefault("max_retries", 0)
    return anthropic.Anthropic(base_url=server.url, **options)


def post(server: MessagesServer, payload: Any, headers: dict[str, str] | None = None, path: str | None = None) -> Any:
    """A raw request: (status, lower-cased headers, parsed body or the event-stream text)."""
    sent = {"x-api-key": KEY, "anthropic-version": "2023-06-01", "content-type": "application/json", **(headers or {})}
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    request = urllib.request.Request(server.origin + (path or server.path), data=data, headers=sent, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw, status, got = response.read(), response.status, response.headers
    except urllib.error.HTTPError as error:
        raw, status, got = error.read(), error.code, error.headers
    received = {k.lower(): v for k, v in got.items()}
    streamed = received.get("content-type", "").startswith("text/event-stream")
    return status, received, raw.decode() if streamed else json.loads(raw)


def body(*messages: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "max_tokens": 1024, "messages": list(messages) or [user("hi")], **extra}


def user(*content: Any) -> dict[str, Any]:
    alone = len(content) == 1 and isinstance(content[0], str)
    return {"role": "user", "content": content[0] if alone else list(content)}


def assistant(*content: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": list(content)}


def result(tool_id: str, content: Any = "ok", **extra: Any) -> dict[str, Any]:
    return {"type": "tool_result", "tool_use_id": tool_id, "content": content, **extra}


def call(tool_id: str = "toolu_01A") -> dict[str, Any]:
    return {"type": "tool_use", "id": tool_id, "name": TOOL["name"], "input": {"command": "view", "path": "/a"}}


def dumped(content: list[Any]) -> list[dict[str, Any]]:
    return [block.model_dump(exclude_none=True) for block in content]


# --- replies ------------------------------------------------------------------------------


def test_a_multi_turn_tool_session_validates_cleanly() -> None:
    with MessagesServer(script(view("/repo/a.py"), text("Done.")), api_key=KEY) as server:
        api = client(server)
        messages: list[Any] = [user("Fix a.py")]
        first = api.messages.create(model=MODEL, max_tokens=1024, messages=messages, tools=[TOOL])
        tool_call = first.content[1]
        assert first.stop_reason == "tool_use" and tool_call.type == "tool_use"
        assert tool_call.id.startswith("toolu_01") and len(tool_call.id) == 30
        assert tool_call.caller is not None and tool_call.caller.type == "direct"
        assert tool_call.input == {"command": "view", "path": "/repo/a.py"}
        messages += [{"role": "assistant", "content": first.content}, user(result(tool_call.id, "1: x"), TEXT)]
        second = api.messages.create(model=MODEL, max_tokens=1024, messages=messages, tools=[TOOL])
        assert second.stop_reason == "end_turn" and second.content[0].type == "text"
        assert second.content[0].text == "Done."
        assert server.violations == [] and server.remaining == 0
        assert [r.status for r in server.requests] == [200, 200]
        assert server.requests[1].body["messages"][1]["content"][1]["id"] == tool_call.id


def test_a_reply_has_the_keys_of_the_recorded_api_reply() -> None:
    recorded = yaml.safe_load(shared_data(*CASSETTES, "test_anthropic_text_editor_tool.yaml").read_text())
    real = recorded["interactions"][0]["response"]["parsed_body"]
    with MessagesServer(script(view("hello.py"), text("hi", model="claude-sonnet-4-5-20250929"))) as server:
        status, headers, reply = post(server, body(tools=[TOOL], model="claude-sonnet-4-5"))
        assert post(server, body(model="claude-sonnet-4-5"))[2]["model"] == "claude-sonnet-4-5-20250929"
    assert status == 200 and headers["content-type"] == "application/json"
    assert headers["request-id"].startswith("req_")
    assert reply.keys() == real.keys()
    assert set(reply["usage"]) == set(real["usage"]) | {"inference_geo"}
    assert reply["usage"]["cache_creation"].keys() == real["usage"]["cache_creation"].keys()
    assert reply["model"] == "claude-sonnet-4-5"  # echoed as sent
    assert reply["id"].startswith("msg_01") and reply["type"] == "message" and reply["role"] == "assistant"
    assert reply["stop_sequence"] is None
    assert reply["content"][1].keys() == {"type", "id", "name", "input", "caller"}


THINKING_TURN = {
    "content": [
        {"type": "thinking", "thinking": "The file is short; view it whole."},
        {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4a"},
        {"type": "text", "text": "Viewing the file that the user asked about."},
        call("toolu_01Fixed") | {"input": {"command": "view", "path": "/repo/a.py", "view_range": [1, 20]}},
    ]
}


def test_a_stream_parses_into_the_same_message_as_the_plain_reply() -> None:
    with MessagesServer(script(THINKING_TURN, THINKING_TURN)) as server:
        api = client(server)
        plain = api.messages.create(model=MODEL, max_tokens=2048, messages=[user("hi")], tools=[TOOL])
        with api.messages.stream(model=MODEL, max_tokens=2048, messages=[user("hi")], tools=[TOOL]) as stream:
            kinds = [event.type for event in stream]
            streamed = stream.get_final_message()
    assert plain.content[0].type == "thinking" and plain.content[0].signature  # generated
    assert streamed.model_dump(exclude={"id", "content"}) == plain.model_dump(exclude={"id", "content"})
    assert dumped(streamed.content)[1:] == dumped(plain.content)[1:]
    assert streamed.content[0].thinking == plain.content[0].thinking and streamed.content[0].signature
    assert "input_json" in kinds and "thinking" in kinds and "signature" in kinds


def test_the_stream_has_the_event_order_and_chunks_of_the_recorded_stream() -> None:
    recorded = yaml.safe_load(shared_data(*CASSETTES, "test_anthropic_text_editor_toolset_stream.yaml").read_text())
    real = recorded["interactions"][0]["response"]["body"]["string"]
    real_names = [line[7:] for line in real.splitlines() if line.startswith("event: ")]
    with MessagesServer(script(view("/tmp/example.py"))) as server:
        status, headers, raw = post(server, body(stream=True, tools=[TOOL]))
    assert status == 200 and headers["content-type"].startswith("text/event-stream")
    events = [(e.split("\n")[0][7:], json.loads(e.split("\n")[1][6:])) for e in raw.strip().split("\n\n")]
    names = [name for name, _ in events]
    assert names[:4] == ["message_start", "content_block_start", "ping", "content_block_delta"]
    assert names[-3:] == real_names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    start = events[0][1]["message"]
    assert start["content"] == [] and start["stop_reason"] is None and start["usage"]["output_tokens"] == 1
    pieces = [d["delta"]["partial_json"] for n, d in events if n == "content_block_delta" and d["index"] == 1]
    assert pieces[0] == "" and len(pieces) > 3
    assert "".join(pieces) == json.dumps({"command": "view", "path": "/tmp/example.py"})
    assert events[-2][1]["delta"] == {"stop_reason": "tool_use", "stop_sequence": None}
    assert set(events[-2][1]["usage"]) == {"output_tokens"}


# --- validation -------------------------------------------------------------------------------

CACHED = TEXT | {"cache_control": {"type": "ephemeral"}}
NEW_VERSION = {"anthropic-version": "2026-10-21"}
CALLED = [user("a"), assistant(call())]
BAD_REQUESTS: dict[str, tuple[dict[str, Any], dict[str, str], str]] = {
    "no model": ({"max_tokens": 5, "messages": [user("hi")]}, {}, "model: Field required"),
    "no max_tokens": ({"model": MODEL, "messages": [user("hi")]}, {}, "max_tokens: Field required"),
    "max_tokens 0": (body(max_tokens=0), {}, "max_tokens: Input should be greater than or equal to 1"),
    "no messages": (body() | {"messages": []}, {}, "messages: at least one message is required"),
    "assistant first": (body(assistant(TEXT), user("y")), {}, 'first message must use the "user" role'),
    "two user turns": (body(user("a"), user("b")), {}, 'found multiple "user" roles in a row'),
    "empty text": (body(user(TEXT | {"text": ""})), {}, "messages.0.content.0: text content blocks must be non-empty"),
    "call without result": (
        body(*CALLED, user("no result")),
        {},
        "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_01A.",
    ),
    "text before the result": (
        body(*CALLED, user(TEXT, result("toolu_01A"))),
        {},
        "messages.2: Did not find 1 `tool_result` block(s) at the beginning of this message.",
    ),
    "result for an unknown call": (
        body(*CALLED, user(result("toolu_01A"), result("toolu_01B"))),
        {},
        "messages.2.content.1: unexpected `tool_use_id` found in `tool_result` blocks: toolu_01B.",
    ),
    "result without a call": (body(user(result("toolu_01A"))), {}, "messages.0.content.0: unexpected `tool_use_id`"),
    "is_error with an image": (
        body(*CALLED, user(result("toolu_01A", [{"type": "image", "source": {}}], is_error=True))),
        {},
        "messages.2.content.0.content.0: a `tool_result` with `is_error: true` may only contain text, found `image`",
    ),
    "is_error without content": (
        body(*CALLED, user(result("toolu_01A", "", is_error=True))),
        {},
        "messages.2.content.0: a `tool_result` with `is_error: true` must have non-empty text content",
    ),
    "wrong tool name": (
        body(tools=[OLD_EDITOR | {"name": TOOL["name"]}], model="claude-3-7-sonnet-20250219"),
        {},
        "tools.0.text_editor_20250124.name: Input should be 'str_replace_editor'",
    ),
    "version the model lacks": (body(tools=[OLD_EDITOR]), {}, f"'{MODEL}' does not support tool types: "),
    "max_characters on 20250124": (
        body(tools=[OLD_EDITOR | {"max_characters": 10}], model="claude-3-7-sonnet-20250219"),
        {},
        "tools.0.text_editor_20250124.max_characters: Extra inputs are not permitted",
    ),
    "five cache breakpoints": (
        body(user(*[CACHED] * 4), system=[CACHED]),
        {},
        "A maximum of 4 blocks with cache_control may be provided. Found 5.",
    ),
    "temperature on 2026-10-21": (body(temperature=0.5), NEW_VERSION, "temperature: Extra inputs are not permitted"),
    "top_k on 2026-10-21": (body(top_k=5), NEW_VERSION, "top_k: Extra inputs are not permitted"),
    "thinking budget too big": (
        body(max_tokens=2000, thinking={"type": "enabled", "budget_tokens": 4000}),
        {},
        "`max_tokens` must be greater than `thinking.budget_tokens`.",
    ),
}


@pytest.mark.parametrize("case", list(BAD_REQUESTS))
def test_each_invalid_request_is_a_400_and_a_violation(case: str) -> None:
    request_body, headers, expected = BAD_REQUESTS[case]
    with MessagesServer(script(text("never sent"))) as server:
        status, _, error = post(server, request_body, headers)
        assert status == 400
        assert error["type"] == "error" and error["error"]["type"] == "invalid_request_error"
        assert error["request_id"].startswith("req_")
        assert expected in error["error"]["message"]
        assert server.violations == [error["error"]["message"]]
        assert server.remaining == 1  # a rejected request uses up no turn
        assert post(server, body())[0] == 200  # and the same server still answers a good one


def test_what_the_model_accepts_and_what_the_sdk_sees() -> None:
    older = {"type": "text_editor_20250429", "name": TOOL["name"]}
    with MessagesServer(
        script(text("a"), text("b")), accept_tools={"text_editor_20250429", "text_editor_20250728"}
    ) as s:
        assert post(s, body(tools=[older]))[0] == 200
        assert post(s, body(temperature=0.5), {"anthropic-version": "2023-06-01"})[0] == 200
        assert s.violations == []
    with MessagesServer(script(text("a"))) as server:
        with pytest.raises(anthropic.BadRequestError) as caught:
            client(server).messages.create(**ASK, tools=[older])
    assert caught.value.body["error"]["message"] == f"'{MODEL}' does not support tool types: text_editor_20250429."


def test_the_version_header_is_required_and_can_be_pinned() -> None:
    with MessagesServer(script(text("a")), require_version="2023-06-01") as server:
        with pytest.raises(anthropic.BadRequestError, match="anthropic-version: '2026-10-21'"):
            client(server).messages.create(**ASK)  # the SDK sends 2026-10-21
        assert server.requests[0].headers["anthropic-version"] == "2026-10-21"
        status, _, error = post(server, body(), {"anthropic-version": ""})
        assert status == 400 and error["error"]["message"] == "anthropic-version: header is required"
        assert post(server, body())[0] == 200 and len(server.violations) == 2


def test_a_dropped_or_altered_assistant_turn_is_a_violation() -> None:
    with MessagesServer(script(view("/a"), view("/b"), text("x"), text("y"), text("z"))) as server:
        api, history = client(server), [user("Fix a.py")]
        for _ in range(2):
            reply = api.messages.create(model=MODEL, max_tokens=2048, messages=history, tools=[TOOL])
            history += [{"role": "assistant", "content": dumped(reply.content)}, user(result(reply.content[1].id))]
        dropped = [history[0], *history[3:]]  # the first assistant turn and its result left out
        altered = json.loads(json.dumps(history))
        altered[1]["content"][0]["text"] = "I changed my mind."
        for messages in (dropped, altered):
            status, _, error = post(server, body(*messages, tools=[TOOL]))
            assert status == 400 and "is not the reply the server sent" in error["error"]["message"]
        assert post(server, body(*history, tools=[TOOL]))[0] == 200
        assert len(server.violations) == 2


def test_thinking_blocks_must_come_back_unmodified() -> None:
    thinking = {"thinking": {"type": "enabled", "budget_tokens": 1024}, "max_tokens": 2048, "tools": [TOOL]}
    with MessagesServer(script(THINKING_TURN, text("done"))) as server:
        reply = client(server).messages.create(model=MODEL, max_tokens=2048, messages=[user("hi")], tools=[TOOL])
        history = [user("hi"), {"role": "assistant", "content": dumped(reply.content)}, user(result("toolu_01Fixed"))]
        for position, field, value in [(0, "thinking", "edited"), (0, "signature", "Zm9v"), (1, "data", "Zm9v")]:
            changed = json.loads(json.dumps(history))
            changed[1]["content"][position][field] = value
            message = post(server, body(*changed, **thinking))[2]["error"]["message"]
            assert message.startswith(f"messages.1.content.{position}: `thinking` or `redacted_thinking` blocks")
        without = json.loads(json.dumps(history))
        without[1]["content"] = without[1]["content"][2:]
        message = post(server, body(*without, **thinking))[2]["error"]["message"]
        assert "thinking blocks of the latest assistant message are missing" in message
        assert len(server.violations) == 4
        assert post(server, body(*history, **thinking))[0] == 200


# --- faults -----------------------------------------------------------------------------------


def test_a_429_with_retry_after_is_retried_by_the_sdk() -> None:
    with MessagesServer(script({"fault": "rate_limit", "retry_after": 0}, text("after the wait"))) as server:
        assert client(server, max_retries=2).messages.create(**ASK).content[0].text == "after the wait"
        assert [r.status for r in server.requests] == [429, 200]
        assert server.requests[1].headers["x-stainless-retry-count"] == "1"
        assert server.violations == []


FAULTS: dict[str, tuple[dict[str, Any], type[anthropic.APIStatusError], int, str]] = {
    "rate_limit": ({"fault": "rate_limit"}, anthropic.RateLimitError, 429, "rate_limit_error"),
    "overloaded": ({"fault": "overloaded"}, anthropic.OverloadedError, 529, "overloaded_error"),
    "server_error": ({"fault": "server_error"}, anthropic.InternalServerError, 500, "api_error"),
    "404": (
        {"fault": "status", "status": 404, "error_type": "not_found_error", "message": "model: claude-x"},
        anthropic.NotFoundError,
        404,
        "not_found_error",
    ),
    "403": (
        {"fault": "status", "status": 403, "message": "no"},
        anthropic.PermissionDeniedError,
        403,
        "permission_error",
    ),
}


@pytest.mark.parametrize("kind", list(FAULTS))
def test_each_fault_reaches_the_client_as_the_sdk_error(kind: str) -> None:
    fault, error, status, error_type = FAULTS[kind]
    with MessagesServer(script(fault, text("next"))) as server:
        api = client(server)
        with pytest.raises(error) as caught:
            api.messages.create(**ASK)
        assert caught.value.status_code == status and caught.value.body["error"]["type"] == error_type
        assert caught.value.request_id == caught.value.body["request_id"]
        assert caught.value.body["error"]["message"] == fault.get("message", caught.value.body["error"]["message"])
        if kind == "rate_limit":
            assert caught.value.response.headers["retry-after"] == "1"
        assert api.messages.create(**ASK).content[0].text == "next"


def test_no_retry_when_told_so_or_when_the_script_is_exhausted() -> None:
    with MessagesServer(script({"fault": "overloaded", "should_retry": False}, text("only"))) as server:
        api = client(server, max_retries=2)
        with pytest.raises(anthropic.OverloadedError):
            api.messages.create(**ASK)
        api.messages.create(**ASK)
        with pytest.raises(anthropic.InternalServerError, match="script exhausted"):
            api.messages.create(**ASK)
        assert [r.status for r in server.requests] == [529, 200, 500]
        assert len(server.violations) == 1 and server.violations[0].startswith("script exhausted")


def test_a_dropped_plain_request_is_a_connection_error_the_sdk_retries() -> None:
    with MessagesServer(script({"fault": "drop"}, {"fault": "drop"}, text("second try"))) as server:
        with pytest.raises(anthropic.APIConnectionError):
            client(server).messages.create(**ASK)
        assert client(server, max_retries=1).messages.create(**ASK).content[0].text == "second try"
        assert [r.status for r in server.requests] == [0, 0, 200]


def test_a_dropped_stream_breaks_off_after_some_events_and_keeps_the_turn() -> None:
    reply = "A reply long enough to need a good number of text deltas on the wire."
    with MessagesServer(script({"fault": "drop", "after_events": 4}, text(reply))) as server:
        api, seen = client(server), []
        with pytest.raises((httpx2.TransportError, anthropic.APIConnectionError)):
            with api.messages.stream(**ASK) as stream:
                seen.extend(event.type for event in stream)
        assert seen[0] == "message_start" and "content_block_delta" in seen and "message_stop" not in seen
        with api.messages.stream(**ASK) as stream:
            assert stream.get_final_message().content[0].text == reply
        assert server.violations == []


def test_slow_waits_and_then_answers_with_the_next_turn() -> None:
    with MessagesServer(script({"fault": "slow", "seconds": 0.4}, text("late"), text("later"))) as server:
        started = time.monotonic()
        assert client(server).messages.create(**ASK).content[0].text == "late"
        assert time.monotonic() - started >= 0.4 and server.remaining == 1


def test_the_server_wide_rate_limit_answers_429_with_a_correct_retry_after() -> None:
    now = [1000.0]
    turns = script(*[text(str(i)) for i in range(4)])
    with MessagesServer(turns, rate_limit_per_minute=2, clock=lambda: now[0]) as server:
        assert post(server, body())[0] == 200
        now[0] += 20
        status, headers, _ = post(server, body())
        assert status == 200 and headers["anthropic-ratelimit-requests-remaining"] == "0"
        now[0] += 10
        status, headers, error = post(server, body())
        assert status == 429 and headers["retry-after"] == "30" and error["error"]["type"] == "rate_limit_error"
        now[0] += 29.5
        assert post(server, body())[1]["retry-after"] == "1"
        now[0] += 0.5
        assert post(server, body())[0] == 200
        assert server.remaining == 1 and server.violations == []


# --- usage and caching -----------------------------------------------------------------------

SYSTEM = "You fix bugs in small Python projects. " * 120  # about 1200 tokens


def newest_marked(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The history with one cache breakpoint, on the newest block (as a caching loop sends it)."""
    marked = json.loads(json.dumps(messages))
    last = marked[-1]["content"]
    if isinstance(last, str):
        marked[-1]["content"] = last = [{"type": "text", "text": last}]
    last[-1]["cache_control"] = {"type": "ephemeral"}
    return marked


def test_the_second_request_reads_the_prefix_the_first_one_wrote() -> None:
    with MessagesServer(script(view("/a"), text("done"))) as server:
        api, messages = client(server), [user("Fix a.py")]
        ask = {"model": MODEL, "max_tokens": 100, "system": SYSTEM, "tools": [TOOL]}
        first = api.messages.create(**ask, messages=newest_marked(messages))
        assert first.usage.cache_read_input_tokens == 0
        assert first.usage.cache_creation_input_tokens > 1024 and first.usage.input_tokens == 0
        messages += [assistant(*dumped(first.content)), user(result(first.content[1].id, "1: x"))]
        second = api.messages.create(**ask, messages=newest_marked(messages))
        assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
        assert 0 < second.usage.cache_creation_input_tokens < 100
        assert second.usage.cache_creation.ephemeral_5m_input_tokens == second.usage.cache_creation_input_tokens
        assert server.usage.cache_read_input_tokens == second.usage.cache_read_input_tokens
        assert server.usage.output_tokens == first.usage.output_tokens + second.usage.output_tokens
        assert server.violations == []


def test_nothing_is_cached_without_breakpoints_or_below_the_minimum() -> None:
    with MessagesServer(script(text("a"), text("b")), min_cache_tokens=100_000) as server:
        for _ in range(2):
            usage = post(server, body(*newest_marked([user("hi")]), system=SYSTEM))[2]["usage"]
            assert usage["cache_creation_input_tokens"] == usage["cache_read_input_tokens"] == 0
    with MessagesServer(script(text("a"), text("b"))) as server:
        usages = [post(server, body(system=SYSTEM))[2]["usage"] for _ in range(2)]
        assert usages[0] == usages[1] and usages[1]["cache_read_input_tokens"] == 0
        assert usages[1]["input_tokens"] > 1024


def test_count_tokens_matches_the_input_of_a_reply_and_scripted_usage_overrides() -> None:
    with MessagesServer(script(text("x", usage={"output_tokens": 77}))) as server:
        api, prompt = client(server), {"model": MODEL, "messages": [user("hey")], "tools": [TOOL], "system": SYSTEM}
        counted = api.messages.count_tokens(**prompt)
        reply = api.messages.create(**prompt, max_tokens=10)
        assert counted.input_tokens == reply.usage.input_tokens > 700 + 346
        assert reply.usage.output_tokens == 77 and server.usage.output_tokens == 77
        assert server.requests[0].path == "/v1/messages/count_tokens"
        status, _, error = post(server, {"messages": [user("x")]}, path=server.path + "/count_tokens")
        assert status == 400 and error["error"]["message"] == "model: Field required"


# --- auth, paths, recording -------------------------------------------------------------------


def test_the_sdk_sends_api_key_and_auth_token_as_bearer() -> None:
    with MessagesServer(script(text("a"), text("b")), api_key="K", auth="bearer") as server:
        assert client(server, api_key="K").messages.create(**ASK)
        assert client(server, api_key=None, auth_token="K").messages.create(**ASK)
        assert all("x-api-key" not in r.headers for r in server.requests)
    with MessagesServer(script(text("a")), api_key="K", auth="x-api-key") as server:
        with pytest.raises(anthropic.AuthenticationError, match="x-api-key header is required"):
            client(server, api_key="K").messages.create(**ASK)


def test_x_api_key_style_needs_a_default_header() -> None:
    with MessagesServer(script(text("a")), api_key="K", auth="x-api-key") as server:
        api = anthropic.Anthropic(base_url=server.url, max_retries=0, default_headers={"x-api-key": "K"})
        api.messages.create(**ASK)
        assert server.requests[0].headers["x-api-key"] == "<redacted>"
        assert "authorization" not in server.requests[0].headers


def test_missing_or_wrong_credentials_are_401_not_violations() -> None:
    with MessagesServer(script(text("a")), api_key="K") as server:
        anonymous = anthropic.Anthropic(base_url=server.url, max_retries=0, default_headers={"Authorization": Omit()})
        with pytest.raises(anthropic.AuthenticationError) as caught:
            anonymous.messages.create(**ASK)
        assert caught.value.body["error"]["type"] == "authentication_error"
        with pytest.raises(anthropic.AuthenticationError, match="invalid bearer token"):
            client(server, api_key="wrong").messages.create(**ASK)
        status, _, error = post(server, body(), {"x-api-key": "wrong", "authorization": "Bearer K"})
        assert status == 401 and error["error"]["message"] == "invalid x-api-key"  # x-api-key wins, as at the API
        assert "wrong" not in repr(server.requests)
        assert server.violations == [] and server.remaining == 1


def test_a_gateway_path_without_v1() -> None:
    with MessagesServer(script(text("a"), text("b")), path="/messages") as server:
        assert server.url == server.origin and server.endpoint == server.origin + "/messages"
        assert post(server, body())[0] == 200
        status, _, error = post(server, body(), path="/v1/messages")
        assert status == 404 and error["error"]["type"] == "not_found_error"
    with MessagesServer(script(text("c")), path="/gateway/v1/messages") as server:
        assert client(server).messages.create(**ASK).content[0].text == "c" and server.url.endswith("/gateway")
        assert server.requests[0].path == "/gateway/v1/messages"


def test_requests_are_recorded_with_body_headers_and_status() -> None:
    with MessagesServer(script(text("a"))) as server:
        client(server).beta.messages.create(**ASK)
        post(server, b"{not json")
        first, second = server.requests
    assert (first.method, first.path, first.status) == ("POST", "/v1/messages", 200)
    assert first.body["messages"] == ASK["messages"] and first.headers["authorization"] == "<redacted>"
    assert second.status == 400 and second.body == "{not json"
    assert server.violations[0].startswith("There was an error parsing the body")


def test_parallel_conversations_each_get_one_turn() -> None:
    turns = [text(f"reply {i}") for i in range(8)]
    with MessagesServer(script(*turns)) as server:
        api = client(server)
        with ThreadPoolExecutor(max_workers=8) as pool:
            asks = [ASK | {"messages": [user(f"task {i}")]} for i in range(8)]
            replies = list(pool.map(lambda a: api.messages.create(**a).content[0].text, asks))
        assert sorted(replies) == sorted(f"reply {i}" for i in range(8))
        assert server.remaining == 0 and server.violations == []


def test_a_bug_in_the_server_is_a_500_and_a_violation(monkeypatch: pytest.MonkeyPatch) -> None:
    with MessagesServer(script(text("a"))) as server:
        monkeypatch.setattr(server, "_reply", lambda *args: 1 / 0)
        with pytest.raises(anthropic.InternalServerError, match="test server error: ZeroDivisionError"):
            client(server, max_retries=2).messages.create(**ASK)
        assert len(server.requests) == 1 and server.violations[0].startswith("test server error")


# --- scripts and the command ----------------------------------------------------------------


def test_scripts_load_from_yaml_and_json(tmp_path: Path) -> None:
    data = {"turns": [view("/a"), {"fault": "rate_limit", "retry_after": 2}, text("done")]}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data))
    (tmp_path / "s.json").write_text(json.dumps(data))
    loaded = Script.load(tmp_path / "s.yaml")
    assert loaded == Script.load(tmp_path / "s.json") == Script.model_validate(data)
    assert [type(e) for e in loaded.turns] == [Turn, Fault, Turn]
    with pytest.raises(ValidationError):
        Script.model_validate({"turns": [{"content": [{"type": "text", "txt": "typo"}]}]})
    with pytest.raises(ValidationError, match="needs 'status'"):
        Script.model_validate({"turns": [{"fault": "status"}]})


@pytest.mark.slow  # a real process, ended by a signal
def test_the_command_serves_a_script_until_interrupted(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(yaml.safe_dump({"turns": [text("from the command")]}))
    command = [sys.executable, "-m", "editor_agent.testing", "--script", str(tmp_path / "s.yaml"), "--api-key", "K"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        reply = anthropic.Anthropic(api_key="K", base_url=url, max_retries=0).messages.create(**ASK)
        assert reply.content[0].text == "from the command"
    finally:
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=10)
    assert process.returncode == 0 and "1 requests, 0 violations" in errors


# --- the server's own tool table, not the harness's tools.yaml --------------------------------------


@pytest.mark.parametrize("cassette", sorted(CASSETTE_NAMES))
def test_the_servers_tool_table_accepts_every_recorded_real_request(cassette: str) -> None:
    recorded = yaml.safe_load(shared_data(*CASSETTES, cassette).read_text())
    sent = 0
    for interaction in recorded["interactions"]:
        request, response = interaction["request"], interaction["response"]
        assert response["status"]["code"] == 200
        payload = request["parsed_body"]
        for tool in payload.get("tools", []):
            sent += 1
            assert catalog.VERSIONS[tool["type"]].name == tool["name"]
            assert tool["type"] in catalog.model_rule(payload["model"]).tools  # type: ignore[union-attr]
        headers = {
            "anthropic-version": "2023-06-01",
            "anthropic-beta": ",".join(request["headers"].get("anthropic-beta", [])),
        }
        assert first_problem(payload, headers, Rules()) is None
        reply = response.get("parsed_body") or {}
        for block in reply.get("content", []):
            if block["type"] == "tool_use":
                assert block["name"] == catalog.VERSIONS[payload["tools"][0]["type"]].name
    assert sent > 0


SONNET_4_RULE = "match: claude-sonnet-4*\n    tool: text_editor_20250728"
# A wrong rule in the packaged tools.yaml: (old, new) edits, the model, extra flags, what the server says.
LAST_20250429_LINE = "insert_param: insert_text\n  text_editor_20250728:"
WRONG_RULES = {
    "a version the model refuses": (
        [(SONNET_4_RULE, SONNET_4_RULE.replace("20250728", "20250429"))],
        "claude-sonnet-4-5", [], "'claude-sonnet-4-5' does not support tool types: text_editor_20250429",
    ),
    "a wrong tool name": (
        [("20250728:\n    name: str_replace_based_edit_tool", "20250728:\n    name: str_replace_editor")],
        "claude-opus-4-5", [], "tools.0.text_editor_20250728.name: Input should be 'str_replace_based_edit_tool'",
    ),
    "a missing beta": (
        [("    betas: [computer-use-2024-10-22]\n", "")],
        "claude-3-5-sonnet-20241022", [], "'text_editor_20241022' is only available with the anthropic-beta header",
    ),
    "max_characters where the version takes none": (
        [(SONNET_4_RULE, SONNET_4_RULE.replace("20250728", "20250429")),
         (LAST_20250429_LINE, LAST_20250429_LINE.replace("\n", "\n    max_characters: true\n", 1))],
        "claude-sonnet-4-20250514", ["--max-characters", "5000"], "max_characters: Extra inputs are not permitted",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", WRONG_RULES)
def test_a_wrong_rule_in_the_packaged_tools_yaml_is_caught_by_the_server(
    case: str, monkeypatch: pytest.MonkeyPatch, run_cli: RunCli, tmp_path: Path
) -> None:
    edits, model, flags, said = WRONG_RULES[case]
    wrong = (Path(versions.__file__).parents[1] / "tools.yaml").read_text(encoding="utf-8")
    for old, new in edits:
        assert wrong.count(old) == 1, old
        wrong = wrong.replace(old, new)

    class Packaged:  # what `importlib.resources` finds in the installed package
        def files(self, package: str) -> Packaged:
            return self

        def joinpath(self, name: str) -> Packaged:
            return self

        def read_text(self, encoding: str) -> str:
            return wrong

    versions.load_tools_file.cache_clear()
    monkeypatch.setattr(versions, "resources", Packaged())
    try:
        assert (
            versions.resolve_model(model, warn=False).tool.type
            == versions.load_tools_file().versions[versions.resolve_model(model, warn=False).tool.type].type
        )  # the harness really reads the wrong file
        with MessagesServer(script(text("done")), api_key=KEY) as server:
            env = {"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": server.url}
            done = run_cli("run", "look", "--workspace", str(tmp_path), "--model", model, "--max-retries", "0",
                           "--json", *flags, env=env)  # fmt: skip
            violations = list(server.violations)
    finally:
        versions.load_tools_file.cache_clear()
    assert done.returncode != 0, done.stdout
    assert len(violations) == 1 and said in violations[0], violations


@pytest.mark.parametrize(
    ("model", "accepted"),
    [
        ("claude-3-5-sonnet-20241022", {"text_editor_20241022"}),
        ("claude-3-7-sonnet-20250219", {"text_editor_20250124"}),
        ("us.anthropic.claude-sonnet-4-20250514-v1:0", {"text_editor_20250429", "text_editor_20250728"}),
        ("claude-opus-4-1-20250805", {"text_editor_20250429", "text_editor_20250728"}),
        ("claude-sonnet-4-5-20250929", {"text_editor_20250728"}),  # observed: 20250429 is refused
        ("claude-sonnet-4-6", {"text_editor_20250728"}),
        ("claude-3-haiku-20240307", set()),
        ("gpt-4o", None),
    ],
)
def test_the_servers_model_table(model: str, accepted: set[str] | None) -> None:
    rule = catalog.model_rule(model)
    assert (None if rule is None else set(rule.tools)) == accepted
