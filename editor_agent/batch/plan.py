"""From the task file to runnable jobs: each task's JobSpec, finishing step and RunOptions.

Settings are layered, most specific first: the task's own field, then the command line, then the
top of the task file, then the job's default. Everything that can be checked before a model is
called is checked here (files exist, globs match, models are known), so a bad file costs nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..agent.session import resolve_for_run
from ..agent.settings import DEFAULT_ROUNDS, RunOptions, RunSettings
from ..api.connection import Connection
from ..errors import JobError
from ..jobs import doc as doc_job
from ..jobs import fix as fix_job
from ..jobs import testgen
from ..jobs.session import Finisher, JobSpec
from ..tool.versions import ModelResolutionError
from ..workspace.policy import Policy
from .taskfile import BatchInputError, DocTask, FixTask, Limits, RunTask, TaskFile, WriteTestsTask


@dataclass
class Shared:
    """What the command line gives every task: overrides of the file's defaults, and the fixed options."""

    overrides: Limits = field(default_factory=Limits)
    mount: str = "/repo"
    tool: str | None = None
    policy: Policy = field(default_factory=Policy)
    strict: bool = False
    max_characters: int | None = None
    cache: bool = True
    connection: Connection = field(default_factory=Connection)


@dataclass
class PlannedTask:
    """One task ready to run; `skipped` says why a task has nothing to do (e.g. no file changed since a ref)."""

    index: int
    name: str
    job: str
    spec: JobSpec | None
    finish: Finisher | None
    options: RunOptions
    skipped: str | None = None


def _pick(name: str, task: Limits, shared: Shared, top: Limits) -> object:
    for layer in (task, shared.overrides, top):
        value = getattr(layer, name)
        if value is not None:
            return value
    return None


def _options(task: Limits, shared: Shared, top: Limits, workspace: Path, model: str) -> RunOptions:
    def pick(name: str) -> object:
        return _pick(name, task, shared, top)

    unset_is_default = {name: pick(name) for name in ("max_turns", "max_failed_turns", "max_repeats")}
    settings = RunSettings.model_validate(
        {
            **{name: value for name, value in unset_is_default.items() if value is not None},  # else RunSettings'
            "max_total_tokens": pick("max_total_tokens"),
            "max_cost_usd": pick("max_cost"),
            "max_seconds": pick("timeout"),
            "max_output_tokens": pick("max_output_tokens"),
            "thinking": pick("thinking"),
            "cache": shared.cache,
        }
    )
    return RunOptions(workspace=workspace, model=model, mount=shared.mount, tool=shared.tool, policy=shared.policy,
                      strict=shared.strict, max_characters=shared.max_characters, settings=settings,
                      connection=shared.connection)  # fmt: skip


def _spec(
    task: FixTask | DocTask | WriteTestsTask | RunTask, workspace: Path, shared: Shared, rounds: int
) -> tuple[JobSpec | None, Finisher | None, str | None]:
    """The job's spec and finishing step, or a reason to skip it; JobError when the task cannot run
    (a path or glob outside the workspace among them)."""
    mount, policy = shared.mount, shared.policy
    if isinstance(task, FixTask):
        return fix_job.fix_spec(workspace, mount, task.path, task.problem, task.check, rounds, policy), None, None
    if isinstance(task, WriteTestsTask):
        module, out = testgen.test_paths(workspace, mount, task.module, task.out, policy)
        return testgen.test_spec(workspace, mount, module, out, rounds, policy), testgen.test_report(out), None
    if isinstance(task, DocTask):
        readme = doc_job.readme_path(workspace, mount, task.readme, policy)
        files = doc_job.select_files(workspace, task.paths, task.changed_since, mount, policy)
        if not files and task.changed_since is None:
            raise JobError(f"no file in the workspace matches {', '.join(task.paths)}")
        if not files:
            return None, None, f"no matching file changed since {task.changed_since}"
        spec = doc_job.doc_spec(mount, files, readme).model_copy(update={"check": task.check, "rounds": rounds})
        return spec, doc_job.doc_guard(files, readme), None
    return JobSpec(kind="run", task=task.task, check=task.check, rounds=rounds), None, None


_JOB_FIELD = {"fix": "path", "test": "module", "doc": "paths", "run": "task"}


def _field_of(task: FixTask | DocTask | WriteTestsTask | RunTask, problem: str) -> str:
    """The task's field a problem is about: the test file or the README when the message names it."""
    if isinstance(task, WriteTestsTask) and task.out is not None and problem.startswith((task.out, "--out")):
        return "out"
    if isinstance(task, DocTask) and task.readme is not None and problem.startswith((task.readme, "--readme")):
        return "readme"
    return _JOB_FIELD[task.job]


def plan_tasks(file: TaskFile, workspace: Path, shared: Shared) -> list[PlannedTask]:
    """Every task of the file as a PlannedTask; all problems at once as BatchInputError."""
    planned: list[PlannedTask] = []
    problems: list[str] = []
    for index, task in enumerate(file.tasks):
        where = f"tasks[{index}] ({task.name})"
        model = _pick("model", task, shared, file) or os.environ.get("EDITOR_AGENT_MODEL")  # the env comes last
        if not isinstance(model, str) or not model:
            problems.append(f"{where}: model: none given: set `model` in the file or the task, or pass --model")
            continue
        try:
            resolve_for_run(model, shared.tool)
        except ModelResolutionError as exc:
            problems.append(f"{where}: model: {exc}")
            continue
        rounds = _pick("rounds", task, shared, file)
        check_timeout = _pick("check_timeout", task, shared, file)
        try:
            spec, finish, skipped = _spec(task, workspace, shared,
                                          rounds if isinstance(rounds, int) else DEFAULT_ROUNDS[task.job])  # fmt: skip
        except JobError as exc:
            name = "changed_since" if "--changed-since" in str(exc) else _field_of(task, str(exc))
            problems.append(f"{where}: {name}: {exc}")
            continue
        if spec is not None and check_timeout is not None:  # else the JobSpec's default
            spec = spec.model_copy(update={"check_timeout": check_timeout})
        options = _options(task, shared, file, workspace, model)
        planned.append(PlannedTask(index, task.name, task.job, spec, finish, options, skipped))
    if problems:
        raise BatchInputError(problems)
    return planned
