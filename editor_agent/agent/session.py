"""The one way a run is assembled: options → workspace → editor → transcript → agent loop.

The jobs (and through them the CLI, batch and the demo), the benchmarks and library users all
open a `Session` and drive its `loop`; nothing else builds an `Editor` for a model or an
`AgentLoop`. A job adds its safety net (undo journal, watcher, checkpoints) through the hooks.

    with Session.open(options) as session:
        result = session.loop.run("Fix the discount in shop.py.")
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import anthropic

from ..api.client import build_client
from ..safety.journal import Journal
from ..safety.statedir import StateDir
from ..tool.editor import Editor
from ..tool.versions import ModelResolutionError, ResolvedModel, resolve_model, tool_by_type
from ..workspace.policy import Policy
from ..workspace.sandbox import Workspace
from ..workspace.watch import WorkspaceWatcher
from .loop import AgentLoop
from .progress import Progress
from .sdk_model import SDKModel
from .settings import RunOptions
from .transcript import Transcript

RUNS_DIR = "runs"


def resolve_for_run(model: str, tool: str | None) -> ResolvedModel:
    """The model's rules from tools.yaml, with the tool version replaced when --tool forces one."""
    try:
        resolved = resolve_model(model, warn=False)  # callers show `resolved.warnings` their own way
    except ModelResolutionError:
        if tool is None:
            raise
        resolved = ResolvedModel(model=model, family=model, tool=tool_by_type(tool), max_tokens=8192)
    return resolved if tool is None else resolved.model_copy(update={"tool": tool_by_type(tool)})


def new_run_id() -> str:
    """Time-ordered and unique: runs sort by their id."""
    now = time.time_ns()
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now // 1_000_000_000))
    return f"{stamp}-{now % 1_000_000_000:09d}-{uuid.uuid4().hex[:4]}"


def default_transcript(workspace: Path, run_id: str | None = None, state_dir: Path | None = None) -> Path:
    """`runs/<run id>.jsonl` in the workspace's state directory (`.editor-agent/`, or `--state-dir`)."""
    return StateDir.open(workspace, state_dir).file_path(f"{RUNS_DIR}/{run_id or new_run_id()}.jsonl")


def _hiding_state(options: RunOptions) -> Policy:
    """The run's policy, also hiding a `--state-dir` that lies inside the workspace: its journal, blobs
    and transcripts are the tool's, never the model's (`.editor-agent/` is hidden already)."""
    if options.state_dir is None:
        return options.policy
    top = Path(os.path.realpath(options.workspace))
    state = Path(os.path.realpath(options.state_dir))
    if state == top or top not in state.parents:
        return options.policy
    return options.policy.model_copy(update={"hidden": (*options.policy.hidden, state.relative_to(top).as_posix())})


@dataclass
class Session:
    """An assembled run: the editor the model uses, the loop that talks to it, the record it writes."""

    editor: Editor
    loop: AgentLoop
    transcript: Transcript
    resolved: ResolvedModel

    @classmethod
    @contextlib.contextmanager
    def open(
        cls,
        options: RunOptions,
        *,
        workdir: Path | None = None,
        client: anthropic.Anthropic | None = None,
        progress: Progress | None = None,
        transcript: Path | None = None,
        journal: Journal | None = None,
        watcher: WorkspaceWatcher | None = None,
        after_tools: Callable[[Editor, int], None] | None = None,
    ) -> Iterator[Session]:
        """Assemble a run on `workdir` (default `options.workspace`); the transcript is closed on exit.

        `transcript` overrides `options.transcript` (a resumed run appends to its own); without
        either, the run's record goes to the state directory. `after_tools(editor, turn)` runs
        after each turn's tool calls (a job's checkpoint).
        """
        resolved = resolve_for_run(options.model, options.tool)
        root = Path(workdir if workdir is not None else options.workspace)
        workspace = Workspace(root, mount=options.mount, policy=_hiding_state(options))
        editor = Editor(workspace, resolved.tool, max_characters=options.max_characters, strict=options.strict,
                        journal=journal, watcher=watcher)  # fmt: skip
        path = transcript or options.transcript or default_transcript(root, None, options.state_dir)
        hook = None if after_tools is None else (lambda turn: after_tools(editor, turn))
        with Transcript(path) as record:
            announce = None if progress is None else (lambda seconds, why: progress.retry(why, seconds))
            model = SDKModel(client or build_client(options.connection), options.connection, resolved,
                             editor.description()["tool"], on_wait=announce)  # fmt: skip
            loop = AgentLoop(model, editor, resolved, connection=options.connection, settings=options.settings,
                             transcript=record, progress=progress, after_tools=hook)  # fmt: skip
            yield cls(editor, loop, record, resolved)
