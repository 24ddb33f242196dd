"""`editor-agent fix PATH "what is wrong"`: fix one file, optionally until a check passes."""

from __future__ import annotations

import posixpath
from pathlib import Path

from .. import prompts
from ..errors import JobError
from .session import JobSpec


def fix_spec(workspace: Path, mount: str, path: str, problem: str, check: str | None, rounds: int) -> JobSpec:
    """The job for fixing `path` (relative to the workspace) given a description of the problem."""
    if not (workspace / path).is_file():
        raise JobError(f"{path} is not a file in the workspace {workspace}")
    shown = f"{mount.rstrip('/')}/{posixpath.normpath(Path(path).as_posix())}"
    check_note = prompts.FIX_CHECK_NOTE.format(check=check) if check else ""
    task = prompts.FIX_TASK.format(path=shown, problem=problem, check_note=check_note)
    title = f"fix {posixpath.normpath(path)}: {problem}"
    return JobSpec(kind="fix", task=task, title=title, check=check, rounds=rounds)
