"""`editor-agent batch TASKS.yaml`: the subcommand's flags and what it prints (no batch logic here).

Importing this module is cheap (no SDK): the CLI imports it to build its parser.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..errors import BatchInputError, UsageError
from .exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE, exit_code, fail, report_error
from .flags import add_run_flags, add_workspace_flags, connection_from_flags, policy_from_flags

if TYPE_CHECKING:
    from ..batch.plan import Shared

EXIT_STOPPED = 130


def add_batch_parser(commands: Any) -> argparse.ArgumentParser:
    """Add `batch` to the CLI's subcommands (`commands` is what `add_subparsers()` returned)."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "batch",
        help="run many tasks from a YAML file in parallel git worktrees and merge the results",
        description="Run the tasks of TASKS.yaml, each in its own git worktree, then merge each task's patch "
        "into the working tree in file order; a task whose patch conflicts is failed and left out. "
        "Exit 0: every task succeeded; 1: some failed; 2: bad input.",
    )
    parser.add_argument("tasks_file", metavar="TASKS.yaml", help="the task file")
    group = parser.add_argument_group("batch")
    group.add_argument("--jobs", "-j", type=int, default=4, help="tasks run at once (default 4)")
    group.add_argument("--shard", metavar="I/N",
                       help="run only tasks whose 0-based position in the file modulo N is I-1")  # fmt: skip
    group.add_argument("--rpm", type=int, metavar="N", help="send at most N requests a minute, evenly spaced")
    group.add_argument("--report", metavar="FILE", help="also write the --json object to FILE")
    group.add_argument("--quiet", action="store_true", help="no progress on stderr")
    add_workspace_flags(parser)
    add_run_flags(parser)
    parser.set_defaults(workspace=None)  # None: not given here, so the task file's value applies
    return parser


def _shared(args: argparse.Namespace) -> Shared:
    """The command line's part of every task's settings."""
    from ..batch.plan import Shared
    from ..batch.taskfile import Limits

    thinking: Any = args.thinking
    if thinking is not None and thinking != "adaptive":
        try:
            thinking = int(thinking)
        except ValueError:
            raise UsageError(f"--thinking takes a token budget or 'adaptive', not {thinking!r}") from None
    overrides = Limits(model=args.model, max_turns=args.max_turns, max_total_tokens=args.max_total_tokens,
                       max_cost=args.max_cost, timeout=args.timeout, max_output_tokens=args.max_output_tokens,
                       max_failed_turns=args.max_failed_turns, max_repeats=args.max_repeats,
                       thinking=thinking)  # fmt: skip
    return Shared(overrides=overrides, mount=args.mount, tool=args.tool, policy=policy_from_flags(args),
                  strict=args.strict, max_characters=args.max_characters, cache=not args.no_cache,
                  connection=connection_from_flags(args))  # fmt: skip


def run_batch_command(args: argparse.Namespace, out: TextIO) -> int:
    """Run `editor-agent batch` from parsed flags; print the summary (or JSON) to `out`; return the exit code."""
    from pydantic import ValidationError

    from ..batch.display import BatchDisplay
    from ..batch.engine import BatchSettings, run_batch
    from ..batch.report import report_document, write_report_file, write_text
    from ..batch.taskfile import parse_shard

    if args.transcript:
        return fail("--transcript does not apply to batch: each task's transcript is written under "
                    ".editor-agent/batch/<batch id>/ in the workspace", EXIT_USAGE)  # fmt: skip
    try:
        settings = BatchSettings(
            tasks_file=Path(args.tasks_file),
            workspace=Path(args.workspace) if args.workspace else None,
            jobs=args.jobs,
            shard=parse_shard(args.shard) if args.shard else None,
            rpm=args.rpm,
            shared=_shared(args),
        )
        if args.rpm is not None and args.rpm < 1:
            raise UsageError("--rpm must be at least 1")
        report = run_batch(settings, display=BatchDisplay(0, quiet=args.quiet))
    except ValidationError as exc:  # a flag's value the task file's rules refuse
        flags = [f"--{'-'.join(map(str, e['loc'])).replace('_', '-')}" for e in exc.errors()]
        messages = [str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()]
        problems = [f"{flag}: {message}" for flag, message in zip(flags, messages, strict=True)]
        return report_error(BatchInputError(problems), EXIT_USAGE)
    except Exception as exc:  # the CLI's one table; what it does not know goes up as a bug
        code = exit_code(exc)
        if code is None:
            raise
        return report_error(exc, code)
    document = report_document(report)
    if args.report:
        try:
            write_report_file(report, args.report)
        except OSError as exc:
            print(f"editor-agent: error: cannot write the report {args.report}: {exc.strerror}", file=sys.stderr)
            return EXIT_FAILED
    if args.json:
        out.write(json.dumps(document) + "\n")
        out.flush()
    else:
        write_text(report, out)
    return {"succeeded": EXIT_OK, "failed": EXIT_FAILED, "stopped": EXIT_STOPPED}[report.status]
