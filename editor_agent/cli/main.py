"""The `editor-agent` command: parse flags, call the library, print. No logic of its own.

Everything printed is terminal-safe (`terminal.safe`: control characters escaped, credential values
redacted); JSON output is redacted and its escapes keep it safe.

Exit codes: one table, `exits.EXIT_CODES` (0 the job succeeded, 1 the work failed or was refused,
2 bad flags or arguments, 130 interrupted); the errors themselves are drawn in `errors.py`.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..agent.settings import DEFAULT_ROUNDS
from ..errors import UsageError as UsageError  # where the CLI's callers look for it
from ..safety import redact as redaction
from ..safety.redact import redact, redact_data
from ..safety.terminal import safe
from ..tool.editor import Editor
from ..tool.versions import ModelResolutionError, load_tools_file, resolve_model, tool_by_type
from ..version import __version__
from ..workspace.sandbox import Workspace
from .batch import add_batch_parser, run_batch_command
from .exits import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, exit_code, fail, report_error
from .flags import (
    POSITIVE,
    add_job_flags,
    add_run_flags,
    add_workspace_flags,
    connection_from_flags,
    job_flags,
    model_from_flags,
    options_from_flags,
    policy_from_flags,
    settings_from_flags,
)

if TYPE_CHECKING:
    from ..jobs.session import JobResult


def _say(out: TextIO, text: str) -> None:
    """One line for a person: whatever it quotes (paths, commands, server messages) stays on it, inert."""
    out.write(safe(text, line=True) + "\n")


def _days(text: str) -> float:
    """An argparse type: a number of days, 0 or more."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days (0 or more)")
    return value


