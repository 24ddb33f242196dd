"""What a batch did, for machines (`--json`, `--report`) and for people (a table and totals).

Both are redacted; the table is terminal-safe, and the report file is created 0600.
"""

from __future__ import annotations

import json
import os
from typing import Any, Literal, TextIO

from pydantic import BaseModel

from ..agent.usage import Usage
from ..safety.private import private_dirs, write_private
from ..safety.redact import redact, redact_data
from ..safety.terminal import safe

TaskStatus = Literal["succeeded", "failed", "skipped", "not_run"]


class CheckSummary(BaseModel):
    command: str
    passed: bool
    exit_code: int | None


class TaskReport(BaseModel):
    """One task. `status` is the verdict; `run_status` the agent loop's own (completed, max_turns, ...)."""

    index: int
    name: str
    job: str
    status: TaskStatus
    run_status: str | None = None
    error: str | None = None
    turns: int = 0
    rounds: int = 0
    check: CheckSummary | None = None
    rejected: list[str] = []
    files_changed: list[str] = []  # relative to the workspace
    merged: bool = False
    conflicts: list[str] = []
    usage: Usage = Usage()
    tokens: int = 0
    cost_usd: float | None = None
    seconds: float = 0.0
    patch: str | None = None
    transcript: str | None = None
    details: dict[str, Any] = {}


class Totals(BaseModel):
    tasks: int = 0
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    not_run: int = 0
    files_changed: int = 0
    usage: Usage = Usage()
    tokens: int = 0
    cost_usd: float | None = None
    rate_limited: int = 0  # 429 responses, all workers together
    seconds: float = 0.0


class BatchReport(BaseModel):
    """The whole batch: `status` is `succeeded` only when every task did (skipped ones count as done)."""

    batch_id: str
    status: Literal["succeeded", "failed", "stopped"]
    tasks_file: str
    workspace: str
    shard: str | None = None
    jobs: int
    tasks: list[TaskReport]
    totals: Totals
    checkpoint_start: str | None = None  # refs/editor-agent/<batch_id>/start: the tree before the batch
    patch: str | None = None  # everything merged, as one patch


def report_document(report: BatchReport) -> dict[str, Any]:
    """The report as JSON data, redacted (task errors can quote a server, details a check's output)."""
    document: dict[str, Any] = redact_data(report.model_dump(mode="json"))
    return document


def write_report_file(report: BatchReport, path: str | os.PathLike[str]) -> None:
    """`--report FILE`: the JSON document, indented, in a file only its owner can read."""
    private_dirs(os.path.dirname(os.fspath(path)) or ".")
    write_private(path, redact(json.dumps(report_document(report), indent=2)) + "\n", encoding="utf-8")


def totals(tasks: list[TaskReport], rate_limited: int, seconds: float) -> Totals:
    usage = Usage()
    for task in tasks:
        usage.add(task.usage.model_dump())
    costs = [t.cost_usd for t in tasks if t.cost_usd is not None]
    return Totals(
        tasks=len(tasks),
        succeeded=sum(t.status == "succeeded" for t in tasks),
        failed=sum(t.status == "failed" for t in tasks),
        skipped=sum(t.status == "skipped" for t in tasks),
        not_run=sum(t.status == "not_run" for t in tasks),
        files_changed=len({f for t in tasks if t.merged for f in t.files_changed}),
        usage=usage,
        tokens=usage.total,
        cost_usd=round(sum(costs), 6) if costs else None,
        rate_limited=rate_limited,
        seconds=round(seconds, 3),
    )


def _money(value: float | None) -> str:
    return f"${value:.4f}" if value is not None else "-"


def task_line(task: TaskReport) -> str:
    """One line about a finished task: what it changed, or why it failed."""
    if task.status == "skipped":
        return task.error or "nothing to do"
    notes = []
    if task.conflicts:
        notes.append(f"conflict in {', '.join(task.conflicts)}; not merged, patch kept: {task.patch}")
    elif task.error:
        notes.append(task.error)
    if task.check is not None and not task.check.passed:
        notes.append(f"check failed: `{task.check.command}` (exit {task.check.exit_code})")
    if task.rejected:
        notes.append(f"rejected edits: {', '.join(task.rejected)}")
    if task.status == "failed" and task.run_status not in (None, "completed"):
        notes.append(f"run ended: {task.run_status}")
    if task.merged:
        notes.append(f"merged: {', '.join(task.files_changed)}")
    elif task.files_changed and not task.conflicts:
        notes.append(f"not merged: {', '.join(task.files_changed)} (patch kept: {task.patch})")
    elif not task.files_changed and not notes:
        notes.append("no changes")
    return "; ".join(dict.fromkeys(notes))


def write_text(report: BatchReport, out: TextIO) -> None:
    """The summary a person reads at the end: one row per task, totals, and where the patch is."""
    rows = [("#", "task", "job", "status", "turns", "tokens", "cost", "")]
    for t in report.tasks:
        status = "ok" if t.status == "succeeded" else t.status.upper().replace("_", " ")
        rows.append((str(t.index), safe(t.name, line=True), t.job, status, str(t.turns), f"{t.tokens:,}",
                     _money(t.cost_usd), safe(task_line(t), line=True)))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(7)]
    for row in rows:
        line = ("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:7])) + "  " + row[7]).rstrip()
        out.write(line + "\n")
    s = report.totals
    shard = f" (shard {report.shard})" if report.shard else ""
    out.write(
        f"\n{report.status}{shard}: {s.tasks} tasks · {s.succeeded} succeeded · {s.failed} failed · "
        f"{s.skipped} skipped" + (f" · {s.not_run} not run" if s.not_run else "") + f" · {s.tokens:,} tokens · "
        f"{_money(s.cost_usd)} · {s.rate_limited} rate-limited requests · {s.seconds:.1f}s\n"
    )
    if report.patch:
        out.write(f"merged patch: {safe(report.patch, line=True)}\n")
    if report.checkpoint_start:
        out.write(f"the tree before the batch: {report.checkpoint_start} (or `editor-agent undo`)\n")
    out.flush()
