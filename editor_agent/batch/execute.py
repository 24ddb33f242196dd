"""One task in its own git worktree: run the job there, and hand back its changes as a patch.

Every worktree starts from the same commit (a snapshot of the user's working tree, uncommitted
changes included, taken when the batch starts), so tasks cannot see or disturb each other and the
result does not depend on which task happened to finish first. The patch holds only the files the
model changed (what a check leaves behind, such as `__pycache__`, stays out).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import anthropic

from ..agent.progress import Progress
from ..jobs.session import Finisher, JobContext, JobResult, run_job
from ..safety import git as gitsafety
from ..safety.statedir import StateDir
from .plan import PlannedTask


@dataclass(frozen=True)
class Checkout:
    """Where tasks start: the repository top, the workspace inside it, the base commit, and where files go."""

    top: Path
    inside: Path  # the workspace relative to the repository top
    base: str
    scratch: Path  # worktrees are made here, outside the user's tree
    records: Path  # transcripts and patches, in the workspace's state directory
    state: StateDir  # the state directory itself: every file the batch writes goes through it
    records_name: str  # `records` relative to the state directory


@dataclass
class TaskRun:
    """What a task left: the job's result (None if it could not run), its changes as a patch, or an error."""

    result: JobResult | None
    paths: list[str] = field(default_factory=list)  # repository-relative files the model changed
    patch: str = ""
    error: str | None = None
    seconds: float = 0.0


def _recording(inner: Finisher | None, changed: list[Path]) -> Finisher:
    """The job's own finishing step, then note the real paths it left changed (as run_job does)."""

    def finish(context: JobContext) -> None:
        if inner is not None:
            inner(context)
        shown = set(context.result.files_changed)
        changed.extend(context.editor.changes.real_paths(shown))

    return finish


def _message(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def run_task(
    task: PlannedTask,
    checkout: Checkout,
    client: anthropic.Anthropic,
    started: Callable[[PlannedTask], None] = lambda task: None,
) -> TaskRun:
    """Run `task` in a fresh worktree of `checkout.base`; never raises for the task's own failures."""
    assert task.spec is not None
    clock = time.monotonic()
    repo = gitsafety.open_repo(checkout.top)
    if repo is None:
        return TaskRun(None, error=f"{checkout.top} is no longer a git repository")
    try:
        worktree = gitsafety.Worktree.create(repo, checkout.base, checkout.scratch)
    except gitsafety.GitSafetyError as exc:
        return TaskRun(None, error=str(exc), seconds=time.monotonic() - clock)
    try:
        started(task)
        transcript = checkout.records / f"{task.index}-{task.name}.jsonl"
        options = task.options.model_copy(update={"workspace": worktree.path / checkout.inside,
                                                  "transcript": transcript})  # fmt: skip
        changed: list[Path] = []
        finish = _recording(task.finish, changed)
        result = run_job(task.spec, options, progress=Progress(), client=client, finish=finish)
        paths = sorted({real.relative_to(worktree.path).as_posix() for real in changed})
        patch = ""
        if paths:
            inner = gitsafety.open_repo(worktree.path)
            assert inner is not None
            done = gitsafety.snapshot(inner, f"editor-agent batch: {task.name}")
            patch = gitsafety.patch_between(inner, checkout.base, done, paths)
        gitsafety.drop_checkpoints(repo, result.run_id)  # the patch is the record; keep the user's refs tidy
        return TaskRun(result, paths, patch, seconds=time.monotonic() - clock)
    except KeyboardInterrupt:
        return TaskRun(None, error="stopped", seconds=time.monotonic() - clock)
    except Exception as exc:  # one task's failure must not end the others
        return TaskRun(None, error=_message(exc), seconds=time.monotonic() - clock)
    finally:
        worktree.remove()
