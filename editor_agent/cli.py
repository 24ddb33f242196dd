"""The `editor-agent` command: parse flags, call the library, print. No logic of its own.

Exit codes: 0 success (a run that completed), 1 the work failed (a run that did not complete,
a model without a text editor tool, replay differences), 2 bad flags or arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from . import __version__
from .cliflags import add_run_flags, add_workspace_flags, options_from_flags, policy_from_flags
from .connection import ConnectionError_
from .editor import Editor
from .toolspec import ModelResolutionError, ToolsFileError, load_tools_file, resolve_model, tool_by_type
from .workspace import Workspace

if TYPE_CHECKING:
    from .loop import RunResult

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad flags or arguments: exit 2."""


def _fail(message: str, code: int = EXIT_FAILED) -> int:
    print(f"editor-agent: error: {message}", file=sys.stderr)
    return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="editor-agent", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"editor-agent {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    tools = commands.add_parser("tools", help="text editor tool versions and models")
    tools_commands = tools.add_subparsers(dest="tools_command", required=True)
    resolve = tools_commands.add_parser("resolve", help="print the tool definition to send for a model, as JSON")
    resolve.add_argument("model", help="model id in any spelling, e.g. claude-3.5-sonnet or claude-sonnet-4-5")
    resolve.add_argument("--max-characters", type=int, help="add max_characters where the version takes it")
    resolve.add_argument("--tools-file", help="a tools.yaml to use instead of the packaged one")

    execute = commands.add_parser("exec", help="run tool inputs (JSON Lines on stdin) against a workspace")
    add_workspace_flags(execute, workspace_required=True)
    chosen = execute.add_mutually_exclusive_group(required=True)
    chosen.add_argument("--model", help="pick the tool version for this model")
    chosen.add_argument("--tool", help="use this tool version, e.g. text_editor_20250728")
    execute.add_argument("--tools-file", help="a tools.yaml to use instead of the packaged one")

    run = commands.add_parser("run", help="give Claude a task on a workspace and run it to the end")
    run.add_argument("task", nargs="?", help="what to do (omit with --resume)")
    add_workspace_flags(run)
    add_run_flags(run)
    run.add_argument("--resume", metavar="TRANSCRIPT", help="continue an interrupted run from its transcript")

    again = commands.add_parser("replay", help="re-execute a transcript's tool calls and report differences")
    again.add_argument("transcript")
    add_workspace_flags(again, workspace_required=True)
    again.add_argument("--json", action="store_true", help="print the differences as JSON")
    return parser


def _warn(notes: Sequence[str]) -> None:
    for note in notes:
        print(f"editor-agent: warning: {note}", file=sys.stderr)


def _tools_resolve(args: argparse.Namespace, out: TextIO) -> int:
    tools = load_tools_file(args.tools_file)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        resolved = resolve_model(args.model, tools)
    _warn(resolved.warnings)
    spec = resolved.tool
    document = {**spec.definition(args.max_characters), "commands": list(spec.commands), "betas": list(spec.betas)}
    print(json.dumps(document), file=out)
    return EXIT_OK


def _exec(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    tools = load_tools_file(args.tools_file)
    if args.model:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            resolved = resolve_model(args.model, tools)
        _warn(resolved.warnings)
        spec = resolved.tool
    else:
        spec = tool_by_type(args.tool, tools)
    try:
        workspace = Workspace(args.workspace, mount=args.mount, policy=policy_from_flags(args))
    except (OSError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    editor = Editor(workspace, spec, max_characters=args.max_characters, strict=args.strict)
    for number, line in enumerate(stdin, 1):
        if not line.strip():
            continue
        try:
            tool_input = json.loads(line)
        except json.JSONDecodeError as exc:
            message = f"Input line {number} is not valid JSON: {exc.msg} (column {exc.colno})."
            result = {"content": message, "is_error": True}
        else:
            result = editor.run(tool_input).model_dump()
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
        out.flush()
    return EXIT_OK


def print_result(result: RunResult, out: TextIO, as_json: bool) -> int:
    """The end of a run: one JSON object, or a summary and the diff for a person."""
    if as_json:
        out.write(result.model_dump_json(exclude={"diff", "final_text"}) + "\n")
    else:
        usage = result.usage
        cost = f" · ${result.cost_usd:.4f}" if result.cost_usd is not None else ""
        reason = f" ({result.stop_reason})" if result.stop_reason else ""
        out.write(
            f"status: {result.status}{reason} · {result.turns} turns · tokens: {usage.input_tokens} in, "
            f"{usage.output_tokens} out, {usage.cache_read_input_tokens} cache read, "
            f"{usage.cache_creation_input_tokens} cache write{cost}\n"
        )
        if result.error:
            print(f"editor-agent: error: {result.error}", file=sys.stderr)
        out.write(f"files changed: {', '.join(result.files_changed) or 'none'}\n")
        if result.transcript:
            out.write(f"transcript: {result.transcript}\n")
        if result.diff:
            out.write("\n" + result.diff)
    out.flush()
    return EXIT_OK if result.status == "completed" else EXIT_FAILED


def _run(args: argparse.Namespace, out: TextIO) -> int:
    if not args.task and not args.resume:
        raise UsageError("give a TASK, or --resume TRANSCRIPT")
    try:
        options = options_from_flags(args)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    from .progress import ConsoleProgress, Progress
    from .runner import run_task  # imports the SDK: only for commands that talk to the API

    progress: Progress = Progress() if args.json else ConsoleProgress()
    resume = Path(args.resume) if args.resume else None
    result = run_task(options, args.task or "", progress=progress, resume_from=resume)
    return print_result(result, out, args.json)


def _replay(args: argparse.Namespace, out: TextIO) -> int:
    from .runner import replay

    count, differences = replay(Path(args.transcript), Path(args.workspace), args.mount, policy_from_flags(args))
    if args.json:
        out.write(json.dumps({"tool_calls": count, "differences": [d.model_dump() for d in differences]}) + "\n")
    else:
        for difference in differences:
            out.write(f"call {difference.index + 1}: {json.dumps(difference.input)[:200]}\n")
            out.write(f"  recorded: {json.dumps(difference.recorded)[:300]}\n")
            out.write(f"  replayed: {json.dumps(difference.replayed)[:300]}\n")
        out.write(f"{count} tool calls replayed, {len(differences)} differ\n")
    return EXIT_OK if not differences else EXIT_FAILED


def main(argv: Sequence[str] | None = None, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """Entry point of the console script and of `python -m editor_agent`."""
    args = _parser().parse_args(argv)
    out = stdout or sys.stdout
    for stream in (sys.stdout, sys.stderr, sys.stdin):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8")
    try:
        if args.command == "tools":
            return _tools_resolve(args, out)
        if args.command == "exec":
            return _exec(args, stdin or sys.stdin, out)
        if args.command == "run":
            return _run(args, out)
        return _replay(args, out)
    except UsageError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except ModelResolutionError as exc:
        return _fail(str(exc), EXIT_FAILED if args.command == "tools" else EXIT_USAGE)
    except (ToolsFileError, ConnectionError_) as exc:
        return _fail(str(exc).replace("\n", "; "), EXIT_USAGE)
    except (OSError, ValueError) as exc:
        return _fail(str(exc), EXIT_FAILED)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
