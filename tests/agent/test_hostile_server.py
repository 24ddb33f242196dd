"""A server that never finishes a reply, sends an enormous one, or sends nonsense: the run still ends cleanly.

Each run goes through the real SDK over HTTP to `HostileServer`, which sends exactly the bytes a test gives.
Every such run must end with a status, a one-line error and an `end` event in its transcript: never a hang,
never a traceback.
"""

from __future__ import annotations

import copy
import functools
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from editor_agent.agent import reply
from editor_agent.agent.loop import RunResult
from editor_agent.agent.session import Session
from editor_agent.agent.settings import RunOptions, RunSettings
from editor_agent.agent.transcript import read_events
from editor_agent.agent.usage import Usage
from editor_agent.api import client
from editor_agent.api.connection import Connection
from editor_agent.testing.hostile import PING, START, HostileServer, end_of_reply, event, text_reply
from editor_agent.testing.sse import message_events

KEY = "sk-test-secret-value"
TOOL = "str_replace_based_edit_tool"
GIVE_UP = 15.0  # a server that should have been cut off long before finishes its reply after this long


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "shop.py").write_text("def total(x):\n    return x\n")
    return root


@pytest.fixture(autouse=True)
def credential(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)


def run(server: HostileServer, repo: Path, retries: int = 1, **settings: Any) -> RunResult:
    options = RunOptions(
        workspace=repo,
        model="claude-opus-4-5",
        settings=RunSettings(**settings),
        connection=Connection(base_url=server.url, max_retries=retries),
        transcript=repo.parent / "run.jsonl",
    )
    with Session.open(options) as session:
        return session.loop.run("Look at shop.py.")


def ended_cleanly(result: RunResult, status: str) -> str:
    """The one-line error of a run that ended with `status` and wrote its `end` event."""
    assert result.status == status, (result.status, result.error)
    error = result.error or ""
    assert error and "\n" not in error and "Traceback" not in error
    assert len(error) < 400, error
    assert result.transcript is not None
    last = read_events(Path(result.transcript))[-1]
    assert last["event"] == "end" and last["status"] == status and last["error"] == error
    return error


def block_start(index: int, block: dict[str, Any]) -> bytes:
    return event({"type": "content_block_start", "index": index, "content_block": block})


def delta(index: Any, change: dict[str, Any]) -> bytes:
    return event({"type": "content_block_delta", "index": index, "delta": change})


def block_stop(index: int) -> bytes:
    return event({"type": "content_block_stop", "index": index})


TEXT = {"type": "text", "text": ""}


# --- the time limit holds while a reply is arriving --------------------------------------------------


def test_a_reply_of_endless_pings_ends_at_the_time_limit(repo: Path):
    opened = time.monotonic()

    def pings() -> Iterator[bytes | float]:
        yield event(START)
        yield block_start(0, TEXT)
        while time.monotonic() - opened < GIVE_UP:
            yield PING
            yield 0.05
        yield from [block_stop(0), *end_of_reply()]

    with HostileServer(pings) as server:
        began = time.monotonic()
        result = run(server, repo, max_seconds=2)
        took = time.monotonic() - began
    assert "time limit" in ended_cleanly(result, "timeout")
    assert took < 6, f"the run went on for {took:.1f} s past a 2 s limit"


def test_a_server_silent_after_its_headers_ends_at_the_time_limit(repo: Path):
    with HostileServer(lambda: [event(START), GIVE_UP, *text_reply()[1:]]) as server:
        began = time.monotonic()
        result = run(server, repo, max_seconds=2)
        took = time.monotonic() - began
    assert "time limit" in ended_cleanly(result, "timeout")
    assert took < 6, f"the run went on for {took:.1f} s past a 2 s limit"


def test_a_server_that_never_answers_ends_at_the_time_limit_however_many_retries(repo: Path):
    with HostileServer(lambda: [GIVE_UP, *text_reply()]) as server:
        began = time.monotonic()
        result = run(server, repo, retries=4, max_seconds=2)
        took = time.monotonic() - began
    assert "time limit" in ended_cleanly(result, "timeout")
    assert took < 4, f"the run went on for {took:.1f} s past a 2 s limit"


def test_a_retry_after_longer_than_the_time_left_is_not_waited_out(repo: Path):
    overloaded = b'{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'
    with HostileServer(lambda: [overloaded], status=529, headers={"retry-after": "20"}) as server:
        began = time.monotonic()
        result = run(server, repo, max_seconds=2)
        took = time.monotonic() - began
    assert "time limit" in ended_cleanly(result, "timeout")
    assert took < 4, f"the run went on for {took:.1f} s past a 2 s limit"


