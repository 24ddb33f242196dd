"""The agent loop driven through its one-method `Model` protocol, without HTTP: a scripted fake answers.

The editor, workspace and transcript are real; only the model is replaced, which is what the
protocol is for. The HTTP side (the SDK-backed model against the local server) is in test_loop.py.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from editor_agent.agent import prompts
from editor_agent.agent.loop import AgentLoop, RunResult
from editor_agent.agent.model import DeadlinePassed, Model, ReplyBrokeOff, ReplyFailed
from editor_agent.agent.settings import RunSettings
from editor_agent.agent.transcript import Transcript, read_events
from editor_agent.tool.editor import Editor
from editor_agent.tool.versions import resolve_model
from editor_agent.workspace.sandbox import Workspace

from ..conftest import TOOL, text, use

PACKAGE = Path(__file__).resolve().parents[2] / "editor_agent"


class FakeModel:
    """Answers each request with the next scripted reply (or raises it); keeps every body and header it got."""

    def __init__(self, replies: list[dict[str, Any] | Exception]) -> None:
        self.replies = list(replies)
        self.bodies: list[bytes] = []
        self.headers: list[dict[str, str]] = []
        self.deadlines: list[float | None] = []

    def reply(
        self, body: bytes, headers: dict[str, str], *, deadline: float | None, on_text: Callable[[str], None]
    ) -> dict[str, Any]:
        self.bodies.append(body)
        self.headers.append(headers)
        self.deadlines.append(deadline)
        answer = self.replies.pop(0)
        if isinstance(answer, Exception):
            raise answer
        number = len(self.bodies)
        content = [
            {**block, "id": f"toolu_{number}_{index}"} if block["type"] == "tool_use" else block
            for index, block in enumerate(answer["content"])
        ]
        for block in content:
            if block["type"] == "text":
                on_text(block["text"])
        stop_reason = answer.get("stop_reason", "tool_use")
        usage = {"input_tokens": 100, "output_tokens": 10}
        return {
            "id": f"msg_{number}",
            "role": "assistant",
            "content": content,
            "stop_reason": stop_reason,
            "usage": usage,
        }

    def requests(self) -> list[dict[str, Any]]:
        return [json.loads(body) for body in self.bodies]


def drive(
    model: Model, repo: Path, settings: RunSettings | None = None, task: str = "Fix the discount."
) -> tuple[RunResult, list[dict[str, Any]]]:
    resolved = resolve_model("claude-opus-4-5")
    editor = Editor(Workspace(repo), resolved.tool)
    path = repo.parent / "run.jsonl"
    with Transcript(path) as transcript:
        result = AgentLoop(model, editor, resolved, settings=settings, transcript=transcript).run(task)
    return result, read_events(path)


FIX: list[dict[str, Any] | Exception] = [
    {"content": [text("Let me look."), use("view", path="/repo/shop.py")]},
    {
        "content": [
            use("str_replace", path="/repo/shop.py", old_str="total * percent\n", new_str="total * percent / 100\n")
        ]
    },
    {"content": [text("Fixed.")], "stop_reason": "end_turn"},
]


def test_a_fake_model_drives_a_whole_run_without_http(repo: Path):
    model = FakeModel(FIX)
    result, events = drive(model, repo)
    assert result.status == "completed" and result.turns == 3 and result.final_text == "Fixed."
    assert (repo / "shop.py").read_text().endswith("total * percent / 100\n")
    assert result.files_changed == ["/repo/shop.py"] and "+    return total - total * percent / 100" in result.diff
    assert result.usage.input_tokens == 300
    kinds = [e["event"] for e in events]
    assert kinds[:4] == ["start", "message", "request", "response"] and kinds[-1] == "end"
    assert kinds.count("tool_call") == 2 and kinds.count("request") == kinds.count("response") == 3

    first, _, last = model.requests()
    assert first["stream"] is True and first["model"] == "claude-opus-4-5" and first["tools"][0]["name"] == TOOL
    assert first["messages"] == [
        {"role": "user", "content": [{**text("Fix the discount."), "cache_control": {"type": "ephemeral"}}]}
    ]
    # the conversation goes back as it was recorded; cache breakpoints on the newest two user turns only
    assert [m["role"] for m in last["messages"]] == ["user", "assistant", "user", "assistant", "user"]
    marked = [i for i, m in enumerate(last["messages"]) if "cache_control" in m["content"][-1]]
    assert marked == [2, 4]
    assert last["messages"][4]["content"][0]["tool_use_id"] == "toolu_2_0"


def test_a_broken_off_reply_sends_the_same_bytes_again_and_runs_no_tool_twice(repo: Path):
    broke = ReplyBrokeOff(ConnectionResetError("peer went away"))
    model = FakeModel([FIX[0], broke, *FIX[1:]])
    result, events = drive(model, repo, RunSettings(stream_retries=2))
    assert result.status == "completed", result.error
    assert model.bodies[1] == model.bodies[2]  # the retry is the very same request
    retries = [e for e in events if e["event"] == "retry"]
    assert [(r["turn"], r["attempt"], r["reason"]) for r in retries] == [(2, 1, "peer went away")]
    assert [e["event"] for e in events].count("tool_call") == 2


def test_a_reply_that_keeps_breaking_off_ends_the_run_after_the_retries(repo: Path):
    model = FakeModel([ReplyBrokeOff(ConnectionResetError("reset"))] * 2)
    result, _ = drive(model, repo, RunSettings(stream_retries=1))
    assert (result.status, result.error) == ("error", "the reply broke off 2 times: reset")
    assert len(model.bodies) == 2


def test_a_failed_request_ends_the_run_with_its_one_line(repo: Path):
    result, events = drive(FakeModel([ReplyFailed("401 unauthorized: no\nway")]), repo)
    assert (result.status, result.error) == ("error", "401 unauthorized: no way")
    assert events[-1]["event"] == "end" and events[-1]["error"] == "401 unauthorized: no way"


def test_the_deadline_is_handed_to_the_model_and_passing_it_is_a_timeout(repo: Path):
    model = FakeModel([DeadlinePassed(" (waiting for the server)")])
    result, _ = drive(model, repo, RunSettings(max_seconds=30))
    assert result.status == "timeout"
    assert result.error == "ran for 30 seconds, the time limit (waiting for the server)"
    assert model.deadlines[0] is not None


def test_a_cut_reply_runs_its_whole_tool_calls_but_never_the_cut_one(repo: Path):
    cut = {
        "content": [use("view", path="/repo/shop.py"), use("create", path="/repo/new.py")],
        "stop_reason": "max_tokens",
    }
    model = FakeModel([cut, FIX[2]])
    result, events = drive(model, repo)
    assert result.status == "completed"
    assert not (repo / "new.py").exists()
    answer = model.requests()[1]["messages"][-1]["content"]
    assert [block["type"] for block in answer] == ["tool_result", "tool_result", "text"]
    assert "is_error" not in answer[0] and answer[1]["is_error"] is True
    assert answer[1]["content"] == prompts.CUT_OFF_TOOL.format(name=TOOL)
    assert [e["input"]["command"] for e in events if e["event"] == "tool_call"] == ["view"]


def test_a_model_repeating_itself_is_stopped_as_stuck(repo: Path):
    same = {"content": [use("view", path="/repo/shop.py")]}
    model = FakeModel([same] * 10)
    result, _ = drive(model, repo, RunSettings(max_repeats=3))
    assert result.status == "stuck" and result.turns == 3 and "3 turns in a row" in (result.error or "")


def test_thinking_the_reply_limit_cannot_hold_asks_nothing(repo: Path):
    model = FakeModel(FIX)
    result, _ = drive(model, repo, RunSettings(thinking=4000, max_output_tokens=2000))
    assert result.status == "error" and "--thinking 4000 must be below the reply limit of 2000" in (result.error or "")
    assert model.bodies == []


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_loop_and_its_parts_know_nothing_of_the_sdk_or_http():
    for name in ("loop", "request", "retries", "limits", "model", "outcome"):
        imported = _imports(PACKAGE / "agent" / f"{name}.py")
        assert not {module for module in imported if module.split(".")[0] in ("anthropic", "httpx", "httpx2")}, name


def test_no_module_uses_the_sdk_s_private_modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        private = [m for m in _imports(path) if m.startswith("anthropic.") and m.split(".")[1].startswith("_")]
        assert not private, f"{path.relative_to(PACKAGE)} imports {private}"
