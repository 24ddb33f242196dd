"""One job from start to end, safe on a real repository.

Before anything is touched, a git checkpoint (a private ref: the user's branch, index and stash
stay as they are) and an undo journal; then the agent loop, round after round while a check
fails; a watch on the working tree so a person editing beside the agent is never overwritten;
and at the end a checkpoint, and, for an isolated run, the result as a patch or a branch.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import anthropic
from pydantic import BaseModel, Field

from ..agent import prompts
from ..agent.loop import AgentLoop, RunResult
from ..agent.progress import Progress
from ..agent.runner import default_transcript, new_run_id, resolve_for_run
from ..agent.sdk_model import SDKModel
from ..agent.settings import RunOptions
from ..agent.transcript import Transcript, read_events
from ..api.client import build_client
from ..errors import JobError
from ..safety import git as gitsafety
from ..safety.journal import Journal
from ..safety.private import private_dirs, write_private
from ..safety.prune import prune_on_start
from ..safety.statedir import StateDir
from ..tool.editor import Editor
from ..workspace.sandbox import Workspace
from ..workspace.watch import WorkspaceWatcher
from .checks import CheckResult, run_check

PATCHES_DIR = "patches"  # in the state directory


class JobSpec(BaseModel):
    """What to do and how to check it; the run options (model, limits, connection) come separately."""

    kind: Literal["run", "fix", "doc", "test"] = "run"
    task: str
    title: str = ""  # a short summary, for commit messages (default: the task's first line)
    check: str | None = None
    rounds: int = Field(default=1, ge=1)
    check_timeout: float = Field(default=600.0, gt=0)
    isolate: bool = False
    patch_out: Path | None = None
    branch: str | None = None
    commit: bool = False


class JobResult(RunResult):
    """A run's outcome plus what the job adds: rounds, the check, rejected edits, git results."""

    job: str = "run"
    run_id: str = ""
    rounds: int = 1
    check: CheckResult | None = None
    check_passed: bool | None = None
    rejected: list[str] = []
    details: dict[str, Any] = {}
    patch: str | None = None
    branch: str | None = None
    commit: str | None = None


@dataclass
class JobContext:
    """What a job's own finishing step can look at and change."""

    spec: JobSpec
    workdir: Path
    editor: Editor
    result: JobResult


Finisher = Callable[[JobContext], None]


@contextlib.contextmanager
def _working_copy(
    spec: JobSpec, root: Path, run_id: str, resuming: bool = False
) -> Iterator[tuple[Path, Any, gitsafety.Worktree | None]]:
    """The directory the agent edits: the workspace itself, or a worktree of a checkpoint of it."""
    if resuming and spec.isolate:
        raise JobError("--resume continues a run in place; it cannot be combined with --isolate")
    repo = gitsafety.open_repo(root)
    if spec.isolate and repo is None:
        raise JobError(f"--isolate needs a git repository, and {root} is not in one")
    if (spec.branch or spec.patch_out) and not spec.isolate:
        raise JobError("--branch and --patch-out go with --isolate")
    if spec.commit and spec.isolate:
        raise JobError("--commit commits in place; with --isolate use --branch NAME instead")
    if repo is None:
        yield root, None, None
        return
    gitsafety.exclude_locally(repo, ".editor-agent/")
    prune_on_start(repo, root, run_id)
    earlier = dict(gitsafety.checkpoints(repo, run_id)) if resuming else {}
    base = earlier.get("start") or gitsafety.checkpoint(repo, run_id, "start")  # a resumed run keeps its start
    if not spec.isolate:
        yield root, repo, None
        gitsafety.checkpoint(repo, run_id, "end")
        return
    if spec.branch:  # a name that cannot be used is refused before the run, not after it
        try:
            gitsafety.check_branch(repo, spec.branch, gitsafety.parent_of(repo, base))
        except gitsafety.GitSafetyError as err:
            raise JobError(f"--branch: {err}") from None
    scratch = Path(tempfile.mkdtemp(prefix="editor-agent-"))
    worktree = gitsafety.Worktree.create(repo, base, scratch, on_parent=True)
    try:
        inside = root.relative_to(Path(str(repo.working_tree_dir)).resolve())
        yield worktree.path / inside, gitsafety.open_repo(worktree.path), worktree
    finally:
        worktree.remove()
        shutil.rmtree(scratch, ignore_errors=True)