def test_a_retry_after_of_a_day_is_not_waited_out_without_a_time_limit(repo: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(client, "MAX_RETRY_WAIT", 0.5)
    overloaded = b'{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'
    with HostileServer(lambda: [overloaded], status=529, headers={"retry-after": "86400"}) as server:
        began = time.monotonic()
        result = run(server, repo, retries=2)
        took = time.monotonic() - began
        assert server.requests == 3
    assert "529" in ended_cleanly(result, "error")
    assert took < 3


# --- one reply's size is capped -----------------------------------------------------------------


def test_a_reply_larger_than_the_cap_ends_the_run_with_an_error(repo: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(reply, "MAX_REPLY_BYTES", 1 << 20)
    piece = b"x" * 65536

    def huge() -> Iterator[bytes]:
        yield event(START)
        yield block_start(0, TEXT)
        yield b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"text":"'
        yield from [piece] * 40  # 2.5 MiB in one event
        yield b'"}}\n\n'
        yield from [block_stop(0), *end_of_reply()]

    with HostileServer(huge) as server:
        result = run(server, repo)
        assert server.requests == 1  # not worth asking again
    error = ended_cleanly(result, "error")
    assert "larger than 1 MiB" in error


def test_the_default_cap_holds_for_one_endless_event():
    piece = b"y" * 65536
    chunks = [b"data: "] + [piece] * (reply.MAX_REPLY_BYTES // len(piece) + 2)
    with pytest.raises(reply.StreamError, match="larger than 64 MiB") as caught:
        reply.read_streamed_reply(chunks)
    assert not caught.value.transient
    assert reply.MAX_REPLY_BYTES == 64 << 20


# --- malformed replies ----------------------------------------------------------------------------

DEEP = "[" * 100_000 + "]" * 100_000
TOOL_USE = {"type": "tool_use", "id": "toolu_1", "name": TOOL, "input": {}}
VIEW = '{"command":"view","path":"/repo/shop.py"}'

MALFORMED: dict[str, list[bytes]] = {
    "tool_use without an id": [
        event(START),
        block_start(0, {"type": "tool_use", "name": TOOL, "input": {}}),
        delta(0, {"type": "input_json_delta", "partial_json": VIEW}),
        block_stop(0),
        *end_of_reply("tool_use"),
    ],
    "tool_use input that is not an object": [
        event(START),
        block_start(0, {**TOOL_USE, "input": [1, 2]}),
        block_stop(0),
        *end_of_reply("tool_use"),
    ],
    "tool_use input nested 100,000 deep": [
        event(START),
        block_start(0, TOOL_USE),
        delta(0, {"type": "input_json_delta", "partial_json": '{"command":' + DEEP + "}"}),
        block_stop(0),
        *end_of_reply("tool_use"),
    ],
    "an event nested 100,000 deep": [event(START), event(DEEP), *end_of_reply()],
    "message null in message_start": [event({"type": "message_start", "message": None}), *end_of_reply()],
    "content that is not a list": [
        event({**START, "message": {**START["message"], "content": "hi"}}),
        *end_of_reply(),
    ],  # fmt: skip
    "content_block null": [event(START), block_start(0, None), block_stop(0), *end_of_reply()],  # type: ignore[arg-type]
    "a block without a type": [event(START), block_start(0, {"text": "hi"}), block_stop(0), *end_of_reply()],
    "a block started at the wrong index": [
        event(START),
        block_start(3, TEXT),
        delta(3, {"type": "text_delta", "text": "hi"}),
        block_stop(3),
        *end_of_reply(),
    ],
    "a delta for an index out of range": [
        event(START),
        block_start(0, TEXT),
        delta(7, {"type": "text_delta", "text": "hi"}),
        block_stop(0),
        *end_of_reply(),
    ],
    "a delta for a block never started": [
        event(START),
        delta(0, {"type": "signature_delta", "signature": "sig"}),
        *end_of_reply(),
    ],
    "an index that is not a number": [
        event(START),
        block_start(0, TEXT),
        delta("0", {"type": "text_delta", "text": "hi"}),
        block_stop(0),
        *end_of_reply(),
    ],
    "a delta event without its delta": [
        event(START),
        block_start(0, TEXT),
        event({"type": "content_block_delta", "index": 0}),
        block_stop(0),
        *end_of_reply(),
    ],
    "a text delta that is not text": [
        event(START),
        block_start(0, TEXT),
        delta(0, {"type": "text_delta", "text": 5}),
        block_stop(0),
        *end_of_reply(),
    ],
    "a message_delta that is not an object": [
        *text_reply()[:-2],
        event({"type": "message_delta", "delta": "end_turn"}),
        event({"type": "message_stop"}),
    ],
    "usage that is not a number": [
        *text_reply()[:-2],
        event({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": "many"}}),
        event({"type": "message_stop"}),
    ],
    "an error event that is not an object": [event(START), event({"type": "error", "error": "boom"})],
    "content events before message_start": [block_start(0, TEXT), *text_reply()],
}


@pytest.mark.parametrize("events", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_reply_ends_the_run_with_a_one_line_error(repo: Path, events: list[bytes]):
    with HostileServer(lambda: events) as server:
        result = run(server, repo, stream_retries=0)
    error = ended_cleanly(result, "error")
    assert "malformed reply" in error
    assert (repo / "shop.py").read_text() == "def total(x):\n    return x\n"


def test_a_well_formed_reply_from_the_hostile_server_completes(repo: Path):
    """The control: the server itself is sound, so the errors above are the replies' own."""
    with HostileServer(lambda: text_reply("All good.")) as server:
        result = run(server, repo)
    assert result.status == "completed" and result.final_text == "All good."


def test_a_whole_json_message_instead_of_the_stream_asked_for_is_an_error_not_retried(repo: Path):
    message = b'{"id":"msg_1","type":"message","role":"assistant","content":[],"stop_reason":"end_turn","usage":{}}'
    with HostileServer(lambda: [message], headers={"content-type": "application/json"}) as server:
        result = run(server, repo)
        assert server.requests == 1
    error = ended_cleanly(result, "error")
    assert "malformed reply" in error and "application/json" in error


# --- the reader itself, on any mutation of a well-formed stream ---------------------------------------

_ANY = st.one_of(st.none(), st.booleans(), st.integers(-2, 99), st.text(max_size=3), st.just([]), st.just({}),
                 st.just([1]), st.just({"type": "text"}))  # fmt: skip
_REPLY = {
    "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-opus-4-5",
    "content": [{"type": "thinking", "thinking": "hm", "signature": "sig"}, {"type": "text", "text": "hello there"},
                {"type": "tool_use", "id": "toolu_1", "name": TOOL, "input": {"command": "view", "path": "/r"}}],
    "stop_reason": "tool_use", "stop_sequence": None, "usage": {"input_tokens": 3, "output_tokens": 5},
}  # fmt: skip


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a JSON value that a mutation may change."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        yield (*path, key)
        yield from _paths(item, (*path, key))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_mutated_stream_is_read_whole_or_refused_with_a_stream_error(data: st.DataObject):
    events = [copy.deepcopy(e) for _, e in message_events(_REPLY)]
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.sampled_from(list(_paths(events))))
        parent = functools.reduce(lambda value, key: value[key], where[:-1], events)
        if data.draw(st.booleans()) and isinstance(parent, dict):
            del parent[where[-1]]
        else:
            parent[where[-1]] = copy.deepcopy(data.draw(_ANY))  # `just` draws the same list each time
    wire = b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events)
    try:
        message = reply.read_streamed_reply([wire])
    except reply.StreamError:
        return
    json.dumps(message)  # what the transcript and the next request do with it
    Usage().add(message["usage"])
    RunResult(status="completed", stop_reason=message.get("stop_reason"))
    for block in message["content"]:
        assert isinstance(block, dict) and isinstance(block["type"], str)
        if block["type"] == "tool_use":
            assert isinstance(block["id"], str) and isinstance(block["name"], str) and isinstance(block["input"], dict)
        if block["type"] in ("text", "thinking"):
            assert isinstance(block[block["type"]], str)


def test_a_request_after_the_deadline_is_not_sent():
    from editor_agent.api.transport import StdlibTransport, deadline

    with HostileServer(lambda: text_reply()) as server, StdlibTransport() as transport:
        client = httpx2.Client(transport=transport)
        with deadline(time.monotonic() - 1), pytest.raises(httpx2.ConnectTimeout, match="time limit"):
            client.post(server.url + "/v1/messages", content=b"{}")
        with deadline(time.monotonic() + 30):
            assert client.post(server.url + "/v1/messages", content=b"{}").status_code == 200
        assert server.requests == 1
