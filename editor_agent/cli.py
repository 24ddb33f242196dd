"""The `editor-agent` command: parse flags, call the library, print. No logic of its own.

Exit codes: 0 success, 1 the request failed (e.g. a model without a text editor tool),
2 bad flags or arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Sequence
from typing import TextIO

from . import __version__
from .editor import Editor
from .toolspec import ModelResolutionError, ToolsFileError, load_tools_file, resolve_model, tool_by_type
from .workspace import Policy, Workspace

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


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

    run = commands.add_parser("exec", help="run tool inputs (JSON Lines on stdin) against a workspace")
    run.add_argument("--workspace", required=True, help="the directory the model edits")
    run.add_argument("--mount", default="/repo", help="the path the model sees for the workspace (default /repo)")
    chosen = run.add_mutually_exclusive_group(required=True)
    chosen.add_argument("--model", help="pick the tool version for this model")
    chosen.add_argument("--tool", help="use this tool version, e.g. text_editor_20250728")
    run.add_argument("--max-characters", type=int, help="clip file views to N characters (text_editor_20250728)")
    run.add_argument("--strict", action="store_true", help="exact matching only: no tolerant tiers (for CI)")
    run.add_argument("--max-file-bytes", type=int, help="refuse files larger than this (default 10 MiB)")
    run.add_argument("--tools-file", help="a tools.yaml to use instead of the packaged one")
    return parser


def _tools_resolve(args: argparse.Namespace, out: TextIO) -> int:
    tools = load_tools_file(args.tools_file)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        resolved = resolve_model(args.model, tools)
    for note in resolved.warnings:
        print(f"editor-agent: warning: {note}", file=sys.stderr)
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
        for note in resolved.warnings:
            print(f"editor-agent: warning: {note}", file=sys.stderr)
        spec = resolved.tool
    else:
        spec = tool_by_type(args.tool, tools)
    policy = Policy() if args.max_file_bytes is None else Policy(max_file_bytes=args.max_file_bytes)
    try:
        workspace = Workspace(args.workspace, mount=args.mount, policy=policy)
    except (OSError, ValueError) as exc:
        return _fail(str(exc), EXIT_USAGE)
    editor = Editor(workspace, spec, max_characters=args.max_characters, strict=args.strict)
    for number, line in enumerate(stdin, 1):
        if not line.strip():
            continue
        try:
            tool_input = json.loads(line)
        except json.JSONDecodeError as exc:
            result = {
                "content": f"Input line {number} is not valid JSON: {exc.msg} (column {exc.colno}).",
                "is_error": True,
            }
        else:
            result = editor.run(tool_input).model_dump()
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
        out.flush()
    return EXIT_OK


def main(argv: Sequence[str] | None = None, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """Entry point of the console script and of `python -m editor_agent`."""
    args = _parser().parse_args(argv)
    out = stdout or sys.stdout
    if out is sys.stdout and hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8")
    try:
        if args.command == "tools":
            return _tools_resolve(args, out)
        source = stdin or sys.stdin
        if source is sys.stdin and hasattr(sys.stdin, "reconfigure"):
            sys.stdin.reconfigure(encoding="utf-8")
        return _exec(args, source, out)
    except ModelResolutionError as exc:
        return _fail(str(exc), EXIT_FAILED if args.command == "tools" else EXIT_USAGE)
    except ToolsFileError as exc:
        return _fail(str(exc).replace("\n", "; "), EXIT_USAGE)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
