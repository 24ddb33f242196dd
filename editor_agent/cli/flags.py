"""The command line's shared flags and their translation into `RunOptions` (parsing only)."""

from __future__ import annotations

import argparse
import codecs
import json
import math
import os
from pathlib import Path
from typing import Any, Literal

from ..agent.settings import DEFAULT_CHECK_TIMEOUT, DEFAULT_ROUNDS, RunOptions, RunSettings
from ..api.connection import Connection, load_profile
from ..errors import UsageError
from ..workspace.policy import Policy


def _number(kind: type, low: float, what: str, high: float = 1e12) -> Any:
    """An argparse type: a finite number of `kind` from `low` to `high` (a bad value exits 2 with a message).

    `nan` and `inf` are refused: `nan` compares false with every limit, so it would switch a limit off.
    """

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        return value

    return parse


POSITIVE = _number(int, 1, "a whole number of at least 1")
NON_NEGATIVE = _number(int, 0, "a whole number of at least 0")
POSITIVE_FLOAT = _number(float, 1e-9, "a positive number (at most 1e9)", 1e9)
AT_LEAST_TWO = _number(int, 2, "a whole number of at least 2")


def encoding_setting(text: str) -> tuple[str, str]:
    """An argparse type: `GLOB=ENCODING`, a known codec (a bad value exits 2 with a message)."""
    glob, sep, encoding = text.rpartition("=")
    if not sep or not glob.strip() or not encoding.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not GLOB=ENCODING (e.g. 'legacy/*.txt=cp1251')")
    try:
        codecs.lookup(encoding.strip())
    except LookupError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: {encoding.strip()!r} is not an encoding; use GLOB=ENCODING"
        ) from None
    return glob.strip(), encoding.strip()


def add_workspace_flags(
    parser: argparse.ArgumentParser, *, workspace_required: bool = False, mount: str | None = "/repo"
) -> None:
    group = parser.add_argument_group("workspace")
    group.add_argument("--workspace", required=workspace_required, default=None if workspace_required else ".",
                       help="the directory the model edits (default: the current directory)")  # fmt: skip
    group.add_argument("--mount", default=mount, help="the path the model sees for the workspace (default /repo)")
    group.add_argument("--state-dir", metavar="DIR",
                       help="keep journals, transcripts, patches here (default WORKSPACE/.editor-agent)")  # fmt: skip
    group.add_argument("--strict", action="store_true", help="exact matching only: no tolerant tiers (for CI)")
    group.add_argument("--read-only", action="store_true", help="refuse every write: the model can only look")
    group.add_argument("--no-images", action="store_true", help="refuse image files as binary instead of showing them")
    group.add_argument("--max-file-bytes", type=POSITIVE, help="refuse files larger than this (default 10 MiB)")
    group.add_argument("--hide", action="append", default=[], metavar="GLOB", help="also hide paths matching GLOB")
    group.add_argument("--protect", action="append", default=[], metavar="GLOB",
                       help="also refuse writes to paths matching GLOB")  # fmt: skip
    group.add_argument("--encoding", action="append", default=[], type=encoding_setting, metavar="GLOB=ENCODING",
                       help="files matching GLOB are in this legacy encoding (e.g. 'legacy/*.txt=cp1251'); "
                       "new non-ASCII text is written only in a set or surely detected encoding")  # fmt: skip
    group.add_argument(
        "--reveal",
        action="append",
        default=[],
        metavar="GLOB",
        help="let the model see paths matching GLOB that are hidden by default (e.g. .env.example)",
    )
    group.add_argument(
        "--unprotect",
        action="append",
        default=[],
        metavar="GLOB",
        help="let the model write paths matching GLOB that are protected by default (e.g. .vscode)",
    )
    group.add_argument(
        "--max-characters",
        type=POSITIVE,
        help="clip file views to N characters (max_characters on text_editor_20250728)",
    )


def _default(field: str) -> object:
    """RunSettings' default for `field`: flags default to None, so the settings' own default applies."""
    return RunSettings.model_fields[field].default


