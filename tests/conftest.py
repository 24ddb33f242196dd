from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from editor_agent import Editor, Workspace, tool_by_type
from editor_agent.agent.loop import RunResult
from editor_agent.agent.progress import Progress
from editor_agent.agent.session import Session
from editor_agent.agent.settings import RunOptions, RunSettings
from editor_agent.agent.transcript import read_events
from editor_agent.api.connection import Connection
from editor_agent.testing import MessagesServer
from editor_agent.tool.editor import ToolResult

# The undo journal's sealing key lives in the user's state home: tests (and the CLI processes they
# start) use one of their own, never the real user's.
os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="editor-agent-test-state-")

VERSIONS = ["text_editor_20241022", "text_editor_20250124", "text_editor_20250429", "text_editor_20250728"]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    path.mkdir()
    return path


@pytest.fixture
def make_editor(root: Path) -> Callable[..., Editor]:
    def make(version: str = "text_editor_20250728", **options: Any) -> Editor:
        policy = options.pop("policy", None)
        return Editor(Workspace(root, policy=policy), tool_by_type(version), **options)

    return make


@pytest.fixture
def editor(make_editor: Callable[..., Editor]) -> Editor:
    return make_editor()


@pytest.fixture
def call(editor: Editor) -> Callable[..., ToolResult]:
    def run(**tool_input: Any) -> ToolResult:
        return editor.run(tool_input)

    return run


# --- data next to the repository ------------------------------------------------------------------

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
REQUIRE_SHARED = "EDITOR_AGENT_REQUIRE_SHARED"


def shared_data(*parts: str) -> Path:
    """A path in `../shared` (recorded real traffic), or skip: a fresh clone has nothing beside it.

    CI sets EDITOR_AGENT_REQUIRE_SHARED=1, which turns the skip into a failure so the data is really used there.
    """
    path = SHARED.joinpath(*parts)
    if not path.exists():
        reason = f"{path} does not exist (recorded data expected next to the repository, in ../shared)"
        if os.environ.get(REQUIRE_SHARED, "").strip() not in ("", "0"):
            pytest.fail(f"{reason}; {REQUIRE_SHARED} is set, so it is required")
        pytest.skip(reason)
    return path


# --- the command, run in this process -------------------------------------------------------------


@dataclass(frozen=True)
class Ran:
    """What one `editor-agent` command did: the same three fields as `subprocess.CompletedProcess`."""

    returncode: int
    stdout: str
    stderr: str


RunCli = Callable[..., Ran]

GIT_ALONE = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}  # git without the user's configuration


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> RunCli:
    """`editor-agent ARGS` through `cli.main.main` in this process: no new interpreter per call.

    Each call sees an environment without ANTHROPIC_*, EDITOR_AGENT_* and GIT_* (plus `env`) and the given working
    directory; both are put back afterwards (and `main` forgets the credentials it registered), so nothing
    leaks into the next call or test. Real processes stay for what needs one (exit by signal,
    a clean stdout byte stream, the wheel): those tests are marked `slow`.
    """
    from editor_agent.cli.main import main

    def run(*args: str, stdin: str = "", env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Ran:
        out = io.StringIO()
        with monkeypatch.context() as patch:
            for name in list(os.environ):
                if name.startswith(("ANTHROPIC_", "EDITOR_AGENT_", "GIT_")):
                    patch.delenv(name)
            for name, value in (env or {}).items():
                patch.setenv(name, value)
            if cwd is not None:
                patch.chdir(cwd)
            patch.setattr(sys, "stdin", io.StringIO(stdin))
            capsys.readouterr()
            try:
                code = main(list(args), stdin=sys.stdin, stdout=out)
            except SystemExit as exc:  # argparse: --help, --version, bad flags
                code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
            captured = capsys.readouterr()
        return Ran(code, out.getvalue() + captured.out, captured.err)

    return run


ROOT = Path(__file__).resolve().parents[1]


def real_cli(
    *args: str, stdin: str = "", env: Mapping[str, str] | None = None, cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`python -m editor_agent ARGS` as a new process, for what only a real process shows (mark the test `slow`).

    The child sees this environment without ANTHROPIC_* (plus `env`) and imports this checkout.
    """
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    clean["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "editor_agent", *args], input=stdin, capture_output=True, text=True,
                          timeout=timeout, env={**clean, **(env or {})}, cwd=cwd)  # fmt: skip


# --- scripted model turns and git, as the job tests use them -----------------------------------------

TOOL = "str_replace_based_edit_tool"


def use(command: str, **fields: Any) -> dict[str, Any]:
    """A `tool_use` block of the current text editor tool."""
    return {"type": "tool_use", "name": TOOL, "input": {"command": command, **fields}}


def done(text: str = "Done.") -> dict[str, Any]:
    """A final turn: the model says it is done."""
    return {"content": [{"type": "text", "text": text}], "stop_reason": "end_turn"}


def git(repo: Path, *args: str, check: bool = True) -> str:
    """`git ARGS` in `repo` with a fixed identity; its stdout."""
    command = ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args]
    return subprocess.run(command, cwd=repo, capture_output=True, text=True, check=check).stdout


# --- the agent loop against the local server, as the loop tests and their neighbours use it -------------

KEY = "sk-test-secret-value"  # long enough to be redacted: a test that finds it printed has found a leak
SHOP = "def apply_discount(total, percent):\n    return total - total * percent\n"


def text(value: str) -> dict[str, Any]:
    """A text block of a scripted model turn."""
    return {"type": "text", "text": value}


FIX = [
    {"content": [text("Let me look."), use("view", path="/repo/shop.py")]},
    {
        "content": [
            use("str_replace", path="/repo/shop.py", old_str="total * percent\n", new_str="total * percent / 100\n"),
            use("view", path="/repo/shop.py", view_range=[2, 2]),
        ]
    },
    {"content": [text("Fixed: the percentage is now divided by 100.")], "stop_reason": "end_turn"},
]  # three turns that fix the discount in `repo`'s shop.py


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A workspace (no git) holding shop.py with its discount bug; files that need git define their own."""
    root = tmp_path / "repo"
    root.mkdir()
    (root / "shop.py").write_text(SHOP)
    return root


def run_session(
    server: MessagesServer,
    repo: Path,
    task: str = "Fix the discount.",
    *,
    model: str = "claude-opus-4-5",
    settings: RunSettings | None = None,
    connection: Connection | None = None,
    progress: Progress | None = None,
    resume_from: Path | None = None,
    transcript: Path | None = None,
) -> RunResult:
    """One run (or the resumption of one) through `Session`, the real SDK and `server`, as the library runs it."""
    connection = (connection or Connection()).model_copy(update={"base_url": server.url, "max_retries": 2})
    options = RunOptions(
        workspace=repo,
        model=model,
        settings=settings or RunSettings(),
        connection=connection,
        transcript=transcript or repo.parent / "run.jsonl",
    )
    with Session.open(options, progress=progress, transcript=resume_from) as session:
        return session.loop.resume(read_events(resume_from)) if resume_from else session.loop.run(task)
