from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from editor_agent import Editor, Workspace, tool_by_type
from editor_agent.tool.editor import ToolResult

# The undo journal's sealing key lives in the user's state home: tests (and the CLI processes they
# start) use one of their own, never the real user's.
os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="editor-agent-test-state-")

VERSIONS = ["text_editor_20241022", "text_editor_20250124", "text_editor_20250429", "text_editor_20250728"]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    path.mkdir()
    return path


@pytest.fixture
def make_editor(root: Path) -> Callable[..., Editor]:
    def make(version: str = "text_editor_20250728", **options: Any) -> Editor:
        policy = options.pop("policy", None)
        return Editor(Workspace(root, policy=policy), tool_by_type(version), **options)

    return make


@pytest.fixture
def editor(make_editor: Callable[..., Editor]) -> Editor:
    return make_editor()


@pytest.fixture
def call(editor: Editor) -> Callable[..., ToolResult]:
    def run(**tool_input: Any) -> ToolResult:
        return editor.run(tool_input)

    return run
