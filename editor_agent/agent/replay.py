"""Replay: re-execute a transcript's tool calls on a workspace and report where the results differ.

It rebuilds the editor the run used (tool version, mount, limits) from the transcript's `start`
event, so a recorded run can be checked against a fresh copy of its workspace without a model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..tool.editor import Editor
from ..tool.versions import tool_by_type
from ..workspace.policy import Policy
from ..workspace.sandbox import Workspace
from .transcript import read_events


class ReplayDifference(BaseModel):
    """One tool call whose result today is not the recorded one."""

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
