"""`editor-agent fix PATH "what is wrong"`: fix one file, optionally until a check passes."""

from __future__ import annotations

from pathlib import Path

from ..agent import prompts
from ..errors import JobError
from ..workspace.policy import Policy
from .paths import inside
from .session import JobSpec


def fix_spec(
    workspace: Path, mount: str, path: str, problem: str, check: str | None, rounds: int, policy: Policy | None = None
) -> JobSpec:
    """The job for fixing `path` (inside the workspace: relative, or under it or the mount) given the problem."""
    relative = inside(workspace, mount, path, policy)
    if not relative or not (workspace / relative).is_file():
        raise JobError(f"{path} is not a file in the workspace {workspace}")
    shown = f"{mount.rstrip('/')}/{relative}"
    check_note = prompts.FIX_CHECK_NOTE.format(check=check) if check else ""
    task = prompts.FIX_TASK.format(path=shown, problem=problem, check_note=check_note)
    title = f"fix {relative}: {problem}"
    return JobSpec(kind="fix", task=task, title=title, check=check, rounds=rounds)
