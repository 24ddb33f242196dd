"""Pruning old runs' private refs, so checkpoints of the user's tree do not pile up forever.

Every run leaves commits of the user's working tree (uncommitted work included) under
`refs/editor-agent/<run>/`. A run is pruned once its newest checkpoint is older than a number of
days: by `editor-agent prune`, and when a new run starts. The age for the latter is set in the
project's pyproject.toml:

    [tool.editor-agent]
    prune-after-days = 14   # 0 or false: never prune on start

Pruning deletes refs only; the commits become unreachable and git's own gc collects them.
"""

from __future__ import annotations

import contextlib
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import git
from pydantic import BaseModel

from ..errors import JobError
from . import git as gitsafety

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DEFAULT_DAYS = 14.0
SETTING = "prune-after-days"
_DAY_NS = 86_400 * 1_000_000_000


class PrunedRun(BaseModel):
    run_id: str
    last_checkpoint: str  # ISO 8601, UTC
    refs: int


class PruneReport(BaseModel):
    """What `editor-agent prune --json` prints."""

    older_than_days: float
    pruned: list[PrunedRun] = []
    kept: int = 0


def configured_days(start: Path, top: Path) -> float | None:
    """`prune-after-days` from the nearest pyproject.toml with a [tool.editor-agent] table, from
    `start` up to the repository's top; the default if none has it; None: pruning on start is off.

    A pyproject.toml that does not parse is not the run's business (it may be what the run fixes)
    and is passed over; a bad value of the setting itself is a JobError.
    """
    folder = start.resolve()
    top = top.resolve()
    while True:
        candidate = folder / "pyproject.toml"
        table = _tool_table(candidate)
        if table is not None:
            return _days(table.get(SETTING, DEFAULT_DAYS), candidate)
        if folder == top or folder == folder.parent or not folder.is_relative_to(top):
            return DEFAULT_DAYS
        folder = folder.parent


def _tool_table(path: Path) -> dict[str, object] | None:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    table = document.get("tool", {}).get("editor-agent") if isinstance(document.get("tool"), dict) else None
    return table if isinstance(table, dict) else None


def _days(value: object, source: Path) -> float | None:
    if value is False or (isinstance(value, int | float) and not isinstance(value, bool) and value == 0):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise JobError(f"{source}: [tool.editor-agent] {SETTING} must be a number of days (0 or false: never), "
                       f"not {value!r}")  # fmt: skip
    return float(value)


def prune_runs(repo: git.Repo, older_than_days: float, keep: frozenset[str] = frozenset()) -> PruneReport:
    """Delete the refs of every run whose newest checkpoint is older than this; runs in `keep` stay."""
    cutoff = time.time_ns() - int(older_than_days * _DAY_NS)
    report = PruneReport(older_than_days=older_than_days)
    for run_id, last in sorted(gitsafety.run_times(repo).items(), key=lambda item: item[1]):
        if run_id in keep or last >= cutoff:
            report.kept += 1
            continue
        try:
            refs = len(gitsafety.checkpoints(repo, run_id))
            gitsafety.drop_checkpoints(repo, run_id)
        except gitsafety.GitSafetyError:  # a ref this program did not make, or a locked one: leave it
            report.kept += 1
            continue
        when = datetime.fromtimestamp(last / 1e9, tz=timezone.utc).isoformat(timespec="seconds")
        report.pruned.append(PrunedRun(run_id=run_id, last_checkpoint=when, refs=refs))
    return report


def prune_on_start(repo: git.Repo, workspace: Path, run_id: str) -> None:
    """Prune runs older than the configured age before a new run adds its own; never the run itself.

    A bad setting stops the run (JobError); a git failure while pruning does not.
    """
    days = configured_days(workspace, Path(str(repo.working_tree_dir)))
    if days is None:
        return
    with contextlib.suppress(gitsafety.GitSafetyError):  # the refs stay for the next run or `editor-agent prune`
        prune_runs(repo, days, keep=frozenset({run_id}))
