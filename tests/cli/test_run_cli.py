"""`editor-agent run` as a person or CI runs it: the command's `main`, the real SDK, the local server over HTTP.

One run goes through a real process too (marked slow), for the exit code and a clean stdout."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from editor_agent.testing import MessagesServer, Script

from ..conftest import FIX, KEY, RunCli, real_cli, text, use


def test_run_json(repo: Path, run_cli: RunCli):
    with MessagesServer(Script.model_validate({"turns": FIX}), api_key=KEY) as server:
        env = {"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": server.url}
        done = run_cli("run", "--workspace", str(repo), "--model", "claude-opus-4-5", "--json", "Fix it", env=env)
        assert server.violations == []
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result) >= {"status", "stop_reason", "turns", "usage", "cost_usd", "files_changed", "transcript"}
    assert result["status"] == "completed" and result["turns"] == 3
    assert set(result["usage"]) == {
        "input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"
    }  # fmt: skip
    assert result["files_changed"] == ["/repo/shop.py"]
    assert Path(result["transcript"]).is_file()
    assert done.stderr == ""


def test_run_for_a_person_shows_progress_and_diff(repo: Path, run_cli: RunCli):
    with MessagesServer(Script.model_validate({"turns": FIX}), api_key=KEY) as server:
        env = {"ANTHROPIC_AUTH_TOKEN": KEY, "ANTHROPIC_BASE_URL": server.url}
        done = run_cli("run", "--workspace", str(repo), "--model", "claude-opus-4-5", "Fix it", env=env)
    assert done.returncode == 0, done.stderr
    assert "── turn 1 ──" in done.stderr and "Let me look." in done.stderr
    assert "✓ str_replace /repo/shop.py" in done.stderr
    assert done.stdout.startswith("status: completed (end_turn) · 3 turns")
    assert "+    return total - total * percent / 100" in done.stdout


def test_run_refused_exits_1(repo: Path, run_cli: RunCli):
    turns = [{"content": [text("No.")], "stop_reason": "refusal"}]
    with MessagesServer(Script.model_validate({"turns": turns}), api_key=KEY) as server:
        env = {"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": server.url}
        done = run_cli("run", "--workspace", str(repo), "--model", "claude-opus-4-5", "--json", "x", env=env)
    assert done.returncode == 1
    assert json.loads(done.stdout)["status"] == "refused"


def test_run_stuck_exits_1_and_keeps_the_file(repo: Path, run_cli: RunCli):
    before = (repo / "shop.py").read_bytes()
    wrong = {"content": [use("str_replace", path="/repo/shop.py", old_str="absent", new_str="x")]}
    with MessagesServer(Script.model_validate({"turns": [wrong] * 3 + FIX[2:]}), api_key=KEY) as server:
        env = {"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": server.url}
        args = ["--workspace", str(repo), "--model", "claude-opus-4-5", "--max-failed-turns", "2", "--json", "x"]
        done = run_cli("run", *args, env=env)
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "stuck" and result["turns"] == 2 and "failed in the last 2 turns" in result["error"]
    assert (repo / "shop.py").read_bytes() == before


def test_run_unauthorized_one_line_no_secret(repo: Path, run_cli: RunCli):
    turns = [{"content": [text("ok")], "stop_reason": "end_turn"}]
    with MessagesServer(Script.model_validate({"turns": turns}), api_key="another") as server:
        env = {"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": server.url}
        done = run_cli("run", "--workspace", str(repo), "--model", "claude-opus-4-5", "x", env=env)
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("editor-agent: error:")]
    assert len(errors) == 1 and "401" in errors[0] and "ANTHROPIC_API_KEY" in errors[0]
    assert "Traceback" not in done.stderr and KEY not in done.stderr + done.stdout


def test_run_x_api_key_flag(repo: Path, run_cli: RunCli):
    turns = [{"content": [text("ok")], "stop_reason": "end_turn"}]
    with MessagesServer(Script.model_validate({"turns": turns}), api_key=KEY, auth="x-api-key") as server:
        env = {"ANTHROPIC_API_KEY": KEY}
        done = run_cli(
            "run", "--workspace", str(repo), "--model", "claude-3.5-sonnet", "--base-url", server.url,
            "--auth", "x-api-key", "--json", "x", env=env,
        )  # fmt: skip
        request = server.requests[0]
    assert done.returncode == 0, done.stderr
    assert request.headers["x-api-key"] == "<redacted>"
    tool = request.body["tools"][0]
    assert (tool["type"], tool["name"]) == ("text_editor_20241022", "str_replace_editor")
    assert "computer-use-2024-10-22" in request.headers["anthropic-beta"]


def test_run_profile_from_config_file(repo: Path, tmp_path: Path, run_cli: RunCli):
    turns = [{"content": [text("ok")], "stop_reason": "end_turn"}]
    with MessagesServer(
        Script.model_validate({"turns": turns}), api_key=KEY, auth="x-api-key", path="/messages"
    ) as server:
        config = tmp_path / "config.yaml"
        config.write_text(
            "profiles:\n  gw:\n"
            f"    base_url: {server.origin}\n    auth: x-api-key\n    credential_env: GW_KEY\n"
            "    messages_path: /messages\n    anthropic_version: '2023-06-01'\n"
        )
        done = run_cli(
            "run", "--workspace", str(repo), "--model", "claude-3-5-sonnet", "--config", str(config),
            "--profile", "gw", "--json", "x", env={"GW_KEY": KEY},
        )  # fmt: skip
        assert server.violations == []
    assert done.returncode == 0, done.stderr


def test_run_without_credential_is_usage_error(repo: Path, run_cli: RunCli):
    done = run_cli("run", "--workspace", str(repo), "--model", "claude-opus-4-5", "x", env={})
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "editor-agent: error: no credential: set ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN "
        "(or run `editor-agent demo`, which needs none)"
    )


def test_replay_command(repo: Path, tmp_path: Path, run_cli: RunCli):
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "shop.py").write_bytes((repo / "shop.py").read_bytes())
    with MessagesServer(Script.model_validate({"turns": FIX}), api_key=KEY) as server:
        env = {"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": server.url}
        done = run_cli("run", "--workspace", str(repo), "--model", "claude-opus-4-5", "--json", "x", env=env)
    transcript = json.loads(done.stdout)["transcript"]
    replayed = run_cli("replay", transcript, "--workspace", str(fresh), env={})
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert replayed.stdout.strip() == "3 tool calls replayed, 0 differ"


def test_resume_from_the_command_line(repo: Path, tmp_path: Path, run_cli: RunCli):
    turns = [
        {
            "content": [
                {
                    "type": "tool_use",
                    "name": "str_replace_based_edit_tool",
                    "input": {"command": "create", "path": "/repo/new.txt", "file_text": "once\n"},
                }
            ]
        },  # fmt: skip
        {"fault": "server_error"},
        {"content": [text("Created.")], "stop_reason": "end_turn"},
    ]
    transcript = tmp_path / "run.jsonl"
    with MessagesServer(Script.model_validate({"turns": turns}), api_key=KEY) as server:
        env = {"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": server.url}
        common = ["--workspace", str(repo), "--model", "claude-opus-4-5", "--max-retries", "0", "--json"]
        first = run_cli("run", "make a file", *common, "--transcript", str(transcript), env=env)
        assert first.returncode == 1 and json.loads(first.stdout)["status"] == "error"
        second = run_cli("run", *common, "--resume", str(transcript), env=env)
        assert server.violations == []
    assert second.returncode == 0, second.stdout + second.stderr
    assert json.loads(second.stdout)["status"] == "completed"
    assert (repo / "new.txt").read_text() == "once\n"
    calls = [json.loads(line) for line in transcript.read_text().splitlines()]
    assert sum(1 for event in calls if event["event"] == "tool_call") == 1


@pytest.mark.slow
def test_run_in_a_real_process(repo: Path):
    with MessagesServer(Script.model_validate({"turns": FIX}), api_key=KEY) as server:
        env = {"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": server.url}
        done = real_cli("run", "--workspace", str(repo), "--model", "claude-opus-4-5", "--json", "Fix it", env=env)
        assert server.violations == []
    assert (done.returncode, done.stderr) == (0, "")
    assert json.loads(done.stdout)["status"] == "completed"
    assert "/ 100" in (repo / "shop.py").read_text()


def test_unreachable_base_url_is_reported_quickly(tmp_path: Path, run_cli: RunCli):
    started = time.monotonic()
    done = run_cli("run", "x", "--workspace", str(tmp_path), "--model", "claude-opus-4-5", "--base-url",
                "http://127.0.0.1:9", "--max-retries", "0", env={"ANTHROPIC_API_KEY": "k"})  # fmt: skip
    assert done.returncode == 1 and "could not reach http://127.0.0.1:9" in done.stderr
    assert time.monotonic() - started < 30