def add_run_flags(parser: argparse.ArgumentParser) -> None:
    """Model, limits, thinking, output and connection flags shared by `run` and the jobs (all default None)."""
    model = parser.add_argument_group("model")
    model.add_argument("--model", help="model id as your endpoint names it (or set EDITOR_AGENT_MODEL)")
    model.add_argument("--tool", help="force a text editor tool version, e.g. text_editor_20250728")
    model.add_argument("--thinking", help="extended thinking: a token budget (e.g. 8000) or 'adaptive'")
    model.add_argument("--no-cache", action="store_true", help="do not set prompt-caching breakpoints")
    limits = parser.add_argument_group("limits")
    limits.add_argument("--max-turns", type=POSITIVE,
                        help=f"stop after N model replies (default {_default('max_turns')})")  # fmt: skip
    limits.add_argument("--max-total-tokens", type=POSITIVE, help="stop once the run has used N tokens")
    limits.add_argument("--max-cost", type=POSITIVE_FLOAT, help="stop once the run has cost this many USD")
    limits.add_argument("--timeout", type=POSITIVE_FLOAT, help="stop after this many seconds")
    limits.add_argument(
        "--max-failed-turns",
        type=POSITIVE,
        help=f"stop as stuck after N turns in a row whose tool calls all failed "
        f"(default {_default('max_failed_turns')})",
    )
    limits.add_argument(
        "--max-repeats",
        type=AT_LEAST_TWO,
        help=f"stop as stuck after N turns in a row with the same tool calls and results "
        f"(default {_default('max_repeats')})",
    )
    limits.add_argument(
        "--max-output-tokens", type=POSITIVE, help="max_tokens of each reply (default: the model's cap)"
    )
    output = parser.add_argument_group("output")
    output.add_argument("--json", action="store_true", help="print one JSON object with the outcome, nothing else")
    output.add_argument("--transcript", help="write the run's JSON Lines transcript here")
    link = parser.add_argument_group("connection")
    link.add_argument("--config", help="config file with connection profiles (or set EDITOR_AGENT_CONFIG)")
    link.add_argument("--profile", help="the profile of the config file to use")
    link.add_argument("--base-url", help="the endpoint's base URL (default: ANTHROPIC_BASE_URL or Anthropic's)")
    link.add_argument("--auth", choices=["bearer", "x-api-key"], help="header that carries the credential")
    link.add_argument("--credential-env", help="environment variable holding the credential")
    link.add_argument("--messages-path", help="path of the Messages endpoint (default /v1/messages)")
    link.add_argument("--anthropic-version", help="anthropic-version header to send (e.g. 2023-06-01)")
    link.add_argument("--header", action="append", default=[], metavar="NAME:VALUE", help="an extra header")
    link.add_argument("--beta", action="append", default=[], help="an extra anthropic-beta value")
    link.add_argument("--body", action="append", default=[], metavar="FIELD=JSON",
                      help="an extra request body field, e.g. service_tier='\"auto\"'")  # fmt: skip
    link.add_argument("--max-retries", type=NON_NEGATIVE, help="retries of 429/5xx/connection errors (default 4)")


def add_job_flags(parser: argparse.ArgumentParser, job: str, *, check: bool = True) -> None:
    """Checks and git safety, shared by `run` and the jobs (unset: None, and the job's defaults apply)."""
    group = parser.add_argument_group("check and git")
    if check:
        group.add_argument("--check", metavar="CMD", help="a command run in the workspace after the model ends")
    group.add_argument("--rounds", type=POSITIVE,
                       help=f"rounds of fixing while the check fails (default {DEFAULT_ROUNDS[job]})")  # fmt: skip
    group.add_argument("--check-timeout", type=POSITIVE_FLOAT,
                       help=f"seconds the check may take (default {DEFAULT_CHECK_TIMEOUT:g})")  # fmt: skip
    group.add_argument("--isolate", action="store_true", help="work in a separate git worktree, not in place")
    group.add_argument("--patch-out", metavar="FILE", help="with --isolate: write the result as a patch here")
    group.add_argument("--branch", metavar="NAME", help="with --isolate: leave the result on this branch")
    group.add_argument("--commit", action="store_true", help="commit the changed files with a generated message")


