"""The two stable entry points, `tools resolve` and `exec`, run as a program would: through `main`, and once
as a real process for the exit codes and a clean stdout."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest

from ..conftest import RunCli, real_cli


def test_tools_resolve_prints_definition(run_cli: RunCli):
    done = run_cli("tools", "resolve", "claude-3.5-sonnet")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "type": "text_editor_20241022",
        "name": "str_replace_editor",
        "commands": ["view", "create", "str_replace", "insert", "undo_edit"],
        "betas": ["computer-use-2024-10-22"],
    }


def test_tools_resolve_max_characters(run_cli: RunCli):
    done = run_cli("tools", "resolve", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "--max-characters", "9000")
    assert json.loads(done.stdout) == {
        "type": "text_editor_20250728",
        "name": "str_replace_based_edit_tool",
        "max_characters": 9000,
        "commands": ["view", "create", "str_replace", "insert"],
        "betas": [],
    }


def test_tools_resolve_model_without_tool(run_cli: RunCli):
    done = run_cli("tools", "resolve", "claude-3-haiku-20240307")
    assert done.returncode == 1
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert "no text editor tool" in done.stderr and "Traceback" not in done.stderr


def test_tools_resolve_unknown_claude_warns(run_cli: RunCli):
    done = run_cli("tools", "resolve", "claude-sonnet-9")
    assert done.returncode == 0
    assert json.loads(done.stdout)["type"] == "text_editor_20250728"
    assert "warning: claude-sonnet-9: no rule" in done.stderr


def test_exec_runs_inputs_in_one_session(tmp_path: Path, run_cli: RunCli):
    (tmp_path / "a.txt").write_text("hello\n")
    lines = [
        {"command": "str_replace", "path": "/repo/a.txt", "old_str": "hello", "new_str": "bye"},
        {"command": "undo_edit", "path": "/repo/a.txt"},
        {"command": "view", "path": "/nope"},
    ]
    stdin = "\n".join(json.dumps(line) for line in lines) + "\nnot json\n\n"
    done = run_cli("exec", "--workspace", str(tmp_path), "--model", "claude-3-7-sonnet-20250219", stdin=stdin)
    assert done.returncode == 0, done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["is_error"] for r in results] == [False, False, True, True]
    assert results[1]["content"].startswith("Last edit to /repo/a.txt undone successfully")
    assert results[3]["content"].startswith("Input line 4 is not valid JSON")
    assert (tmp_path / "a.txt").read_text() == "hello\n"


def test_exec_mount_and_tool_flags(tmp_path: Path, run_cli: RunCli):
    (tmp_path / "x.py").write_text("é = 1\n")
    stdin = json.dumps({"command": "view", "path": "/testbed/x.py"}) + "\n"
    done = run_cli(
        "exec", "--workspace", str(tmp_path), "--mount", "/testbed", "--tool", "text_editor_20250429", stdin=stdin
    )
    assert json.loads(done.stdout) == {
        "content": "Here's the result of running `cat -n` on /testbed/x.py:\n     1\té = 1\n",
        "is_error": False,
    }


def test_exec_max_characters(tmp_path: Path, run_cli: RunCli):
    (tmp_path / "x.txt").write_text("".join(f"line {i}\n" for i in range(100)))
    stdin = json.dumps({"command": "view", "path": "x.txt"}) + "\n"
    done = run_cli(
        "exec", "--workspace", str(tmp_path), "--model", "claude-opus-4-5", "--max-characters", "50", stdin=stdin
    )
    content = json.loads(done.stdout)["content"]
    assert "lines 1-7 of 100" in content


def test_exec_bad_flags_exit_2(tmp_path: Path, run_cli: RunCli):
    assert run_cli("exec", "--workspace", str(tmp_path)).returncode == 2  # neither --model nor --tool
    assert run_cli("exec", "--workspace", str(tmp_path), "--model", "m", "--tool", "t").returncode == 2
    done = run_cli("exec", "--workspace", str(tmp_path / "missing"), "--model", "claude-sonnet-4-5")
    assert done.returncode == 2 and "not a directory" in done.stderr
    done = run_cli("exec", "--workspace", str(tmp_path), "--tool", "text_editor_19990101")
    assert done.returncode == 2 and "unknown tool type" in done.stderr
    done = run_cli("exec", "--workspace", str(tmp_path), "--model", "claude-3-haiku-20240307")
    assert done.returncode == 2 and "no text editor tool" in done.stderr


def test_bad_tools_file_is_one_line(tmp_path: Path, run_cli: RunCli):
    bad = tmp_path / "tools.yaml"
    bad.write_text("versions: {}\nnewest: x\nmodels: []\n")
    done = run_cli("tools", "resolve", "claude-sonnet-4-5", "--tools-file", str(bad))
    assert done.returncode == 2
    assert done.stderr.strip() == f"editor-agent: error: {bad}:2: newest: 'x' is not one of the versions"


def test_exec_policy_flags(tmp_path: Path, run_cli: RunCli):
    (tmp_path / "gen").mkdir()
    (tmp_path / "gen" / "out.txt").write_text("x\n")
    (tmp_path / "lock.json").write_text("{}\n")
    stdin = "\n".join(
        json.dumps(line)
        for line in [
            {"command": "view", "path": "gen/out.txt"},
            {"command": "str_replace", "path": "lock.json", "old_str": "{}", "new_str": "[]"},
        ]
    )
    done = run_cli(
        "exec",
        "--workspace",
        str(tmp_path),
        "--model",
        "claude-sonnet-4-5",
        "--hide",
        "gen",
        "--protect",
        "*.json",
        stdin=stdin,
    )
    first, second = (json.loads(line) for line in done.stdout.splitlines())
    assert first["is_error"] and "hidden by the workspace policy (pattern `gen`)" in first["content"]
    assert second["is_error"] and "protected by the workspace policy (pattern `*.json`)" in second["content"]


def test_a_git_refusal_is_one_line_and_exit_1_not_an_internal_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    from editor_agent.cli.main import main

    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "a.py").write_text("x = 1\n")
    for command in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "a"]):
        subprocess.run(["git", *command], cwd=repo, check=True, capture_output=True)
    (repo / ".git" / "refs" / "editor-agent").write_text("not a directory\n")  # no checkpoint can be made
    monkeypatch.setenv("ANTHROPIC_API_KEY", "k")
    code = main(["run", "look", "--workspace", str(repo), "--model", "claude-opus-4-5", "--base-url",
                 "http://127.0.0.1:9"], stdout=io.StringIO())  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1 and len(err.strip().splitlines()) == 1, err
    assert err.startswith("editor-agent: error: ") and "internal error" not in err


def test_one_table_maps_every_error_to_an_exit_code():
    from editor_agent import errors
    from editor_agent.api.connection import ConnectionError_
    from editor_agent.batch.taskfile import BatchInputError
    from editor_agent.cli.main import UsageError, exit_code
    from editor_agent.safety.git import GitSafetyError
    from editor_agent.safety.journal import UndoError
    from editor_agent.safety.statedir import StateError
    from editor_agent.tool.versions import ModelResolutionError, ToolsFileError

    for error in (UsageError("x"), errors.JobError("x"), BatchInputError(["x"]), ConnectionError_("x"),
                  ToolsFileError("x"), ModelResolutionError("x")):  # fmt: skip
        assert exit_code(error) == 2, error
    for error in (GitSafetyError("x"), UndoError("x"), StateError("x"), OSError("x"), ValueError("x")):
        assert exit_code(error) == 1, error
    assert exit_code(KeyboardInterrupt()) == 130
    assert exit_code(RuntimeError("a bug")) is None  # not in the table: an internal error
    for cls in (UsageError, errors.JobError, BatchInputError, ConnectionError_, GitSafetyError, UndoError, StateError):
        assert issubclass(cls, errors.EditorAgentError) and cls.__name__ in (errors.__doc__ or ""), cls


def test_defaults_live_in_one_place(tmp_path: Path):
    """Flags and task-file fields left unset are None; RunSettings and JobSpec give the defaults."""
    from editor_agent.agent.settings import DEFAULT_CHECK_TIMEOUT, DEFAULT_ROUNDS, RunSettings
    from editor_agent.batch.plan import Shared, plan_tasks
    from editor_agent.batch.taskfile import parse_task_file
    from editor_agent.cli.flags import job_flags, settings_from_flags
    from editor_agent.cli.main import _parser
    from editor_agent.jobs.session import JobSpec

    for command in (["fix", "a.py", "bug"], ["run", "x"], ["test", "m.py"], ["batch", "tasks.yaml"]):
        args = _parser().parse_args(command)
        assert (args.max_turns, args.max_failed_turns, args.max_repeats) == (None, None, None), command
        assert settings_from_flags(args) == RunSettings(), command
        if command[0] != "batch":
            assert (args.rounds, args.check_timeout) == (None, None) and "rounds" not in job_flags(args)
    for kind, rounds in DEFAULT_ROUNDS.items():
        spec = JobSpec(kind=kind, task="t")  # type: ignore[arg-type]
        assert (spec.rounds, spec.check_timeout) == (rounds, DEFAULT_CHECK_TIMEOUT)
    (tmp_path / "a.py").write_text("x = 1\n")
    file = parse_task_file("model: claude-opus-4-5\ntasks:\n  - {name: a, job: fix, path: a.py, problem: p}\n")
    (task,) = plan_tasks(file, tmp_path, Shared())
    assert task.options.settings == RunSettings() and task.spec is not None
    assert (task.spec.rounds, task.spec.check_timeout) == (DEFAULT_ROUNDS["fix"], DEFAULT_CHECK_TIMEOUT)


@pytest.mark.slow
def test_real_process_exit_codes_and_clean_stdout(tmp_path: Path):
    (tmp_path / "a.txt").write_text("hello\n")
    line = json.dumps({"command": "view", "path": "/repo/a.txt"}) + "\n"
    done = real_cli("exec", "--workspace", str(tmp_path), "--model", "claude-sonnet-4-5", stdin=line)
    assert (done.returncode, done.stderr) == (0, "")
    assert [json.loads(row)["is_error"] for row in done.stdout.splitlines()] == [False]
    failed = real_cli("tools", "resolve", "claude-3-haiku-20240307")
    assert (failed.returncode, failed.stdout) == (1, "") and len(failed.stderr.splitlines()) == 1
    usage = real_cli("exec", "--workspace", str(tmp_path))
    assert (usage.returncode, usage.stdout) == (2, "") and "Traceback" not in usage.stderr


def test_main_reconfigures_only_the_console_scripts_own_streams(monkeypatch: pytest.MonkeyPatch):
    """A caller that passes its own streams keeps its `sys` streams as it set them; the console script
    (no streams passed) still writes UTF-8 whatever the locale."""
    import sys

    from editor_agent.cli.main import main

    def latin() -> io.TextIOWrapper:
        return io.TextIOWrapper(io.BytesIO(), encoding="latin-1")

    for name in ("stdin", "stdout", "stderr"):
        monkeypatch.setattr(sys, name, latin())
    out = io.StringIO()
    assert main(["tools", "resolve", "claude-sonnet-4-5"], stdin=io.StringIO(), stdout=out) == 0
    assert json.loads(out.getvalue())["type"] == "text_editor_20250728"
    assert [sys.stdin.encoding, sys.stdout.encoding, sys.stderr.encoding] == ["latin-1"] * 3
    assert main(["tools", "resolve", "claude-sonnet-4-5"]) == 0
    assert [sys.stdin.encoding, sys.stdout.encoding, sys.stderr.encoding] == ["utf-8"] * 3


def test_in_process_runs_leave_no_environment_directory_or_credential_behind(tmp_path: Path, run_cli: RunCli):
    import os

    from editor_agent.safety import redact

    before = (dict(os.environ), Path.cwd(), redact.secrets(), redact.variables())
    config = tmp_path / "config.yaml"
    config.write_text("profiles:\n  gw:\n    base_url: http://127.0.0.1:9\n    credential_env: GW_KEY\n")
    flags = ["--config", str(config), "--profile", "gw", "--max-retries", "0"]
    done = run_cli("run", "x", "--workspace", str(tmp_path), "--model", "claude-opus-4-5", *flags,
                   env={"GW_KEY": "gateway-key-123456"}, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 1 and "gateway-key-123456" not in done.stderr
    assert (dict(os.environ), Path.cwd(), redact.secrets(), redact.variables()) == before


def test_lone_surrogate_is_an_error_result_and_exec_goes_on(tmp_path: Path, run_cli: RunCli):
    lines = [
        json.dumps({"command": "create", "path": "a.txt", "file_text": "smile \ud83d"}),
        json.dumps({"command": "create", "path": "b.txt", "file_text": "fine\n"}),
    ]
    done = run_cli("exec", "--workspace", str(tmp_path), "--model", "claude-opus-4-5", stdin="\n".join(lines) + "\n")
    assert done.returncode == 0, done.stderr
    first, second = (json.loads(line) for line in done.stdout.splitlines())
    assert first["is_error"] and "cannot hold the character" in first["content"]
    assert not second["is_error"] and (tmp_path / "b.txt").read_text() == "fine\n"
    assert not (tmp_path / "a.txt").exists()


def test_bad_numbers_and_missing_files_exit_2(tmp_path: Path, run_cli: RunCli):
    (tmp_path / "a.py").write_text("x\n")
    env = {"ANTHROPIC_API_KEY": "k"}
    for args in (
        ["fix", "a.py", "bug", "--rounds", "0"],
        ["run", "x", "--max-retries", "-1"],
        ["run", "x", "--max-turns", "0"],
        ["run", "--resume", str(tmp_path / "nope.jsonl")],
        ["doc", "nothere.py"],
        ["run", "x", "--isolate", "--commit"],
    ):
        done = run_cli(*args, "--workspace", str(tmp_path), "--model", "claude-opus-4-5", env=env)
        assert done.returncode == 2, (args, done.stderr)
        assert "Traceback" not in done.stderr and "validation error" not in done.stderr
    assert run_cli("replay", str(tmp_path / "none.jsonl"), "--workspace", str(tmp_path)).returncode == 2
    assert run_cli("exec", "--workspace", str(tmp_path), "--tool", "text_editor_20250728",
                "--max-characters", "-1").returncode == 2  # fmt: skip


NUMBERS = [["--max-cost", "nan"], ["--timeout", "nan"], ["--timeout", "inf"], ["--check-timeout", "inf"],
           ["--check-timeout", "1e300"], ["--max-cost", "-1"]]  # fmt: skip


@pytest.mark.parametrize("flags", NUMBERS)
def test_numbers_that_would_switch_a_limit_off_exit_2(tmp_path: Path, run_cli: RunCli, flags: list[str]):
    done = run_cli("run", "x", "--workspace", str(tmp_path), "--model", "claude-opus-4-5", *flags)
    assert done.returncode == 2 and done.stdout == "", done.stderr
    assert flags[1] in done.stderr


def test_flags_are_never_abbreviated(run_cli: RunCli):
    done = run_cli("tools", "resolve", "claude-sonnet-4-5", "--tool", "x")  # was read as --tools-file x
    assert done.returncode == 2 and "unrecognized arguments: --tool" in done.stderr
    batch = run_cli("batch", "tasks.yaml", "--job", "4")  # was read as --jobs 4
    assert batch.returncode == 2 and "--job" in batch.stderr


def test_a_task_that_is_not_utf8_exits_2_before_any_request(tmp_path: Path, run_cli: RunCli):
    task = b"fix the caf\xe9 bug".decode("utf-8", "surrogateescape")  # what Python makes of such argv bytes
    done = run_cli("run", task, "--workspace", str(tmp_path), "--model", "claude-opus-4-5", "--base-url",
                   "http://127.0.0.1:9")  # fmt: skip
    assert done.returncode == 2 and "not valid UTF-8" in done.stderr and len(done.stderr.splitlines()) == 1
    assert not (tmp_path / ".editor-agent").exists()  # nothing was started
