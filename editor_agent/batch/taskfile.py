"""The batch task file: YAML validated with pydantic, every problem reported as one line a person can fix.

A line names the task by its index in the `tasks` list (0-based) and its name, then the field:
`tasks[3] (docs-api): check: Input should be a valid string`. Unknown keys are errors, so a typo
never silently drops a setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import BatchInputError as BatchInputError  # the class lives in errors.py
from ..errors import UsageError

JOBS = ("fix", "doc", "test", "run")
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


class Limits(BaseModel):
    """Model and limits: set at the top of the file for every task, or on one task for that task only."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = None
    max_turns: int | None = Field(default=None, ge=1)
    max_total_tokens: int | None = Field(default=None, ge=1)
    max_cost: float | None = Field(default=None, gt=0)
    timeout: float | None = Field(default=None, gt=0)
    max_output_tokens: int | None = Field(default=None, ge=1)
    max_failed_turns: int | None = Field(default=None, ge=1)
    max_repeats: int | None = Field(default=None, ge=2)
    thinking: int | Literal["adaptive"] | None = None
    rounds: int | None = Field(default=None, ge=1)
    check_timeout: float | None = Field(default=None, gt=0)

    @field_validator("thinking")
    @classmethod
    def _budget(cls, value: int | str | None) -> int | str | None:
        if isinstance(value, int) and value < 1024:
            raise ValueError("a thinking budget must be at least 1024 tokens (or 'adaptive')")
        return value


class _Task(Limits):
    name: str = Field(pattern=NAME_PATTERN)


class FixTask(_Task):
    job: Literal["fix"]
    path: str
    problem: str
    check: str | None = None


class DocTask(_Task):
    job: Literal["doc"]
    paths: list[str] = Field(min_length=1)
    readme: str | None = None
    changed_since: str | None = None
    check: str | None = None

    @field_validator("paths", mode="before")
    @classmethod
    def _one_glob(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class WriteTestsTask(_Task):
    """The `test` job: its check is pytest on `out`, so it takes no `check` of its own."""

    job: Literal["test"]
    module: str
    out: str | None = None


class RunTask(_Task):
    job: Literal["run"]
    task: str
    check: str | None = None


Task = Annotated[FixTask | DocTask | WriteTestsTask | RunTask, Field(discriminator="job")]


class TaskFile(Limits):
    """The whole file: batch-wide defaults, the workspace (relative to the current directory), the tasks."""

    workspace: str | None = None
    tasks: list[Task] = Field(min_length=1)


@dataclass(frozen=True)
class Shard:
    """Slice `index` (1-based) of `count`: the tasks whose position in the file modulo `count` is index - 1."""

    index: int
    count: int

    def __contains__(self, position: object) -> bool:
        return isinstance(position, int) and position % self.count == self.index - 1

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """`I/N` with 1 <= I <= N; a ValueError says what is wrong."""
    index, sep, count = text.partition("/")
    try:
        shard = Shard(int(index), int(count))
    except ValueError:
        raise UsageError(f"--shard takes I/N (e.g. 2/4), not {text!r}") from None
    if not sep or shard.count < 1 or not 1 <= shard.index <= shard.count:
        raise UsageError(f"--shard {text}: I must be between 1 and N")
    return shard


def _where(raw: Any, loc: tuple[int | str, ...]) -> tuple[str, list[int | str]]:
    """`tasks[3] (name)` for a task's error, '' for the top level; and the rest of the location."""
    if len(loc) >= 2 and loc[0] == "tasks" and isinstance(loc[1], int):
        index = loc[1]
        items = raw.get("tasks") if isinstance(raw, dict) else None
        item = items[index] if isinstance(items, list) and index < len(items) else None
        name = item.get("name") if isinstance(item, dict) else None
        rest = list(loc[2:])
        if rest and rest[0] in JOBS:  # the discriminator's tag pydantic puts in the location
            rest = rest[1:]
        return f"tasks[{index}]" + (f" ({name})" if isinstance(name, str) and name else ""), rest
    return "", list(loc)


def _field(parts: list[int | str]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _message(error: Any) -> tuple[str | None, str]:
    """(field override, message) for one pydantic error, worded for the task file."""
    kind = error["type"]
    if kind == "union_tag_not_found":
        return "job", f"required: one of {', '.join(JOBS)}"
    if kind == "union_tag_invalid":
        return "job", f"{error['input'].get('job')!r} is not one of {', '.join(JOBS)}"
    if kind == "extra_forbidden":
        if tuple(error["loc"][2:]) == ("test", "check"):
            return None, "unknown field (the test job's check is pytest on `out`)"
        return None, "unknown field"
    if kind == "missing":
        return None, "required"
    if kind in ("model_type", "model_attributes_type", "dict_type") and not error["loc"][2:]:
        return None, "a task must be a mapping with at least `name` and `job`"
    if kind == "string_pattern_mismatch":
        return None, "use letters, digits, '.', '_' and '-' (it names the task's files)"
    return None, str(error["msg"]).removeprefix("Value error, ")


def problems_of(error: ValidationError, raw: Any) -> list[str]:
    """One line per pydantic error: where, field, message."""
    lines = []
    for item in error.errors():
        where, rest = _where(raw, tuple(item["loc"]))
        override, message = _message(item)
        field = override or _field(rest)
        lines.append(": ".join(part for part in (where, field, message) if part))
    return list(dict.fromkeys(lines))


def parse_task_file(text: str, source: str = "the task file") -> TaskFile:
    """Validate a task file's text; a bad file raises BatchInputError with every problem."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise BatchInputError([f"{source}: not valid YAML{where}: {problem}"]) from None
    if isinstance(raw, list):
        raw = {"tasks": raw}
    if not isinstance(raw, dict):
        raise BatchInputError([f"{source}: expected a mapping with `tasks:` (or a list of tasks)"])
    try:
        parsed = TaskFile.model_validate(raw)
    except ValidationError as exc:
        raise BatchInputError(problems_of(exc, raw)) from None
    seen: dict[str, int] = {}
    duplicates = []
    for index, task in enumerate(parsed.tasks):
        if task.name in seen:
            duplicates.append(f"tasks[{index}] ({task.name}): name: already used by tasks[{seen[task.name]}]")
        seen.setdefault(task.name, index)
    if duplicates:
        raise BatchInputError(duplicates)
    return parsed


def load_task_file(path: Path) -> TaskFile:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise BatchInputError([f"cannot read {path}: {exc.strerror}"]) from None
    return parse_task_file(text, str(path))
