"""`editor-agent test MODULE`: write tests for a module until they pass (or the rounds run out)."""

from __future__ import annotations

import ast
import shlex
import sys
from pathlib import Path

from ..agent import prompts
from ..errors import JobError
from ..workspace.policy import Policy
from .checks import pytest_counts
from .paths import inside
from .session import Finisher, JobContext, JobSpec


def default_out(module: str) -> str:
    return f"tests/test_{Path(module).stem}.py"


def test_paths(
    workspace: Path, mount: str, module: str, out: str | None, policy: Policy | None = None
) -> tuple[str, str]:
    """The module and the test file as workspace-relative paths; JobError if either is not inside the workspace
    (the test file is run by pytest after the model ends, so it must be where the model could write it)."""
    relative = inside(workspace, mount, module, policy)
    if not relative or not (workspace / relative).is_file():
        raise JobError(f"{module} is not a file in the workspace {workspace}")
    out_relative = inside(workspace, mount, out or default_out(relative), policy)
    if not out_relative:
        raise JobError(f"--out {out} is the workspace itself, not a file in it")
    return relative, out_relative


def test_spec(workspace: Path, mount: str, module: str, out: str, rounds: int, policy: Policy | None = None) -> JobSpec:
    module, out = test_paths(workspace, mount, module, out, policy)
    prefix = mount.rstrip("/")
    task = prompts.TEST_TASK.format(module=f"{prefix}/{module}", out=f"{prefix}/{out}")
    check = f"{shlex.quote(sys.executable)} -m pytest -q -p no:cacheprovider {shlex.quote(out)}"
    return JobSpec(kind="test", task=task, title=f"tests for {module}", check=check, rounds=rounds)


def count_tests(source: bytes) -> int:
    """Test functions (and methods) in a test file, as pytest would collect them by name."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return 0
    return sum(
        1
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test")
    )


def test_report(out: str) -> Finisher:
    def finish(context: JobContext) -> None:
        data = context.editor.workspace.tree.read_bytes(out)  # through the sandbox: never a link out
        written = count_tests(data) if data is not None else 0
        counts = pytest_counts(context.result.check.output) if context.result.check else {}
        context.result.details.update(
            tests_file=f"{context.editor.mount.rstrip('/')}/{out}",
            tests_written=written,
            tests_passed=counts.get("passed", 0),
            tests_failed=counts.get("failed", 0) + counts.get("error", 0),
        )

    return finish


test_spec.__test__ = False  # type: ignore[attr-defined]  # not a pytest test, despite the name
test_paths.__test__ = False  # type: ignore[attr-defined]
test_report.__test__ = False  # type: ignore[attr-defined]
