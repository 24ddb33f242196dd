"""One job from start to end, safe on a real repository, in four named steps.

1. `_working_copy`: the directory the agent edits: the workspace itself, or a git worktree of a
   checkpoint of it (a private ref: the user's branch, index and stash stay as they are).
2. `_safety_net`: an undo journal, a watch on the working tree (a person editing beside the
   agent is never overwritten) and a checkpoint after every turn that wrote something.
3. `_rounds`: the agent loop (from `agent.session.Session`, the one way a run is assembled),
   round after round while the check fails.
4. `_finish`: the job's own finishing step, the record, and for an isolated run the result as a
   patch or a branch; an in-place run is committed when asked, if it succeeded.
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
from pydantic import BaseModel, Field, model_validator

from ..agent import prompts
from ..agent.loop import RunResult
from ..agent.progress import Progress
from ..agent.session import Session, default_transcript, new_run_id, resolve_for_run
from ..agent.settings import DEFAULT_CHECK_TIMEOUT, DEFAULT_ROUNDS, RunOptions
from ..agent.transcript import read_events
from ..api.client import build_client
from ..errors import JobError
from ..safety import git as gitsafety
from ..safety.journal import Journal
from ..safety.private import private_dirs, write_private
from ..safety.prune import prune_on_start
from ..safety.statedir import StateDir
from ..tool.editor import Editor
from ..workspace.watch import WorkspaceWatcher
from .checks import CheckResult, run_check

PATCHES_DIR = "patches"  # in the state directory


Kind = Literal["run", "fix", "doc", "test"]


class JobSpec(BaseModel):
    """What to do and how to check it; the run options (model, limits, connection) come separately.

    `rounds` left out (or None) is the job's default, `DEFAULT_ROUNDS[kind]`.
    """

    kind: Kind = "run"
    task: str
    title: str = ""  # a short summary, for commit messages (default: the task's first line)
    check: str | None = None
    rounds: int = Field(default=1, ge=1)
    check_timeout: float = Field(default=DEFAULT_CHECK_TIMEOUT, gt=0)
    isolate: bool = False
    patch_out: Path | None = None
    branch: str | None = None
    commit: bool = False

    @model_validator(mode="before")
    @classmethod
    def _default_rounds(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("rounds") is None:
            data = {**data, "rounds": DEFAULT_ROUNDS[data.get("kind") or "run"]}
        return data


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

    @property
    def succeeded(self) -> bool:
        """The one success rule (exit code, `--commit`, batch status and merge): the run completed,
        its check did not fail, no edit was rejected, and nothing was refused (a branch, a commit)."""
        return self.status == "completed" and self.check_passed is not False and not self.rejected and not self.error


@dataclass
class JobContext:
    """What a job's own finishing step can look at and change."""

    spec: JobSpec
    workdir: Path
    editor: Editor
    result: JobResult


Finisher = Callable[[JobContext], None]


@dataclass
class WorkingCopy:
    """Where the agent edits (`workdir`), its repository (None outside git), and the worktree of an isolated run."""

    workdir: Path
    repo: Any
    worktree: gitsafety.Worktree | None

    @property
    def in_place(self) -> bool:
        return self.worktree is None


def _refuse_bad_combinations(spec: JobSpec, root: Path, repo: Any, resuming: bool) -> None:
    if resuming and spec.isolate:
        raise JobError("--resume continues a run in place; it cannot be combined with --isolate")
    if spec.isolate and repo is None:
        raise JobError(f"--isolate needs a git repository, and {root} is not in one")
    if spec.commit and repo is None:
        raise JobError(f"--commit needs a git repository, and {root} is not in one")
    if (spec.branch or spec.patch_out) and not spec.isolate:
        raise JobError("--branch and --patch-out go with --isolate")
    if spec.commit and spec.isolate:
        raise JobError("--commit commits in place; with --isolate use --branch NAME instead")


@contextlib.contextmanager
def _working_copy(spec: JobSpec, root: Path, run_id: str, resuming: bool = False) -> Iterator[WorkingCopy]:
    """Step 1: the workspace itself, or a worktree of a checkpoint of it; a start checkpoint either way."""
    repo = gitsafety.open_repo(root)
    _refuse_bad_combinations(spec, root, repo, resuming)
    if repo is None:
        yield WorkingCopy(root, None, None)
        return
    gitsafety.exclude_locally(repo, ".editor-agent/")
    prune_on_start(repo, root, run_id)
    earlier = dict(gitsafety.checkpoints(repo, run_id)) if resuming else {}
    base = earlier.get("start") or gitsafety.checkpoint(repo, run_id, "start")  # a resumed run keeps its start
    if not spec.isolate:
        yield WorkingCopy(root, repo, None)
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
        yield WorkingCopy(worktree.path / inside, gitsafety.open_repo(worktree.path), worktree)
    finally:
        worktree.remove()
        shutil.rmtree(scratch, ignore_errors=True)


