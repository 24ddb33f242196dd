"""Running a batch: check every task, run the shard's tasks in parallel worktrees, merge them in task order.

The user's working tree is only ever touched by the merge step, which runs on the calling thread,
one task at a time and in the order of the file, as soon as that task and all before it are done.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import anthropic

from ..agent.session import new_run_id
from ..api.client import build_client
from ..safety import git as gitsafety
from ..safety.statedir import StateDir
from .backoff import RateGate, SharedBackoff
from .display import BatchDisplay
from .execute import Checkout, TaskRun, run_task
from .merge import MergeOutcome, Merger
from .plan import PlannedTask, Shared, plan_tasks
from .report import BatchReport, CheckSummary, TaskReport, totals
from .taskfile import BatchInputError, Shard, load_task_file

RECORDS_DIR = "batch"


@dataclass
class BatchSettings:
    """How to run a task file: `workspace` (None: the file's, else the current directory), workers, slice, pace."""

    tasks_file: Path
    workspace: Path | None = None
    jobs: int = 4
    shard: Shard | None = None
    rpm: int | None = None
    shared: Shared = field(default_factory=Shared)


def _relative(path: str, inside: PurePosixPath) -> str:
    """A repository-relative path as the workspace sees it."""
    try:
        return PurePosixPath(path).relative_to(inside).as_posix()
    except ValueError:
        return path


def _report(task: PlannedTask, run: TaskRun, merge: MergeOutcome | None, checkout: Checkout) -> TaskReport:
    inside = PurePosixPath(checkout.inside.as_posix())
    patch_file = None
    if run.patch:
        patch_file = checkout.state.write(f"{checkout.records_name}/{task.index}-{task.name}.patch",
                                          run.patch.encode("utf-8", "surrogateescape"))  # fmt: skip
    base = TaskReport(index=task.index, name=task.name, job=task.job, status="failed", error=run.error,
                      seconds=round(run.seconds, 3), patch=str(patch_file) if patch_file else None,
                      files_changed=[_relative(p, inside) for p in run.paths])  # fmt: skip
    result = run.result
    if result is None:
        return base
    merge = merge or MergeOutcome(False)
    check = result.check
    ok = result.succeeded and (merge.merged or not run.patch)
    return base.model_copy(
        update={
            "status": "succeeded" if ok else "failed",
            "run_status": result.status,
            "error": result.error or merge.error or run.error,
            "turns": result.turns,
            "rounds": result.rounds,
            "check": CheckSummary(command=check.command, passed=check.passed, exit_code=check.exit_code)
            if check
            else None,
            "rejected": result.rejected,
            "merged": merge.merged,
            "conflicts": [_relative(p, inside) for p in merge.conflicts],
            "usage": result.usage,
            "tokens": result.usage.total,
            "cost_usd": result.cost_usd,
            "transcript": result.transcript,
            "details": result.details,
        }
    )


def _settle(task: PlannedTask, future: Future[TaskRun] | None, merger: Merger, checkout: Checkout) -> TaskReport:
    """Wait for one task, merge it if it succeeded (`JobResult.succeeded`), and describe it."""
    if future is None:
        return TaskReport(index=task.index, name=task.name, job=task.job, status="skipped", error=task.skipped)
    try:
        run = future.result()
    except CancelledError:
        return TaskReport(index=task.index, name=task.name, job=task.job, status="not_run",
                          error="the batch was stopped before this task started")  # fmt: skip
    result = run.result
    merge = None
    if result is not None and run.patch and result.succeeded:
        merge = merger.apply(run.patch, run.paths)
    return _report(task, run, merge, checkout)


@contextlib.contextmanager
def _merging() -> Iterator[list[bool]]:
    """Hold off Ctrl-C while a patch is applied (it takes effect right after), so none is left half-applied."""
    caught: list[bool] = []
    if threading.current_thread() is not threading.main_thread():
        yield caught
        return
    previous = signal.signal(signal.SIGINT, lambda *_: caught.append(True))
    try:
        yield caught
    finally:
        signal.signal(signal.SIGINT, previous)


def _collect(
    selected: list[PlannedTask],
    futures: dict[int, Future[TaskRun]],
    merger: Merger,
    checkout: Checkout,
    gate: RateGate,
    display: BatchDisplay,
) -> tuple[list[TaskReport], bool]:
    """Settle the tasks in file order; a first Ctrl-C stops the workers at their next request, a second aborts."""
    reports: list[TaskReport] = []
    stopping = False

    def interrupted() -> None:
        nonlocal stopping
        if stopping:
            raise KeyboardInterrupt
        stopping = True
        gate.stop()
        for future in futures.values():
            future.cancel()

    while len(reports) < len(selected):
        task = selected[len(reports)]
        future = futures.get(task.index)
        try:
            if future is not None:
                wait([future])
        except KeyboardInterrupt:
            interrupted()
            continue
        with _merging() as caught:
            report = _settle(task, future, merger, checkout)
        reports.append(report)
        display.finished(report)
        if caught:
            interrupted()
    return reports, stopping


def run_batch(
    settings: BatchSettings, *, display: BatchDisplay | None = None, client: anthropic.Anthropic | None = None
) -> BatchReport:
    """Run the task file's tasks (this shard's) and merge their results; BatchInputError for a bad batch."""
    began = time.monotonic()
    file = load_task_file(settings.tasks_file)
    if settings.jobs < 1:
        raise BatchInputError(["--jobs must be at least 1"])
    workspace = Path(settings.workspace or file.workspace or ".")
    if not workspace.is_dir():
        raise BatchInputError([f"workspace {workspace} is not a directory"])
    workspace = workspace.resolve()
    repo = gitsafety.open_repo(workspace)
    if repo is None or repo.working_tree_dir is None:
        raise BatchInputError([f"batch needs a git repository, and the workspace {workspace} is not in one "
                               "(tasks run in git worktrees and come back as patches)"])  # fmt: skip
    planned = plan_tasks(file, workspace, settings.shared)
    selected = [task for task in planned if settings.shard is None or task.index in settings.shard]
    display = display or BatchDisplay(0, quiet=True)
    display.total = len(selected)
    gate = RateGate(settings.rpm, on_close=display.rate_limited)
    client = client or build_client(settings.shared.connection)
    client = client.with_options(middleware=[SharedBackoff(gate), *client.middleware])

    batch_id = new_run_id()
    top = Path(repo.working_tree_dir).resolve()
    gitsafety.exclude_locally(repo, ".editor-agent/")
    base = gitsafety.checkpoint(repo, batch_id, "start")
    state = StateDir.open(workspace)
    records_name = f"{RECORDS_DIR}/{batch_id}"
    records = state.file_path(f"{records_name}/tasks").parent
    scratch = Path(tempfile.mkdtemp(prefix="editor-agent-batch-"))
    checkout = Checkout(top, workspace.relative_to(top), base, scratch, records, state, records_name)
    merger = Merger(repo, workspace, batch_id)

    def started(task: PlannedTask) -> None:
        display.started(task.index, task.name, task.job)

    try:
        runnable = [task for task in selected if task.spec is not None]
        workers = max(1, min(settings.jobs, len(runnable)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="batch") as pool:
            futures = {task.index: pool.submit(run_task, task, checkout, client, started) for task in runnable}
            reports, stopped = _collect(selected, futures, merger, checkout, gate, display)
    finally:
        merger.close()
        shutil.rmtree(scratch, ignore_errors=True)
        display.close()
    patch_file = None
    if merger.merged_paths:
        end = gitsafety.checkpoint(repo, batch_id, "end")
        merged = gitsafety.patch_between(repo, base, end, merger.merged_paths)
        patch_file = state.write(f"{records_name}/merged.patch", merged.encode("utf-8", "surrogateescape"))
    summary = totals(reports, gate.rate_limited, time.monotonic() - began)
    done = summary.succeeded + summary.skipped == summary.tasks
    return BatchReport(
        batch_id=batch_id,
        status="stopped" if stopped else ("succeeded" if done else "failed"),
        tasks_file=str(settings.tasks_file),
        workspace=str(workspace),
        shard=str(settings.shard) if settings.shard else None,
        jobs=settings.jobs,
        tasks=reports,
        totals=summary,
        checkpoint_start=f"{gitsafety.REF_ROOT}/{batch_id}/start",
        patch=str(patch_file) if patch_file else None,
    )
