"""Assemble a run from plain options: workspace, editor, tool version, client, transcript, loop.

`run_task` runs one task in a workspace (used by the tests and benchmarks/loop_bench.py; the CLI and the
jobs assemble their runs in jobs/session.py); replay re-executes a transcript's tool calls.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import anthropic
from pydantic import BaseModel

from ..api.client import build_client
from ..safety.statedir import StateDir
from ..tool.editor import Editor
from ..tool.versions import ModelResolutionError, ResolvedModel, resolve_model, tool_by_type
from ..workspace.policy import Policy
from ..workspace.sandbox import Workspace
from .loop import AgentLoop, RunResult
from .progress import Progress
from .sdk_model import SDKModel
from .settings import RunOptions
from .transcript import Transcript, read_events

RUNS_DIR = "runs"


def resolve_for_run(model: str, tool: str | None) -> ResolvedModel:
    """The model's rules from tools.yaml, with the tool version replaced when --tool forces one."""
    try:
        resolved = resolve_model(model, warn=False)  # callers show `resolved.warnings` their own way
    except ModelResolutionError:
        if tool is None:
            raise
        resolved = ResolvedModel(model=model, family=model, tool=tool_by_type(tool), max_tokens=8192)
    return resolved if tool is None else resolved.model_copy(update={"tool": tool_by_type(tool)})


def new_run_id() -> str:
    """Time-ordered and unique: runs sort by their id."""
    now = time.time_ns()
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now // 1_000_000_000))
    return f"{stamp}-{now % 1_000_000_000:09d}-{uuid.uuid4().hex[:4]}"


def default_transcript(workspace: Path, run_id: str | None = None, state_dir: Path | None = None) -> Path:
    """`runs/<run id>.jsonl` in the workspace's state directory (`.editor-agent/`, or `--state-dir`)."""
    return StateDir.open(workspace, state_dir).file_path(f"{RUNS_DIR}/{run_id or new_run_id()}.jsonl")


def run_task(
    options: RunOptions,
    task: str,
    *,
    progress: Progress | None = None,
    client: anthropic.Anthropic | None = None,
    resume_from: Path | None = None,
    editor: Editor | None = None,
) -> RunResult:
    """Run one task to its end (or resume one from its transcript) and return the outcome."""
    resolved = resolve_for_run(options.model, options.tool)
    if editor is None:
        workspace = Workspace(options.workspace, mount=options.mount, policy=options.policy)
        editor = Editor(workspace, resolved.tool, max_characters=options.max_characters, strict=options.strict)
    client = client or build_client(options.connection)
    path = resume_from or options.transcript or default_transcript(Path(options.workspace), None, options.state_dir)
    with Transcript(path) as transcript:
        loop = AgentLoop(
            SDKModel(client, options.connection, resolved, editor.description()["tool"]),
            editor,
            resolved,
            connection=options.connection,
            settings=options.settings,
            transcript=transcript,
            progress=progress,
        )
        if resume_from is not None:
            return loop.resume(read_events(resume_from))
        return loop.run(task)


class ReplayDifference(BaseModel):
    index: int
    input: Any
    recorded: dict[str, Any]
    replayed: dict[str, Any]


def replay(
    transcript: Path, workspace: Path, mount: str | None = None, policy: Policy | None = None
) -> tuple[int, list[ReplayDifference]]:
    """Re-execute a transcript's tool calls on a workspace; return how many ran and where results differ."""
    events = read_events(transcript)
    start = next((e for e in events if e["event"] == "start"), None)
    if start is None:
        raise ValueError(f"{transcript} has no start event: not an editor-agent transcript")
    editor = Editor(
        Workspace(workspace, mount=mount or start.get("mount", "/repo"), policy=policy),
        tool_by_type(start["tool"]),
        max_characters=start.get("max_characters"),
        strict=bool(start.get("strict")),
    )
    differences = []
    calls = [e for e in events if e["event"] == "tool_call"]
    for index, call in enumerate(calls):
        result = editor.run(call["input"])
        recorded = {"content": call["content"], "is_error": call["is_error"]}
        if result.model_dump() != recorded:
            differences.append(
                ReplayDifference(index=index, input=call["input"], recorded=recorded, replayed=result.model_dump())
            )
    return len(calls), differences