@dataclass
class SafetyNet:
    """What guards the user's files during the run: the undo journal, the watcher, turn checkpoints."""

    journal: Journal | None
    watcher: WorkspaceWatcher | None
    repo: Any
    run_id: str
    _written: int = 0

    def after_tools(self, editor: Editor, turn: int) -> None:
        """A checkpoint after each turn that wrote something (a turn that only looked needs none)."""
        if self.repo is not None and editor.writes != self._written:
            self._written = editor.writes
            gitsafety.checkpoint(self.repo, self.run_id, f"turn-{turn}")


@contextlib.contextmanager
def _safety_net(copy: WorkingCopy, run_id: str, options: RunOptions) -> Iterator[SafetyNet]:
    """Step 2: an in-place run gets a journal (unless read-only: nothing to undo) and a watcher."""
    writes = copy.in_place and not options.policy.read_only_workspace
    journal = Journal(copy.workdir, run_id, options.state_dir) if writes else None
    watcher = WorkspaceWatcher(copy.workdir).start() if copy.in_place else None
    try:
        yield SafetyNet(journal, watcher, copy.repo, run_id)
    finally:
        if watcher is not None:
            watcher.stop()
        if journal is not None:
            journal.close()


def _rounds(
    spec: JobSpec, session: Session, workdir: Path, run_id: str, resumed: list[dict[str, Any]] | None
) -> tuple[RunResult, int, CheckResult | None]:
    """Step 3: run (or resume) the loop, then check and follow up while the check fails and rounds are left."""
    if resumed is not None:
        outcome = session.loop.resume(resumed)
    else:
        session.transcript.write("job_start", run_id=run_id, job=spec.kind)
        outcome = session.loop.run(spec.task)
    rounds, check = 1, None
    while spec.check and outcome.status == "completed":
        check = run_check(spec.check, workdir, spec.check_timeout)
        session.transcript.write("check", round=rounds, **check.model_dump())
        if check.passed or rounds >= spec.rounds:
            break
        rounds += 1
        outcome = session.loop.follow_up(prompts.CHECK_FAILED.format(**check.model_dump()))
    return outcome, rounds, check


def _finish(
    spec: JobSpec,
    session: Session,
    workdir: Path,
    run_id: str,
    ran: tuple[RunResult, int, CheckResult | None],
    finish: Finisher | None,
) -> tuple[JobResult, list[Path]]:
    """Step 4a: the job's result, its own finishing step, and the record; returns the real paths changed."""
    outcome, rounds, check = ran
    result = JobResult(**outcome.model_dump(), job=spec.kind, run_id=run_id, rounds=rounds, check=check,
                       check_passed=check.passed if check else None)  # fmt: skip
    if finish is not None:
        finish(JobContext(spec, workdir, session.editor, result))
    changed = session.editor.changes.real_paths(result.files_changed)
    session.transcript.write("job", **result.model_dump(exclude={"diff", "final_text"}))
    return result, changed


def _outputs(
    spec: JobSpec, result: JobResult, changed: list[Path], copy: WorkingCopy, root: Path, state_dir: Path | None = None
) -> None:
    """Step 4b: leave an isolated run's result as a branch or a patch; commit an in-place run when asked.

    A branch and a commit hold the run's changes and nothing of the user's uncommitted work; where
    the two cannot be separated they are refused (`error` says why, and the job has not succeeded)
    and nothing is lost: a refused branch leaves the patch instead, a refused commit leaves the
    files as they are. The patch is against the user's tree as the run found it, so it applies
    there. Only a run that succeeded (`JobResult.succeeded`) is committed; a patch or branch is
    left whatever the outcome, for a person to look at.
    """
    repo, worktree = copy.repo, copy.worktree
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
    elif spec.commit and repo is not None and paths and result.succeeded:
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
    resolved = resolve_for_run(options.model, options.tool)  # an unknown model and a missing credential are refused
    wanted = options.settings.max_output_tokens
    if wanted is not None and wanted > resolved.max_tokens:
        raise JobError(f"--max-output-tokens {wanted} is above {resolved.model}'s cap of {resolved.max_tokens} tokens")
    client = client or build_client(options.connection)  # before anything is touched
    root = Path(options.workspace).resolve()
    resumed = read_events(resume_from) if resume_from is not None else None
    started = next((e for e in resumed or [] if e["event"] == "job_start"), None)
    run_id = started["run_id"] if started else new_run_id()
    transcript = resume_from or options.transcript or default_transcript(root, run_id, options.state_dir)
    with _working_copy(spec, root, run_id, resuming=resume_from is not None) as copy:
        with (
            _safety_net(copy, run_id, options) as net,
            Session.open(
                options,
                workdir=copy.workdir,
                client=client,
                progress=progress,
                transcript=transcript,
                journal=net.journal,
                watcher=net.watcher,
                after_tools=net.after_tools,
            ) as session,  # fmt: skip
        ):
            ran = _rounds(spec, session, copy.workdir, run_id, resumed)
            result, changed = _finish(spec, session, copy.workdir, run_id, ran, finish)
        _outputs(spec, result, changed, copy, root, options.state_dir)
    return result
