"""Paths and globs given to jobs stay inside the workspace: anything else exits 2 before a request is sent.

The command's `main`, against the local server, which records every request it gets.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from editor_agent.jobs.fix import fix_spec
from editor_agent.testing import MessagesServer, Script

from ..conftest import GIT_ALONE, Ran, RunCli

KEY = "sk-job-paths-test"
MODEL = "claude-opus-4-5"
DONE = {"content": [{"type": "text", "text": "Done."}], "stop_reason": "end_turn"}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A workspace with a module, and next to it files and a directory the jobs must not reach."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "mod.py").write_text("def f():\n    return 1\n")
    (root / "sub").mkdir()
    (root / "sub" / "inner.py").write_text("x = 1\n")
    (tmp_path / "x.py").write_text("secret = 1\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "far.py").write_text("far = 1\n")
    (root / "ext").symlink_to(outside)
    (root / "link.py").symlink_to(tmp_path / "x.py")
    (root / ".git").mkdir()
    (root / ".git" / "hook.py").write_text("hook = 1\n")
    return root


Job = Callable[..., tuple[Ran, list[Any]]]


@pytest.fixture
def job(run_cli: RunCli) -> Job:
    """Run `editor-agent ARGS --workspace REPO` against a local server; the result and the requests it got."""

    def run(repo: Path, *args: str, turns: list[dict[str, Any]] | None = None) -> tuple[Ran, list[Any]]:
        with MessagesServer(Script.model_validate({"turns": turns or [DONE]}), api_key=KEY) as server:
            env = {"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": server.url, **GIT_ALONE}
            done = run_cli(*args, "--workspace", str(repo), "--model", MODEL, "--json", env=env, cwd=repo)
            return done, list(server.requests)

    return run


def refused(done: Ran, requests: list[Any], *words: str) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    assert requests == []
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("editor-agent: error: "), done.stderr
    for word in words:
        assert word in lines[0]


def first_prompt(requests: list[Any]) -> str:
    content = requests[0].body["messages"][0]["content"]
    return content if isinstance(content, str) else content[0]["text"]


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("/etc/passwd", "outside the workspace"),
        ("../x.py", "outside the workspace"),
        ("sub/../../x.py", "outside the workspace"),
        ("link.py", "symbolic link"),
        ("ext/far.py", "symbolic link"),
        (".git/hook.py", "hidden"),
    ],
)
def test_fix_of_a_path_outside_the_workspace_exits_2_before_any_request(repo: Path, path: str, why: str, job: Job):
    refused(*job(repo, "fix", path, "make it better"), path, why)


def test_fix_takes_a_path_under_the_mount_or_the_workspace(repo: Path, job: Job):
    for path in ("/repo/mod.py", str(repo / "mod.py"), "./sub/../mod.py"):
        done, requests = job(repo, "fix", path, "f is wrong")
        assert done.returncode == 0, done.stderr
        prompt = first_prompt(requests)
        assert "Fix a problem in /repo/mod.py." in prompt, prompt


@pytest.mark.parametrize(
    "flags",
    [
        ["mod.py", "--out", "../../evil.py"],
        ["mod.py", "--out", "/tmp/evil_test.py"],
        ["mod.py", "--out", "ext/evil_test.py"],
        ["mod.py", "--out", ".git/test_hook.py"],
        ["../x.py"],
        ["/etc/passwd"],
    ],
)
def test_test_job_paths_outside_the_workspace_exit_2_before_any_request(repo: Path, flags: list[str], job: Job):
    refused(*job(repo, "test", *flags))
    assert not (repo.parent.parent / "evil.py").exists()


def test_test_job_out_under_the_mount_is_written_in_the_workspace(repo: Path, job: Job):
    done, requests = job(repo, "test", "/repo/mod.py", "--out", "/repo/tests/test_mod.py", "--rounds", "1")
    prompt = first_prompt(requests)
    assert "the module /repo/mod.py in the new file /repo/tests/test_mod.py." in prompt, prompt
    assert json.loads(done.stdout)["details"]["tests_file"] == "/repo/tests/test_mod.py"


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("../*.py", "outside the workspace"),
        ("sub/../../*.py", "outside the workspace"),
        ("/etc/*", "outside the workspace"),
        ("ext/*.py", "symbolic link"),
        ("ext/far.py", "symbolic link"),
        (".git/*.py", "hidden"),
        ("link.py", "symbolic link"),
    ],
)
def test_doc_globs_outside_the_workspace_exit_2_before_any_request(repo: Path, pattern: str, why: str, job: Job):
    refused(*job(repo, "doc", pattern), why)


def test_doc_globs_are_expanded_inside_the_workspace_only(repo: Path, job: Job):
    (repo / "hidden_by_flag").mkdir()
    (repo / "hidden_by_flag" / "h.py").write_text("h = 1\n")
    done, requests = job(repo, "doc", "**/*.py", "/repo/sub/*.py", "--hide", "hidden_by_flag")
    assert done.returncode == 0, done.stderr
    listed = [line for line in first_prompt(requests).splitlines() if line.startswith("- ")]
    assert listed == ["- /repo/mod.py", "- /repo/sub/inner.py"]


def test_a_batch_task_with_a_path_outside_the_workspace_exits_2_before_any_request(repo: Path, run_cli: RunCli):
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    tasks = repo.parent / "tasks.yaml"
    tasks.write_text(
        f"model: {MODEL}\n"
        "tasks:\n"
        "  - {name: a, job: fix, path: ../x.py, problem: p}\n"
        "  - {name: b, job: doc, paths: ['/etc/*']}\n"
        "  - {name: c, job: test, module: mod.py, out: ../../evil.py}\n"
        "  - {name: d, job: doc, paths: ['ext/*.py']}\n"
    )
    with MessagesServer(Script.model_validate({"turns": [DONE]}), api_key=KEY) as server:
        env = {"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": server.url, **GIT_ALONE}
        done = run_cli("batch", str(tasks), "--workspace", str(repo), env=env)
        assert server.requests == []
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert [line.split(":")[2].strip() for line in lines] == ["tasks[0] (a)", "tasks[1] (b)", "tasks[2] (c)",
                                                              "tasks[3] (d)"], lines  # fmt: skip
    assert "outside the workspace" in lines[0] and "outside the workspace" in lines[1]
    assert "outside the workspace" in lines[2] and "symbolic link" in lines[3]


def test_fix_keeps_a_leading_dot_in_the_path(tmp_path: Path):
    (tmp_path / ".config").mkdir()
    (tmp_path / ".config" / "settings.py").write_text("x = 1\n")
    spec = fix_spec(tmp_path, "/repo", ".config/settings.py", "x is wrong", None, 1)
    assert "/repo/.config/settings.py" in spec.task
    assert fix_spec(tmp_path, "/repo", "./.config/settings.py", "x", None, 1).task == spec.task.replace(
        "x is wrong", "x"
    )