class _Parser(argparse.ArgumentParser):
    """argparse without abbreviations: `--tool` must never quietly become `--tools-file`.

    Subcommands' parsers are of the parent's class, so they inherit this too.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="editor-agent", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"editor-agent {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    tools = commands.add_parser("tools", help="text editor tool versions and models")
    tools_commands = tools.add_subparsers(dest="tools_command", required=True)
    resolve = tools_commands.add_parser("resolve", help="print the tool definition to send for a model, as JSON")
    resolve.add_argument("model", help="model id in any spelling, e.g. claude-3.5-sonnet or claude-sonnet-4-5")
    resolve.add_argument("--max-characters", type=POSITIVE, help="add max_characters where the version takes it")
    resolve.add_argument("--tools-file", help="a tools.yaml to use instead of the packaged one")

    execute = commands.add_parser("exec", help="run tool inputs (JSON Lines on stdin) against a workspace")
    add_workspace_flags(execute, workspace_required=True)
    chosen = execute.add_mutually_exclusive_group(required=True)
    chosen.add_argument("--model", help="pick the tool version for this model")
    chosen.add_argument("--tool", help="use this tool version, e.g. text_editor_20250728")
    execute.add_argument("--tools-file", help="a tools.yaml to use instead of the packaged one")

    run = commands.add_parser("run", help="give Claude a task on a workspace and run it to the end")
    run.add_argument("task", nargs="?", help="what to do (omit with --resume)")
    run.add_argument("--resume", metavar="TRANSCRIPT", help="continue an interrupted run from its transcript")

    fix = commands.add_parser("fix", help='fix a file: editor-agent fix PATH "what is wrong" [--check CMD]')
    fix.add_argument("path", help="the file, relative to the workspace")
    fix.add_argument("problem", help="what is wrong")

    doc = commands.add_parser("doc", help="add or improve docstrings without changing behaviour")
    doc.add_argument("paths", nargs="+", metavar="PATH", help="files or globs, relative to the workspace")
    doc.add_argument("--changed-since", metavar="REF", help="only files changed since this git ref")
    doc.add_argument("--readme", metavar="FILE", help="also allow a section in this README")

    test = commands.add_parser("test", help="write tests for a module until they pass")
    test.add_argument("module", help="the module file, relative to the workspace")
    test.add_argument("--out", help="the test file to write (default tests/test_<module>.py)")

    for name, job in (("run", run), ("fix", fix), ("doc", doc), ("test", test)):
        add_workspace_flags(job)
        add_run_flags(job)
        add_job_flags(job, name, check=job in (run, fix))

    demo = commands.add_parser("demo", help="the fix job on the bundled sandbox, offline unless --model is given")
    demo.add_argument("--workspace", help="where to put the sandbox copy (default: a new temporary directory)")
    add_run_flags(demo)

    undo = commands.add_parser("undo", help="restore the files the last run changed (or --run ID)")
    undo.add_argument("--workspace", default=".", help="the workspace the run edited (default: here)")
    undo.add_argument("--run", help="the run id (default: the last run not undone)")
    undo.add_argument("--force", action="store_true", help="also restore files changed since the run")
    undo.add_argument(
        "--state-dir", metavar="DIR", help="where the run kept its journal (default WORKSPACE/.editor-agent)"
    )
    undo.add_argument("--json", action="store_true")

    prune = commands.add_parser("prune", help="delete the private git refs of runs older than some days")
    prune.add_argument("--workspace", default=".", help="a directory in the repository (default: here)")
    prune.add_argument("--older-than", type=_days, metavar="DAYS",
                       help="prune runs whose last checkpoint is older (default: prune-after-days, or 14)")  # fmt: skip
    prune.add_argument("--json", action="store_true")

    add_batch_parser(commands)

    again = commands.add_parser("replay", help="re-execute a transcript's tool calls and report differences")
    again.add_argument("transcript")
    add_workspace_flags(again, workspace_required=True, mount=None)
    again.add_argument("--json", action="store_true", help="print the differences as JSON")
    return parser


def _warn(notes: Sequence[str]) -> None:
    for note in notes:
        print(f"editor-agent: warning: {safe(note, line=True)}", file=sys.stderr)


def _existing(path: str | None, what: str) -> None:
    if path is not None and not Path(path).is_file():
        raise UsageError(f"{what} {path} does not exist")


def _tools_resolve(args: argparse.Namespace, out: TextIO) -> int:
    _existing(args.tools_file, "tools file")
    tools = load_tools_file(args.tools_file)
    try:
        resolved = resolve_model(args.model, tools, warn=False)
    except ModelResolutionError as exc:  # the answer to the question asked, not a bad argument
        return fail(str(exc).replace("\n", "; "), EXIT_FAILED)
    _warn(resolved.warnings)
    spec = resolved.tool
    document = {**spec.definition(args.max_characters), "commands": list(spec.commands), "betas": list(spec.betas)}
    print(json.dumps(document), file=out)
    return EXIT_OK


def _exec(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    _existing(args.tools_file, "tools file")
    tools = load_tools_file(args.tools_file)
    if args.model:
        resolved = resolve_model(args.model, tools, warn=False)
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
            result = redact_data(editor.run(tool_input).model_dump())
        out.write(json.dumps(result) + "\n")  # ASCII escapes keep every line writable
        out.flush()
    return EXIT_OK


def _interrupted(result: JobResult, workspace: Path | None) -> int:
    """After Ctrl-C or SIGTERM: the exact commands to go on or to take the run back; exit 130."""
    where = f" --workspace {shlex.quote(str(workspace))}" if workspace is not None else ""
    lines = ["interrupted: the edits made so far are kept"]
    if result.transcript:
        lines.append(f"to go on:  editor-agent run --resume {shlex.quote(result.transcript)}{where}")
    if result.run_id:
        lines.append(f"to undo:   editor-agent undo{where} --run {shlex.quote(result.run_id)}")
    for line in lines:
        print(f"editor-agent: {safe(line, line=True)}", file=sys.stderr)
    return EXIT_INTERRUPTED


def print_result(result: JobResult, out: TextIO, as_json: bool, workspace: Path | None = None) -> int:
    """The end of a job: one JSON object, or a summary and the diff for a person; exit 0 if it succeeded,
    130 if it was interrupted (with the commands to resume or undo it)."""
    details = result.model_dump(exclude={"diff", "final_text"})
    check = details.get("check")
    failed = not result.succeeded
    if as_json:
        out.write(redact(json.dumps(redact_data(details), default=str)) + "\n")
        out.flush()
        if result.status == "stopped":
            return _interrupted(result, workspace)
        return EXIT_FAILED if failed else EXIT_OK
    usage = result.usage
    cost = f" · ${result.cost_usd:.4f}" if result.cost_usd is not None else ""
    reason = f" ({result.stop_reason})" if result.stop_reason else ""
    _say(
        out,
        f"status: {result.status}{reason} · {result.turns} turns · tokens: {usage.input_tokens} in, "
        f"{usage.output_tokens} out, {usage.cache_read_input_tokens} cache read, "
        f"{usage.cache_creation_input_tokens} cache write{cost}",
    )
    if check:
        verdict = "passed" if check["passed"] else "FAILED"
        _say(out, f"check: `{check['command']}` {verdict} after {details.get('rounds', 1)} round(s)")
    if details.get("rejected"):
        _say(out, f"rejected and reverted (they changed code): {', '.join(details['rejected'])}")
    for key in ("tests_written", "tests_passed", "tests_failed"):
        if key in details.get("details", {}):
            _say(out, f"{key.replace('_', ' ')}: {details['details'][key]}")
    _say(out, f"files changed: {', '.join(result.files_changed) or 'none'}")
    for key, label in (("patch", "patch"), ("branch", "branch"), ("commit", "commit")):
        if details.get(key):
            _say(out, f"{label}: {details[key]}")
    if result.transcript:
        _say(out, f"transcript: {result.transcript}")
    if result.diff:
        out.write("\n" + safe(result.diff))
    out.flush()
    if result.status == "stopped":
        return _interrupted(result, workspace)
    if result.error:
        print(f"editor-agent: error: {safe(result.error, line=True)}", file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK


def _model_text(args: argparse.Namespace) -> None:
    """Text sent to the model must be UTF-8: bytes that are not arrive as lone surrogates, which the API refuses."""
    for field in ("task", "problem"):
        value = getattr(args, field, None)
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise UsageError(f"the {field} given is not valid UTF-8 text") from None


def _job(args: argparse.Namespace, out: TextIO) -> int:
    from ..agent.progress import ConsoleProgress, Progress
    from ..jobs import doc as doc_job
    from ..jobs import fix as fix_job
    from ..jobs import testgen
    from ..jobs.session import JobSpec, run_job

    if args.command == "run" and not args.task and not args.resume:
        raise UsageError("give a TASK, or --resume TRANSCRIPT")
    _model_text(args)
    if args.command == "run":
        _existing(args.resume, "transcript")
    try:
        options = options_from_flags(args)
        flags = job_flags(args)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    progress: Progress = Progress() if args.json else ConsoleProgress()
    if args.command == "run" and args.resume:
        spec = JobSpec(kind="run", task="", check=args.check, **flags)
        result = run_job(spec, options, progress=progress, resume_from=Path(args.resume))
        return print_result(result, out, args.json, options.workspace)
    workspace, mount, policy, finish = options.workspace, options.mount, options.policy, None
    if args.command == "run":
        spec = JobSpec(kind="run", task=args.task, check=args.check, **flags)
    elif args.command == "fix":
        spec = fix_job.fix_spec(workspace, mount, args.path, args.problem, args.check, DEFAULT_ROUNDS["fix"], policy)
        spec = spec.model_copy(update=flags)
    elif args.command == "doc":
        readme = doc_job.readme_path(workspace, mount, args.readme, policy)
        files = doc_job.select_files(workspace, args.paths, args.changed_since, mount, policy)
        if not files and not args.changed_since:
            raise UsageError(f"no file in {workspace} matches {' '.join(args.paths)}")
        if not files:
            _say(sys.stderr, f"editor-agent: nothing to document: no file matches that changed since "
                             f"{args.changed_since}")  # fmt: skip
            return EXIT_OK
        spec = doc_job.doc_spec(mount, files, readme).model_copy(update=flags)
        finish = doc_job.doc_guard(files, readme)
    else:
        module, out_file = testgen.test_paths(workspace, mount, args.module, args.out, policy)
        spec = testgen.test_spec(workspace, mount, module, out_file, DEFAULT_ROUNDS["test"], policy)
        spec = spec.model_copy(update=flags)
        finish = testgen.test_report(out_file)
    return print_result(run_job(spec, options, progress=progress, finish=finish), out, args.json, options.workspace)


def _demo(args: argparse.Namespace, out: TextIO) -> int:
    from ..agent.progress import ConsoleProgress, Progress
    from ..demo import run_demo

    workspace = Path(args.workspace) if args.workspace else None
    if workspace is not None and workspace.exists() and any(workspace.iterdir()):
        raise UsageError(
            f"--workspace {workspace} is not empty; the demo copies the sandbox into a new or empty directory"
        )
    try:
        connection = connection_from_flags(args)
        settings = settings_from_flags(args)
        model = model_from_flags(args) if args.model or args.tool else None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    progress: Progress = Progress() if args.json else ConsoleProgress()
    say = (lambda text: None) if args.json else (lambda text: print(safe(text), file=sys.stderr))
    transcript = Path(args.transcript) if args.transcript else None
    result, _ = run_demo(workspace, model, connection, progress, say, settings=settings, tool=args.tool,
                         transcript=transcript)  # fmt: skip
    return print_result(result, out, args.json)


def _undo(args: argparse.Namespace, out: TextIO) -> int:
    from ..safety.journal import undo_run

    report = undo_run(Path(args.workspace), args.run, args.force,
                      state_dir=Path(args.state_dir) if args.state_dir else None)  # fmt: skip
    if args.json:
        out.write(redact(report.model_dump_json()) + "\n")
    else:
        _say(out, f"undid run {report.run_id}")
        for label, paths in (("restored", report.restored), ("removed (created by the run)", report.removed),
                             ("directories removed (made by the run)", report.removed_directories),
                             ("already as before", report.unchanged)):  # fmt: skip
            if paths:
                _say(out, f"{label}: {', '.join(paths)}")
        if report.conflicts:
            _say(out, f"NOT restored, changed since the run (use --force to overwrite): {', '.join(report.conflicts)}")
    return EXIT_FAILED if report.conflicts else EXIT_OK


def _prune(args: argparse.Namespace, out: TextIO) -> int:
    from ..safety import git as gitsafety
    from ..safety import prune

    repo = gitsafety.open_repo(Path(args.workspace))
    if repo is None:
        raise UsageError(f"{args.workspace} is not in a git repository")
    days = args.older_than
    if days is None:
        days = prune.configured_days(Path(args.workspace), Path(str(repo.working_tree_dir))) or prune.DEFAULT_DAYS
    report = prune.prune_runs(repo, days)
    if args.json:
        out.write(report.model_dump_json() + "\n")
        return EXIT_OK
    for run in report.pruned:
        out.write(f"pruned run {run.run_id} (last checkpoint {run.last_checkpoint}, {run.refs} refs)\n")
    out.write(f"{len(report.pruned)} run(s) older than {days:g} days pruned, {report.kept} kept\n")
    return EXIT_OK


def _replay(args: argparse.Namespace, out: TextIO) -> int:
    from ..agent.replay import replay

    _existing(args.transcript, "transcript")
    count, differences = replay(Path(args.transcript), Path(args.workspace), args.mount, policy_from_flags(args))
    if args.json:
        document = {"tool_calls": count, "differences": [d.model_dump() for d in differences]}
        out.write(json.dumps(redact_data(document)) + "\n")
    else:
        for difference in differences:
            _say(out, f"call {difference.index + 1}: {json.dumps(redact_data(difference.input))[:200]}")
            _say(out, f"  recorded: {json.dumps(redact_data(difference.recorded))[:300]}")
            _say(out, f"  replayed: {json.dumps(redact_data(difference.replayed))[:300]}")
        _say(out, f"{count} tool calls replayed, {len(differences)} differ")
    return EXIT_OK if not differences else EXIT_FAILED


def main(argv: Sequence[str] | None = None, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """Entry point of the console script and of `python -m editor_agent`."""
    args = _parser().parse_args(argv)
    if stdout is None:  # the console script: its streams write UTF-8 whatever the locale; a caller's stay as set
        for stream in (sys.stdout, sys.stderr, sys.stdin):
            if hasattr(stream, "reconfigure"):
                stream.reconfigure(encoding="utf-8")
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _terminated)  # what CI sends on cancel: end like Ctrl-C
    with redaction.scoped():  # credentials registered by this command are forgotten when it ends
        return _dispatch(args, stdin, stdout or sys.stdout)


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM ends a command as Ctrl-C does: the run stops cleanly, with its summary and `end` event."""
    raise KeyboardInterrupt


def _dispatch(args: argparse.Namespace, stdin: TextIO | None, out: TextIO) -> int:
    try:
        if args.command == "tools":
            return _tools_resolve(args, out)
        if args.command == "exec":
            return _exec(args, stdin or sys.stdin, out)
        if args.command in ("run", "fix", "doc", "test"):
            return _job(args, out)
        if args.command == "demo":
            return _demo(args, out)
        if args.command == "undo":
            return _undo(args, out)
        if args.command == "prune":
            return _prune(args, out)
        if args.command == "batch":
            return run_batch_command(args, out)
        return _replay(args, out)
    except BaseException as exc:  # the one table decides; anything not in it is a bug
        code = exit_code(exc)
        if code is None:
            if os.environ.get("EDITOR_AGENT_DEBUG") or not isinstance(exc, Exception):
                raise
            return fail(f"internal error: {type(exc).__name__}: {exc} (set EDITOR_AGENT_DEBUG=1 for the traceback)")
        return report_error(exc, code)
