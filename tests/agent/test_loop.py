"""The agent loop against the local Messages API server, through the real SDK over HTTP."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from editor_agent.agent.progress import ConsoleProgress, Progress
from editor_agent.agent.replay import replay
from editor_agent.agent.session import new_run_id
from editor_agent.agent.settings import RunSettings
from editor_agent.agent.transcript import read_events
from editor_agent.api.connection import Connection
from editor_agent.testing import MessagesServer, Script

from ..conftest import FIX, KEY, RunCli, run_session, text, use


@pytest.fixture(autouse=True)
def credential(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)


def test_multi_tool_session_completes(repo: Path):
    with MessagesServer(Script.model_validate({"turns": FIX}), api_key=KEY, min_cache_tokens=0) as server:
        result = run_session(server, repo)
        assert server.violations == []
        requests = [r.body for r in server.requests]
    assert result.status == "completed" and result.stop_reason == "end_turn"
    assert result.turns == 3
    assert (repo / "shop.py").read_text().endswith("total * percent / 100\n")
    assert result.files_changed == ["/repo/shop.py"]
    assert "+    return total - total * percent / 100" in result.diff
    assert result.final_text == "Fixed: the percentage is now divided by 100."
    assert requests[0]["tools"][0]["type"] == "text_editor_20250728"
    third = requests[2]["messages"]
    results = third[-1]["content"]
    assert [b["type"] for b in results] == ["tool_result", "tool_result"]
    assert "has been edited" in results[0]["content"] and "is_error" not in results[0]
    breakpoints = sum(
        1 for m in third for b in (m["content"] if isinstance(m["content"], list) else []) if "cache_control" in b
    )
    assert breakpoints == 2  # the newest two user turns (plus the system prompt)
    assert result.usage.cache_read_input_tokens > 0, "the second request should reuse the first one's prefix"
    assert result.cost_usd is not None and result.cost_usd > 0


def test_errors_go_back_as_is_error(repo: Path):
    turns = [
        {"content": [use("view", path="/etc/passwd"), use("delete", path="/repo/shop.py")]},
        {"content": [{"type": "tool_use", "name": "bash", "input": {"command": "ls"}}]},
        {"content": [text("I cannot.")], "stop_reason": "end_turn"},
    ]
    with MessagesServer(Script.model_validate({"turns": turns}), api_key=KEY) as server:
        result = run_session(server, repo)
        assert server.violations == []
        second = server.requests[1].body["messages"][-1]["content"]
        third = server.requests[2].body["messages"][-1]["content"]
    assert result.status == "completed"
    assert [b["is_error"] for b in second] == [True, True]
    assert "outside the workspace" in second[0]["content"]
    assert third[0]["is_error"] and "Tool bash is not available" in third[0]["content"]


def test_thinking_blocks_go_back_unmodified(repo: Path):
    turns = [
        {"content": [{"type": "thinking", "thinking": "The bug is in percent."}, use("view", path="/repo/shop.py")]},
        {
            "content": [{"type": "redacted_thinking", "data": "opaque=="}, text("Looks fine.")],
            "stop_reason": "end_turn",
        },
    ]
    with MessagesServer(Script.model_validate({"turns": turns}), api_key=KEY) as server:
        result = run_session(server, repo, settings=RunSettings(thinking=2048))
        assert server.violations == []
        first, second = server.requests[0], server.requests[1]
    assert result.status == "completed"
    assert first.body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert "interleaved-thinking-2025-05-14" in first.headers.get("anthropic-beta", "")
    sent_back = second.body["messages"][1]["content"][0]
    assert sent_back["type"] == "thinking" and sent_back["signature"]


def test_adaptive_thinking(repo: Path):
    turns = [{"content": [text("ok")], "stop_reason": "end_turn"}]
    with MessagesServer(Script.model_validate({"turns": turns}), api_key=KEY) as server:
        run_session(server, repo, model="claude-opus-4-6", settings=RunSettings(thinking="adaptive"))
        assert server.requests[0].body["thinking"] == {"type": "adaptive"}
        assert "anthropic-beta" not in server.requests[0].headers
        assert server.violations == []


def test_pause_turn_is_sent_back_and_continued(repo: Path):
    turns = [
        {"content": [text("Working on it")], "stop_reason": "pause_turn"},
        {"content": [text("Done.")], "stop_reason": "end_turn"},
    ]
    with MessagesServer(Script.model_validate({"turns": turns}), api_key=KEY) as server:
        result = run_session(server, repo)
        assert server.violations == []
        assert server.requests[1].body["messages"][-1]["role"] == "assistant"
    assert result.status == "completed" and result.turns == 2


def test_max_tokens_mid_tool_call_is_not_executed(repo: Path):
    turns = [
        {
            "content": [text("Creating"), use("create", path="/repo/notes.md", file_text="par")],
            "stop_reason": "max_tokens",
        },
        {"content": [use("create", path="/repo/notes.md", file_text="partial is now whole\n")]},
        {"content": [text("Done.")], "stop_reason": "end_turn"},
    ]
    with MessagesServer(Script.model_validate({"turns": turns}), api_key=KEY) as server:
        result = run_session(server, repo)
        assert server.violations == []
        note = server.requests[1].body["messages"][-1]["content"]
    assert result.status == "completed"
    assert (repo / "notes.md").read_text() == "partial is now whole\n"
    assert note[0]["type"] == "tool_result" and note[0]["is_error"] and "was NOT executed" in note[0]["content"]
    assert note[-1]["type"] == "text" and "output limit" in note[-1]["text"]
    events = read_events(result.transcript)
    assert sum(1 for e in events if e["event"] == "tool_call") == 1


def test_max_tokens_repeatedly_stops(repo: Path):
    cut = {"content": [text("and so on")], "stop_reason": "max_tokens"}
    with MessagesServer(Script.model_validate({"turns": [cut] * 3}), api_key=KEY) as server:
        result = run_session(server, repo, settings=RunSettings(max_continuations=2))
        assert server.violations == []
    assert result.status == "max_tokens" and result.turns == 3


def test_refusal_stops_without_running_tools(repo: Path):
    turns = [{"content": [text("I can't help with that.")], "stop_reason": "refusal"}]
    with MessagesServer(Script.model_validate({"turns": turns}), api_key=KEY) as server:
        result = run_session(server, repo)
    assert result.status == "refused" and result.stop_reason == "refusal"
    assert result.files_changed == []


def test_context_window_exceeded(repo: Path):
    turns = [{"content": [text("...")], "stop_reason": "model_context_window_exceeded"}]
    with MessagesServer(Script.model_validate({"turns": turns}), api_key=KEY) as server:
        result = run_session(server, repo)
    assert result.status == "context_exceeded"


def test_limits_stop_cleanly_and_keep_edits(repo: Path):
    turns = FIX[1:2] + FIX[1:2]
    with MessagesServer(Script.model_validate({"turns": turns}), api_key=KEY) as server:
        result = run_session(server, repo, settings=RunSettings(max_turns=1))
    assert result.status == "max_turns" and result.turns == 1
    assert result.files_changed == ["/repo/shop.py"]
    with MessagesServer(Script.model_validate({"turns": FIX}), api_key=KEY) as server:
        result = run_session(server, repo, settings=RunSettings(max_total_tokens=10))
    assert result.status == "budget" and result.turns == 1
    with MessagesServer(Script.model_validate({"turns": FIX}), api_key=KEY) as server:
        result = run_session(server, repo, settings=RunSettings(max_cost_usd=0.000001))
    assert result.status == "budget"


def test_turns_of_failed_tool_calls_in_a_row_stop_as_stuck(repo: Path):
    before = (repo / "shop.py").read_bytes()
    wrong = {"content": [use("str_replace", path="/repo/shop.py", old_str="no such text", new_str="x")]}
    others = [{"content": [use("view", path=f"/repo/missing{i}.py"), use("view", path="/repo/nope")]} for i in range(3)]
    turns = [wrong, *others, wrong, wrong, *FIX[2:]]
    with MessagesServer(Script.model_validate({"turns": turns}), api_key=KEY) as server:
        result = run_session(server, repo, settings=RunSettings(max_failed_turns=6))
        assert server.remaining == 1 and not server.violations  # stopped before the seventh request
    assert result.status == "stuck" and result.turns == 6
    assert "every tool call failed in the last 6 turns" in (result.error or "")
    assert (repo / "shop.py").read_bytes() == before
    events = read_events(repo.parent / "run.jsonl")
    assert events[-1]["event"] == "end" and events[-1]["status"] == "stuck"


def test_failures_in_one_turn_count_once_and_one_success_resets(repo: Path):
    many = {"content": [use("view", path=f"/repo/missing{i}.py") for i in range(6)]}  # parallel calls, one turn
    mixed = {"content": [use("view", path="/repo/missing.py"), use("view", path="/repo/shop.py")]}
    turns = [many, many, mixed, many, many, *FIX[2:]]
    with MessagesServer(Script.model_validate({"turns": turns}), api_key=KEY) as server:
        result = run_session(server, repo, settings=RunSettings(max_failed_turns=3))
    assert result.status == "completed" and result.turns == 6


def test_the_same_calls_with_the_same_results_stop_as_stuck(repo: Path):
    again = {"content": [text("Let me look once more."), use("view", path="/repo/shop.py")]}
    with MessagesServer(Script.model_validate({"turns": [again] * 5 + FIX[2:]}), api_key=KEY) as server:
        result = run_session(server, repo, settings=RunSettings(max_repeats=4))
    assert result.status == "stuck" and result.turns == 4
    assert "same tool calls with the same results 4 turns in a row" in (result.error or "")
    # a view whose result changed in between (the file was edited) is not a repeat
    edit = {"content": [use("insert", path="/repo/shop.py", insert_line=0, insert_text="# note")]}
    view = {"content": [use("view", path="/repo/shop.py")]}
    with MessagesServer(Script.model_validate({"turns": [view, edit, view, edit, view, *FIX[2:]]}), api_key=KEY) as s:
        result = run_session(s, repo, settings=RunSettings(max_repeats=2))
    assert result.status == "completed"


def test_a_continued_reply_counts_as_a_turn_for_the_stuck_limits(repo: Path):
    bad = {"content": [use("view", path="/repo/missing.py")]}
    ok_cut = {"content": [use("view", path="/repo/shop.py"), text("and then")], "stop_reason": "max_tokens"}
    with MessagesServer(Script.model_validate({"turns": [bad, ok_cut, bad, *FIX[2:]]}), api_key=KEY) as server:
        assert run_session(server, repo, settings=RunSettings(max_failed_turns=2)).status == "completed"
    view = {"content": [use("view", path="/repo/shop.py")]}
    other = use("view", path="/repo/shop.py", view_range=[1, 1])
    other_cut = {"content": [other, text("so")], "stop_reason": "max_tokens"}
    with MessagesServer(Script.model_validate({"turns": [view, other_cut, view, *FIX[2:]]}), api_key=KEY) as server:
        assert run_session(server, repo, settings=RunSettings(max_repeats=2)).status == "completed"


def test_a_resumed_run_keeps_counting_toward_the_stuck_limits(repo: Path, tmp_path: Path):
    bad = {"content": [use("view", path="/repo/missing.py")]}
    turns = [bad, bad, {"fault": "drop"}, bad, *FIX[2:]]
    settings = RunSettings(max_failed_turns=3, stream_retries=0)
    with MessagesServer(Script.model_validate({"turns": turns}), api_key=KEY) as server:
        first = run_session(server, repo, settings=settings, transcript=tmp_path / "t.jsonl")
        assert first.status == "error" and first.turns == 3
        second = run_session(server, repo, settings=settings, resume_from=tmp_path / "t.jsonl")
        assert not server.violations and server.remaining == 1
    assert second.status == "stuck" and "last 3 turns" in (second.error or "")


def test_a_follow_up_starts_the_stuck_counts_afresh(repo: Path):
    from editor_agent.agent.loop import AgentLoop
    from editor_agent.agent.sdk_model import SDKModel
    from editor_agent.api.client import build_client
    from editor_agent.tool.editor import Editor
    from editor_agent.tool.versions import resolve_model
    from editor_agent.workspace.sandbox import Workspace

    wrong = {"content": [use("view", path="/repo/missing.py")]}
    done = {"content": [text("Done.")], "stop_reason": "end_turn"}
    turns = [wrong, wrong, done, wrong, wrong, done]
    with MessagesServer(Script.model_validate({"turns": turns}), api_key=KEY) as server:
        resolved = resolve_model("claude-opus-4-5")
        connection = Connection(base_url=server.url)
        model = SDKModel(build_client(connection), connection, resolved)
        editor = Editor(Workspace(repo), resolved.tool)
        loop = AgentLoop(model, editor, resolved, settings=RunSettings(max_failed_turns=3))
        assert loop.run("first").status == "completed"
        assert loop.follow_up("the check failed: try again").status == "completed"
        assert not server.violations


@pytest.mark.parametrize(
    "fault",
    [
        {"fault": "rate_limit", "retry_after": 0},
        {"fault": "overloaded"},
        {"fault": "server_error"},
        {"fault": "drop"},
    ],
)
def test_transient_faults_are_retried_without_double_execution(repo: Path, fault: dict[str, Any]):
    turns = [FIX[0], fault, *FIX[1:]]
    with MessagesServer(Script.model_validate({"turns": turns}), api_key=KEY) as server:
        result = run_session(server, repo)
        assert server.violations == []
    assert result.status == "completed", result.error
    assert (repo / "shop.py").read_text().endswith("total * percent / 100\n")
    events = read_events(result.transcript)
    ids = [e["id"] for e in events if e["event"] == "tool_call"]
    assert len(ids) == len(set(ids)) == 3


def test_retry_after_is_honoured(repo: Path):
    turns = [{"fault": "rate_limit", "retry_after": 1}, {"content": [text("ok")], "stop_reason": "end_turn"}]
    with MessagesServer(Script.model_validate({"turns": turns}), api_key=KEY) as server:
        result = run_session(server, repo)
        assert len(server.requests) == 2
    assert result.status == "completed"


def test_a_wait_before_a_retry_is_said_on_screen(repo: Path):
    """A 429 with retry-after pauses the run: the person sees what is waited for and how long."""
    screen = io.StringIO()
    turns = [{"fault": "rate_limit", "retry_after": 1}, {"content": [text("ok")], "stop_reason": "end_turn"}]
    with MessagesServer(Script.model_validate({"turns": turns}), api_key=KEY) as server:
        result = run_session(server, repo, progress=ConsoleProgress(screen))
    assert result.status == "completed"
    assert "the server asked to wait (retry-after); retrying in 1s" in screen.getvalue(), screen.getvalue()


def test_a_gateway_path_keeps_retries_and_errors(repo: Path):
    """With an endpoint path the SDK runs middleware; error replies must still be retried or raised."""
    connection = Connection(messages_path="/messages")
    turns = [{"fault": "server_error"}, {"fault": "rate_limit", "retry_after": 0}, *FIX]
    with MessagesServer(Script.model_validate({"turns": turns}), api_key=KEY, path="/messages") as server:
        result = run_session(server, repo, connection=connection)
        assert [r.status for r in server.requests] == [500, 429, 200, 200, 200] and not server.violations
    assert result.status == "completed", result.error
    denied = [{"fault": "status", "status": 403, "error_type": "permission_error", "message": "no access"}]
    with MessagesServer(Script.model_validate({"turns": denied}), api_key=KEY, path="/messages") as server:
        result = run_session(server, repo, connection=connection)
    assert result.status == "error" and "403" in (result.error or "") and "ANTHROPIC_API_KEY" in (result.error or "")


def test_a_body_field_that_cannot_be_sent_ends_the_run_with_a_clear_error(repo: Path):
    import datetime

    turns = [{"content": [text("ok")], "stop_reason": "end_turn"}]
    with MessagesServer(Script.model_validate({"turns": turns}), api_key=KEY) as server:
        dated = Connection(body={"metadata": {"user_id": datetime.date(2025, 6, 1)}})
        assert run_session(server, repo, connection=dated).status == "completed"  # a YAML date goes as ISO 8601
        assert server.requests[0].body["metadata"] == {"user_id": "2025-06-01"}
        result = run_session(server, repo, connection=Connection(body={"messages": []}))
        assert len(server.requests) == 1  # nothing sent
    assert result.status == "error" and "cannot build the request" in (result.error or "")


def test_unauthorized_names_credential_not_value(repo: Path):
    turns = [{"content": [text("ok")], "stop_reason": "end_turn"}]
    with MessagesServer(Script.model_validate({"turns": turns}), api_key="other-key") as server:
        result = run_session(server, repo)
    assert result.status == "error"
    assert "401" in result.error and "ANTHROPIC_API_KEY" in result.error and "Authorization: Bearer" in result.error
    assert KEY not in result.error
    assert KEY not in Path(result.transcript).read_text()


def test_not_found_names_model(repo: Path):
    turns = [{"fault": "status", "status": 404, "error_type": "not_found_error", "message": "model: claude-x"}]
    with MessagesServer(Script.model_validate({"turns": turns}), api_key=KEY) as server:
        result = run_session(server, repo, model="claude-sonnet-4-5-thinking")
    assert result.status == "error" and "claude-sonnet-4-5-thinking" in result.error and "404" in result.error


def test_wrong_tool_version_points_at_tools_yaml(repo: Path):
    turns = [{"content": [text("ok")], "stop_reason": "end_turn"}]
    with MessagesServer(
        Script.model_validate({"turns": turns}), api_key=KEY, accept_tools={"text_editor_20250124"}
    ) as server:
        result = run_session(server, repo)
    assert result.status == "error"
    assert "does not support tool types" in result.error and "tools.yaml" in result.error


@pytest.mark.parametrize(("auth", "header"), [("x-api-key", "x-api-key"), ("bearer", "authorization")])
def test_auth_styles(repo: Path, auth: str, header: str):
    turns = [{"content": [text("ok")], "stop_reason": "end_turn"}]
    with MessagesServer(Script.model_validate({"turns": turns}), api_key=KEY, auth=auth) as server:
        result = run_session(server, repo, connection=Connection(auth=auth))
        headers = server.requests[0].headers
    assert result.status == "completed", result.error
    assert header in headers
    other = "authorization" if header == "x-api-key" else "x-api-key"
    assert other not in headers


def test_gateway_path_version_headers_and_body(repo: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    monkeypatch.setenv("GATEWAY_KEY", KEY)
    turns = [{"content": [text("ok")], "stop_reason": "end_turn"}]
    connection = Connection(
        auth="bearer",
        credential_env="GATEWAY_KEY",
        messages_path="/messages",
        anthropic_version="2023-06-01",
        headers={"x-gateway-team": "docs"},
        betas=["context-1m-2025-08-07"],
        body={"service_tier": "auto", "metadata": {"user_id": "ci"}},
    )
    with MessagesServer(
        Script.model_validate({"turns": turns}), api_key=KEY, auth="bearer", path="/messages",
        require_version="2023-06-01",
    ) as server:  # fmt: skip
        result = run_session(server, repo, model="claude-opus-4-1-20250805-thinking", connection=connection)
        request = server.requests[0]
        assert server.violations == []
    assert result.status == "completed", result.error
    assert request.path == "/messages"
    assert request.body["model"] == "claude-opus-4-1-20250805-thinking"
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert request.headers["x-gateway-team"] == "docs"
    assert "context-1m-2025-08-07" in request.headers["anthropic-beta"]
    assert request.body["service_tier"] == "auto" and request.body["metadata"] == {"user_id": "ci"}


def test_transcript_replays_identically(repo: Path, tmp_path: Path):
    pristine = tmp_path / "pristine"
    pristine.mkdir()
    (pristine / "shop.py").write_bytes((repo / "shop.py").read_bytes())
    with MessagesServer(Script.model_validate({"turns": FIX}), api_key=KEY) as server:
        result = run_session(server, repo)
    count, differences = replay(Path(result.transcript), pristine)
    assert count == 3 and differences == []
    assert (pristine / "shop.py").read_bytes() == (repo / "shop.py").read_bytes()
    (pristine / "shop.py").write_text("something else\n")
    _, differences = replay(Path(result.transcript), pristine)
    assert differences


class _InterruptAfterFirstTool(Progress):
    def __init__(self) -> None:
        self.calls = 0

    def tool(self, tool_input: Any, content: str, is_error: bool) -> None:
        self.calls += 1
        if self.calls == 1:
            raise KeyboardInterrupt


def test_resume_does_not_repeat_executed_tool_calls(repo: Path, tmp_path: Path):
    turns = [
        {
            "content": [
                use("create", path="/repo/a.txt", file_text="a\n"),
                use("create", path="/repo/b.txt", file_text="b\n"),
            ]
        },
        {"content": [text("Both created.")], "stop_reason": "end_turn"},
    ]
    transcript = tmp_path / "interrupted.jsonl"
    with MessagesServer(Script.model_validate({"turns": turns}), api_key=KEY) as server:
        first = run_session(server, repo, progress=_InterruptAfterFirstTool(), transcript=transcript)
        assert first.status == "stopped"
        assert (repo / "a.txt").exists() and not (repo / "b.txt").exists()
        second = run_session(server, repo, resume_from=transcript)
        assert server.violations == []
    assert second.status == "completed", second.error
    assert (repo / "b.txt").read_text() == "b\n"
    calls = [e for e in read_events(transcript) if e["event"] == "tool_call"]
    assert [c["input"]["path"] for c in calls] == ["/repo/a.txt", "/repo/b.txt"]
    assert all(not c["is_error"] for c in calls)


def test_transcript_has_no_credentials(repo: Path):
    with MessagesServer(Script.model_validate({"turns": FIX}), api_key=KEY) as server:
        result = run_session(server, repo)
    raw = Path(result.transcript).read_text()
    assert KEY not in raw
    kinds = {json.loads(line)["event"] for line in raw.splitlines()}
    assert {"start", "request", "response", "tool_call", "message", "end"} <= kinds


def test_thinking_on_a_model_without_it_is_refused_before_any_request(repo: Path):
    with MessagesServer(Script.model_validate({"turns": [{"content": [text("ok")]}]}), api_key=KEY) as server:
        result = run_session(server, repo, model="claude-3-5-sonnet-20241022", settings=RunSettings(thinking=2048))
        assert server.requests == []
    assert result.status == "error" and "does not take extended thinking" in result.error


def test_run_ids_sort_in_creation_order_within_a_second():
    ids = [new_run_id() for _ in range(200)]
    assert ids == sorted(ids) and len(set(ids)) == 200


def test_a_tool_call_after_pause_turn(tmp_path: Path):
    from editor_agent.agent.session import Session
    from editor_agent.agent.settings import RunOptions
    from editor_agent.api.connection import Connection
    from editor_agent.testing import MessagesServer, Script

    (tmp_path / "a.py").write_text("x = 1\n")
    view = {
        "type": "tool_use",
        "name": "str_replace_based_edit_tool",
        "input": {"command": "view", "path": "/repo/a.py"},
    }
    turns = [
        {"content": [{"type": "text", "text": "Thinking it over"}], "stop_reason": "pause_turn"},
        {"content": [view]},
        {"content": [{"type": "text", "text": "Done."}], "stop_reason": "end_turn"},
    ]
    with MessagesServer(Script.model_validate({"turns": turns}), api_key="k") as server:
        options = RunOptions(workspace=tmp_path, model="claude-opus-4-5", transcript=tmp_path / "t.jsonl",
                             connection=Connection(base_url=server.url, api_key="k"))  # fmt: skip
        with Session.open(options) as session:
            result = session.loop.run("look")
        assert server.violations == []
    assert result.status == "completed", result.error


def test_tool_use_stop_without_a_tool_call(tmp_path: Path):
    from editor_agent.agent.session import Session
    from editor_agent.agent.settings import RunOptions
    from editor_agent.api.connection import Connection
    from editor_agent.testing import MessagesServer, Script

    turns = [{"content": [{"type": "text", "text": "hmm"}], "stop_reason": "tool_use"}]
    with MessagesServer(Script.model_validate({"turns": turns}), api_key="k") as server:
        options = RunOptions(workspace=tmp_path, model="claude-opus-4-5", transcript=tmp_path / "t.jsonl",
                             connection=Connection(base_url=server.url, api_key="k"))  # fmt: skip
        with Session.open(options) as session:
            result = session.loop.run("look")
    assert result.status == "error" and "sent no tool call" in result.error


def test_replay_uses_the_recorded_mount(tmp_path: Path, run_cli: RunCli):
    from editor_agent.agent.session import Session
    from editor_agent.agent.settings import RunOptions
    from editor_agent.api.connection import Connection
    from editor_agent.testing import MessagesServer, Script

    work, copy = tmp_path / "work", tmp_path / "copy"
    work.mkdir()
    copy.mkdir()
    for root in (work, copy):
        (root / "a.py").write_text("x = 1\n")
    view = {
        "type": "tool_use",
        "name": "str_replace_based_edit_tool",
        "input": {"command": "view", "path": "/src/a.py"},
    }
    turns = [{"content": [view]}, {"content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn"}]
    with MessagesServer(Script.model_validate({"turns": turns}), api_key="k") as server:
        connection = Connection(base_url=server.url, api_key="k")
        options = RunOptions(workspace=work, model="claude-opus-4-5", mount="/src", max_characters=5000,
                             transcript=tmp_path / "t.jsonl", connection=connection)  # fmt: skip
        with Session.open(options) as session:
            assert session.loop.run("look").status == "completed"
    done = run_cli("replay", str(tmp_path / "t.jsonl"), "--workspace", str(copy))
    assert done.returncode == 0 and "1 tool calls replayed, 0 differ" in done.stdout