def job_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The JobSpec fields the job flags set (a flag not given is left out: the JobSpec's default applies)."""
    if args.isolate and args.commit:
        raise UsageError("--commit commits in place; with --isolate use --branch NAME instead")
    given = {"rounds": args.rounds, "check_timeout": args.check_timeout}
    return {
        **{name: value for name, value in given.items() if value is not None},
        "isolate": args.isolate,
        "patch_out": Path(args.patch_out) if args.patch_out else None,
        "branch": args.branch,
        "commit": args.commit,
    }


def policy_from_flags(args: argparse.Namespace) -> Policy:
    """The default policy, extended by --hide/--protect, narrowed by --reveal/--unprotect, with --max-file-bytes,
    --read-only, --no-images and --encoding."""
    defaults = Policy()
    return Policy(
        hidden=defaults.hidden + tuple(args.hide),
        read_only=defaults.read_only + tuple(args.protect),
        reveal=tuple(args.reveal),
        unprotect=tuple(args.unprotect),
        max_file_bytes=args.max_file_bytes or defaults.max_file_bytes,
        read_only_workspace=args.read_only,
        images=not args.no_images,
        encodings=tuple(args.encoding),
    )


def _thinking(value: str | None) -> int | Literal["adaptive"] | None:
    if value is None:
        return None
    if value == "adaptive":
        return "adaptive"
    try:
        budget = int(value)
    except ValueError:
        raise UsageError(f"--thinking takes a token budget or 'adaptive', not {value!r}") from None
    if budget < 1024:
        raise UsageError("--thinking budget must be at least 1024 tokens")
    return budget


def connection_from_flags(args: argparse.Namespace) -> Connection:
    connection = load_profile(args.profile, args.config)
    update: dict[str, Any] = {}
    for flag, field in (("base_url", "base_url"), ("auth", "auth"), ("credential_env", "credential_env"),
                        ("messages_path", "messages_path"), ("anthropic_version", "anthropic_version"),
                        ("max_retries", "max_retries")):  # fmt: skip
        if getattr(args, flag) is not None:
            update[field] = getattr(args, flag)
    headers = dict(connection.headers)
    for header in args.header:
        name, sep, value = header.partition(":")
        if not sep or not name.strip():
            raise UsageError(f"--header takes NAME:VALUE, not {header!r}")
        headers[name.strip()] = value.strip()
    body = dict(connection.body)
    for field in args.body:
        name, sep, value = field.partition("=")
        if not sep:
            raise UsageError(f"--body takes FIELD=JSON, not {field!r}")
        try:
            body[name] = json.loads(value)
        except json.JSONDecodeError:
            body[name] = value
    update.update(headers=headers, body=body, betas=[*connection.betas, *args.beta])
    merged = Connection.model_validate({**connection.model_dump(), **update})  # flags are validated too
    return merged.model_copy(update={"api_key": connection.api_key})


def model_from_flags(args: argparse.Namespace) -> str:
    model = args.model or os.environ.get("EDITOR_AGENT_MODEL")
    if not model:
        raise UsageError("give --model MODEL (or set EDITOR_AGENT_MODEL)")
    return model


def settings_from_flags(args: argparse.Namespace) -> RunSettings:
    unset_is_default = {"max_turns": args.max_turns, "max_failed_turns": args.max_failed_turns,
                        "max_repeats": args.max_repeats}  # fmt: skip
    return RunSettings(
        **{name: value for name, value in unset_is_default.items() if value is not None},
        max_total_tokens=args.max_total_tokens,
        max_cost_usd=args.max_cost,
        max_seconds=args.timeout,
        max_output_tokens=args.max_output_tokens,
        thinking=_thinking(args.thinking),
        cache=not args.no_cache,
    )


def options_from_flags(args: argparse.Namespace) -> RunOptions:
    """RunOptions from parsed flags; raises ValueError with a message for a person."""
    settings = settings_from_flags(args)
    workspace = Path(args.workspace)
    if not workspace.is_dir():
        raise UsageError(f"workspace {args.workspace} is not a directory")
    return RunOptions(
        workspace=workspace,
        model=model_from_flags(args),
        mount=args.mount,
        tool=args.tool,
        policy=policy_from_flags(args),
        strict=args.strict,
        max_characters=args.max_characters,
        settings=settings,
        connection=connection_from_flags(args),
        transcript=Path(args.transcript) if args.transcript else None,
        state_dir=Path(args.state_dir) if args.state_dir else None,
    )
