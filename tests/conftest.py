from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from editor_agent import Editor, Workspace, tool_by_type
from editor_agent.editor import ToolResult

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
