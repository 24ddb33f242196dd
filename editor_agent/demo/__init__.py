"""`editor-agent demo`: the fix job on the bundled sandbox, offline against a scripted local server.

Nothing is faked but the model: the real loop, the real SDK over HTTP, the real editor and git
safety run on a copy of the sandbox. With `--model` and a key, the same job runs live.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from importlib import resources
from pathlib import Path

from pydantic import SecretStr

from ..agent.progress import Progress
from ..agent.settings import RunOptions, RunSettings
from ..api.connection import Connection
from ..jobs.fix import fix_spec
from ..jobs.session import JobResult, run_job

PROBLEM = "apply_discount treats the percentage as a fraction: apply_discount(25.0, 20) should be 20.0."
OFFLINE_MODEL = "claude-sonnet-4-6"


def copy_sandbox(target: Path | None) -> Path:
    """A fresh copy of the bundled sandbox, as a git repository with one commit when git is available."""
    destination = target or Path(tempfile.mkdtemp(prefix="editor-agent-demo-")) / "sandbox"
    source = resources.files("editor_agent") / "demo" / "sandbox"
    destination.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        if item.is_file():
            (destination / item.name).write_bytes(item.read_bytes())
    if shutil.which("git") and not (destination / ".git").exists():
        identity = ["-c", "user.name=editor-agent demo", "-c", "user.email=demo@localhost"]
        for command in (["init", "-q"], ["add", "-A"], [*identity, "commit", "-q", "-m", "the demo sandbox"]):
            subprocess.run(["git", *command], cwd=destination, check=True, capture_output=True)
    return destination


def run_demo(
    workspace: Path | None,
    model: str | None,
    connection: Connection,
    progress: Progress,
    say: Callable[[str], None],
    *,
    settings: RunSettings | None = None,
    tool: str | None = None,
    transcript: Path | None = None,
) -> tuple[JobResult, Path]:
    """Run the fix job on a sandbox copy; offline (scripted) unless a model is given."""
    directory = copy_sandbox(workspace)
    check = f"{sys.executable} check_shop.py"
    spec = fix_spec(directory, "/repo", "shop.py", PROBLEM, check, rounds=2)
    with ExitStack() as stack:
        if model is None:
            from ..testing import MessagesServer, Script

            script = Script.load(str(resources.files("editor_agent") / "demo" / "fix_discount.yaml"))
            server = stack.enter_context(MessagesServer(script, api_key="offline-demo"))
            connection = Connection(base_url=server.url, api_key=SecretStr("offline-demo"))
            say(
                "Offline demo: Claude's replies are a scripted session played by a local Messages API server at "
                f"{server.url}; no API key and no network are used. Add --model MODEL (and ANTHROPIC_API_KEY) "
                "to run the same job live. Token counts and cost below are the local server's estimates; "
                "nothing is billed."
            )
        say(f"Workspace: {directory} (a copy of the bundled sandbox)")
        options = RunOptions(
            workspace=directory,
            model=model or OFFLINE_MODEL,
            tool=tool,
            settings=settings or RunSettings(max_turns=20),
            connection=connection,
            transcript=transcript,
        )
        result = run_job(spec, options, progress=progress)
    return result, directory