def _outputs(
    spec: JobSpec,
    result: JobResult,
    changed: list[Path],
    repo: Any,
    worktree: gitsafety.Worktree | None,
    root: Path,
    state_dir: Path | None = None,
) -> None:
    """Leave an isolated run's result as a branch or a patch; commit an in-place run when asked.

    A branch and a commit hold the run's changes and nothing of the user's uncommitted work; where
    the two cannot be separated they are refused (`error` says why) and nothing is lost: a
    refused branch leaves the patch instead, a refused commit leaves the files as they are. The
    patch is against the user's tree as the run found it, so it applies there. Only a run that
    completed, whose check did not fail and none of whose edits were rejected, is committed; a
    patch or branch is left whatever the outcome, for a person to look at.
    """
    top = Path(str(repo.working_tree_dir)).resolve() if repo is not None else root
    paths = [p.relative_to(top).as_posix() for p in changed]  # only what the model wrote (link-free paths)
    message = gitsafety.summary_message(paths, spec.title or spec.task)
    if worktree is not None:
        if spec.branch:
            try:
                result.commit = worktree.to_branch(spec.branch, message, paths)
                result.branch = spec.branch
                return
            except gitsafety.GitSafetyError as err:
                result.error = f"branch {spec.branch!r} not made: {err}; the run's changes are in the patch"
        target = spec.patch_out or StateDir.open(root, state_dir).file_path(f"{PATCHES_DIR}/{result.run_id}.patch")
        private_dirs(target.parent)
        write_private(target, worktree.patch(paths), encoding="utf-8", errors="surrogateescape")
        result.patch = str(target)
    elif spec.commit and repo is not None and paths and result.status == "completed":
        if result.check_passed is not False and not result.rejected:
            start = dict(gitsafety.checkpoints(repo, result.run_id)).get("start")
            try:
                result.commit = gitsafety.commit_paths(repo, paths, message, before=start)
            except gitsafety.GitSafetyError as err:
                result.error = f"not committed: {err}; the run's edits stay in the working tree"


def run_job(
    spec: JobSpec,
    options: RunOptions,
    *,
    progress: Progress | None = None,
    client: anthropic.Anthropic | None = None,
    finish: Finisher | None = None,
    resume_from: Path | None = None,
) -> JobResult:
    """Run the job to its end and return the outcome; the user's files are safe at every step.

    With `resume_from` (a transcript), an interrupted run continues under its own run id: its
    undo journal and checkpoints go on, and tool calls it already executed are not repeated.
    """
    resolved = resolve_for_run(options.model, options.tool)
    client = client or build_client(options.connection)
    root = Path(options.workspace).resolve()
    events = read_events(resume_from) if resume_from is not None else []
    started = next((e for e in events if e["event"] == "job_start"), None)
    run_id = started["run_id"] if started else new_run_id()
    transcript_path = resume_from or options.transcript or default_transcript(root, run_id, options.state_dir)
    with _working_copy(spec, root, run_id, resuming=resume_from is not None) as (workdir, repo, worktree):
        in_place = worktree is None
        writes = in_place and not options.policy.read_only_workspace  # a read-only run has nothing to undo
        journal = Journal(workdir, run_id, options.state_dir) if writes else None
        watcher = WorkspaceWatcher(workdir).start() if in_place else None
        try:
            with Transcript(transcript_path) as transcript:
                workspace = Workspace(workdir, mount=options.mount, policy=options.policy)
                editor = Editor(workspace, resolved.tool, max_characters=options.max_characters,
                                strict=options.strict, journal=journal, watcher=watcher)  # fmt: skip

                written = [0]

                def after_tools(turn: int) -> None:
                    """A checkpoint after each turn that wrote something (a turn that only looked needs none)."""
                    if repo is not None and editor.writes != written[0]:
                        written[0] = editor.writes
                        gitsafety.checkpoint(repo, run_id, f"turn-{turn}")

                model = SDKModel(client, options.connection, resolved, editor.description()["tool"])
                loop = AgentLoop(model, editor, resolved, connection=options.connection, settings=options.settings,
                                 transcript=transcript, progress=progress, after_tools=after_tools)  # fmt: skip
                if resume_from is not None:
                    outcome = loop.resume(events)
                else:
                    transcript.write("job_start", run_id=run_id, job=spec.kind)
                    outcome = loop.run(spec.task)
                rounds, check = 1, None
                while spec.check and outcome.status == "completed":
                    check = run_check(spec.check, workdir, spec.check_timeout)
                    transcript.write("check", round=rounds, **check.model_dump())
                    if check.passed or rounds >= spec.rounds:
                        break
                    rounds += 1
                    outcome = loop.follow_up(prompts.CHECK_FAILED.format(**check.model_dump()))
                result = JobResult(**outcome.model_dump(), job=spec.kind, run_id=run_id, rounds=rounds, check=check,
                                   check_passed=check.passed if check else None)  # fmt: skip
                if finish is not None:
                    finish(JobContext(spec, workdir, editor, result))
                changed = editor.changes.real_paths(result.files_changed)
                transcript.write("job", **result.model_dump(exclude={"diff", "final_text"}))
        finally:
            if watcher is not None:
                watcher.stop()
            if journal is not None:
                journal.close()
        _outputs(spec, result, changed, repo, worktree, root, options.state_dir)
    return result
