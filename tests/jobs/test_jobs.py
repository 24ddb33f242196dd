"""The jobs end to end: the command on real temporary git repositories, against the local server.

The command runs in this process (`run_cli`); the runs that must die by a signal or race a person's edit are
real processes, marked slow."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from editor_agent.jobs.doc import same_code
from editor_agent.testing import MessagesServer, Script

from ..conftest import GIT_ALONE, ROOT, Ran, RunCli, done, git, use

KEY = "sk-jobs-test"
SHOP = "def apply_discount(total, percent):\n    return total - total * percent\n"
CHECK = "def test_discount():\n    from shop import apply_discount\n    assert apply_discount(25.0, 20) == 20.0\n"

Cli = Callable[..., Ran]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "shop.py").write_text(SHOP)
    (root / "check_shop.py").write_text(CHECK)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "start")
    return root


@pytest.fixture
def cli(run_cli: RunCli) -> Cli:
    """`editor-agent ARGS` in this process, with the test key, git without the user's configuration, and `server`."""

    def call(*args: str, server: MessagesServer | None = None) -> Ran:
        env = {"ANTHROPIC_API_KEY": KEY, **GIT_ALONE}
        if server is not None:
            env["ANTHROPIC_BASE_URL"] = server.url
        return run_cli(*args, env=env)

    return call


def serve(turns: list[dict[str, Any]]) -> MessagesServer:
    return MessagesServer(Script.model_validate({"turns": turns}), api_key=KEY)


PYTEST = f"{sys.executable} -m pytest -q -p no:cacheprovider check_shop.py"


def start_run(server: MessagesServer, repo: Path, *flags: str) -> subprocess.Popen[str]:
    """`editor-agent run` as a real process in the background, so a test can act (or kill it) mid-run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    env.update(ANTHROPIC_API_KEY=KEY, ANTHROPIC_BASE_URL=server.url)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "editor_agent", "run", "fix it", "--workspace", str(repo),
               "--model", "claude-opus-4-5", *flags]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def wait_for_requests(server: MessagesServer, count: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while len(server.requests) < count and time.monotonic() < deadline:
        time.sleep(0.05)


def test_fix_feeds_a_failing_check_back(repo: Path, cli: Cli):
    turns = [
        {"content": [use("str_replace", path="/repo/shop.py", old_str="* percent\n", new_str="* percent / 10\n")]},
        done("Fixed, I think."),
        {"content": [use("str_replace", path="/repo/shop.py", old_str="/ 10\n", new_str="/ 100\n")]},
        done("Now really fixed."),
    ]
    with serve(turns) as server:
        result = cli("fix", "shop.py", "the discount is wrong", "--workspace", str(repo), "--model",
                     "claude-opus-4-5", "--check", PYTEST, "--rounds", "3", "--json", server=server)  # fmt: skip
        follow_up = server.requests[2].body["messages"][-1]["content"]
        assert server.violations == []
    assert result.returncode == 0, result.stdout + result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["rounds"] == 2 and outcome["check_passed"] is True and outcome["job"] == "fix"
    text = follow_up if isinstance(follow_up, str) else follow_up[-1]["text"]
    assert "failed" in text and "assert -25.0 == 20.0" in text
    assert (repo / "shop.py").read_text().endswith("* percent / 100\n")


def test_fix_check_still_failing_after_rounds_exits_1(repo: Path, cli: Cli):
    turns = [
        {"content": [use("str_replace", path="/repo/shop.py", old_str="* percent\n", new_str="* percent / 10\n")]},
        done(),
        done("I give up."),
    ]
    with serve(turns) as server:
        result = cli("fix", "shop.py", "wrong", "--workspace", str(repo), "--model", "claude-opus-4-5",
                     "--check", PYTEST, "--rounds", "2", "--json", server=server)  # fmt: skip
    assert result.returncode == 1
    assert json.loads(result.stdout)["check_passed"] is False


def test_doc_rejects_and_reverts_code_changes(repo: Path, cli: Cli):
    (repo / "cart.py").write_text("def total(items):\n    return sum(items)\n")
    turns = [
        {
            "content": [
                use(
                    "str_replace",
                    path="/repo/cart.py",
                    old_str="def total(items):\n",
                    new_str='def total(items):\n    """Sum of the item prices."""\n',
                ),  # fmt: skip
                use(
                    "str_replace",
                    path="/repo/shop.py",
                    old_str="def apply_discount(total, percent):\n",
                    new_str='def apply_discount(total, percent):\n    """Apply a discount."""\n',
                ),  # fmt: skip
                use("str_replace", path="/repo/shop.py", old_str="* percent\n", new_str="* percent / 100\n"),
            ]
        },
        done(),
    ]
    with serve(turns) as server:
        result = cli("doc", "*.py", "--workspace", str(repo), "--model", "claude-opus-4-5", "--json", server=server)
    outcome = json.loads(result.stdout)
    assert result.returncode == 1, "a rejected edit is a failure CI should see"
    assert outcome["rejected"] == ["/repo/shop.py"]
    assert (repo / "shop.py").read_text() == SHOP
    assert '"""Sum of the item prices."""' in (repo / "cart.py").read_text()
    assert outcome["files_changed"] == ["/repo/cart.py"]


def test_doc_changed_since(repo: Path, cli: Cli):
    (repo / "cart.py").write_text("def total(items):\n    return sum(items)\n")
    with serve([done()]) as server:
        cli("doc", "*.py", "--changed-since", "HEAD", "--workspace", str(repo), "--model", "claude-opus-4-5",
            "--json", server=server)  # fmt: skip
        task = server.requests[0].body["messages"][0]["content"]
    task = task if isinstance(task, str) else task[0]["text"]
    assert "/repo/cart.py" in task and "/repo/shop.py" not in task
    nothing = cli("doc", "shop.py", "--changed-since", "HEAD", "--workspace", str(repo), "--model", "claude-opus-4-5")
    assert nothing.returncode == 0 and "nothing to document" in nothing.stderr


def test_test_job_reruns_until_tests_pass(repo: Path, cli: Cli):
    wrong = (
        "from shop import apply_discount\n\n\ndef test_a():\n    assert apply_discount(100, 0) == 100\n\n\n"
        "def test_b():\n    assert apply_discount(10, 10) == 1\n"
    )
    turns = [
        {"content": [use("create", path="/repo/tests/test_shop.py", file_text=wrong)]},
        done(),
        {"content": [use("str_replace", path="/repo/tests/test_shop.py", old_str="== 1\n", new_str="== 9.0\n")]},
        done(),
    ]
    (repo / "shop.py").write_text(SHOP.replace("* percent\n", "* percent / 100\n"))
    (repo / "conftest.py").write_text("import sys, os\nsys.path.insert(0, os.path.dirname(__file__))\n")
    with serve(turns) as server:
        result = cli("test", "shop.py", "--workspace", str(repo), "--model", "claude-opus-4-5", "--json", server=server)
    outcome = json.loads(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert outcome["rounds"] == 2
    assert outcome["details"]["tests_written"] == 2 and outcome["details"]["tests_passed"] == 2


def test_undo_restores_the_run_and_keeps_user_changes(repo: Path, cli: Cli):
    (repo / "notes.txt").write_text("the user's uncommitted notes\n")
    turns = [
        {
            "content": [
                use("str_replace", path="/repo/shop.py", old_str="* percent\n", new_str="* percent / 100\n"),
                use("create", path="/repo/pkg/helpers.py", file_text="X = 1\n"),
            ]
        },  # fmt: skip
        done(),
    ]
    with serve(turns) as server:
        assert cli("run", "improve it", "--workspace", str(repo), "--model", "claude-opus-4-5", "--json",
                   server=server).returncode == 0  # fmt: skip
    status_before_undo = git(repo, "status", "--porcelain")
    assert " M shop.py" in status_before_undo
    undone = cli("undo", "--workspace", str(repo))
    assert undone.returncode == 0, undone.stdout + undone.stderr
    assert "restored: shop.py" in undone.stdout and "pkg/helpers.py" in undone.stdout
    assert (repo / "shop.py").read_text() == SHOP
    assert not (repo / "pkg" / "helpers.py").exists()
    assert (repo / "notes.txt").read_text() == "the user's uncommitted notes\n"
    assert git(repo, "status", "--porcelain") == "?? notes.txt\n"
    assert git(repo, "for-each-ref", "refs/editor-agent").count("/start") == 1
    assert git(repo, "branch", "--list") == "* master\n" or git(repo, "branch", "--list") == "* main\n"


def test_isolate_leaves_a_patch_and_the_tree_untouched(repo: Path, tmp_path: Path, cli: Cli):
    fix = [{"content": [use("str_replace", path="/repo/shop.py", old_str="* percent\n", new_str="* percent / 100\n")]},
           done()]  # fmt: skip
    patch = tmp_path / "fix.patch"
    with serve(fix) as server:
        result = cli("fix", "shop.py", "wrong", "--workspace", str(repo), "--model", "claude-opus-4-5", "--isolate",
                     "--patch-out", str(patch), "--json", server=server)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (repo / "shop.py").read_text() == SHOP
    assert git(repo, "status", "--porcelain") == ""
    assert "+    return total - total * percent / 100" in patch.read_text()
    git(repo, "apply", str(patch))
    assert (repo / "shop.py").read_text().endswith("/ 100\n")


def test_isolate_to_a_branch(repo: Path, cli: Cli):
    fix = [{"content": [use("str_replace", path="/repo/shop.py", old_str="* percent\n", new_str="* percent / 100\n")]},
           done()]  # fmt: skip
    head = git(repo, "rev-parse", "HEAD")
    with serve(fix) as server:
        result = cli("fix", "shop.py", "wrong", "--workspace", str(repo), "--model", "claude-opus-4-5", "--isolate",
                     "--branch", "agent/discount", "--json", server=server)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "show", "agent/discount:shop.py").endswith("/ 100\n")
    assert git(repo, "status", "--porcelain") == ""


def test_commit_flag(repo: Path, cli: Cli):
    (repo / "other.py").write_text("staged = True\n")
    git(repo, "add", "other.py")
    fix = [{"content": [use("str_replace", path="/repo/shop.py", old_str="* percent\n", new_str="* percent / 100\n")]},
           done()]  # fmt: skip
    with serve(fix) as server:
        result = cli("fix", "shop.py", "the discount is wrong", "--workspace", str(repo), "--model",
                     "claude-opus-4-5", "--commit", "--json", server=server)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert git(repo, "show", "--stat", "--format=%s", "HEAD").startswith("editor-agent:")
    assert "shop.py" in git(repo, "show", "--name-only", "--format=", "HEAD")
    assert git(repo, "diff", "--cached", "--name-only") == "other.py\n"


@pytest.mark.slow  # a real process: the person edits while it waits on the server
def test_person_editing_during_a_paused_turn_is_not_overwritten(repo: Path):
    turns = [
        {"content": [use("view", path="/repo/shop.py")]},
        {"fault": "slow", "seconds": 2.5},
        {"content": [use("str_replace", path="/repo/shop.py", old_str="* percent\n", new_str="* percent / 100\n")]},
        done(),
    ]
    with serve(turns) as server:
        process = start_run(server, repo, "--json")
        wait_for_requests(server, 2)
        (repo / "shop.py").write_text("# a line the person added\n" + SHOP)
        out, err = process.communicate(timeout=60)
        result_message = server.requests[-1].body["messages"][-1]["content"][0]["content"]
    assert process.returncode == 0, out + err
    assert (repo / "shop.py").read_text() == "# a line the person added\n" + SHOP.replace(
        "percent\n", "percent / 100\n"
    )
    assert "changed by someone else since you last saw it" in result_message
    assert "+# a line the person added" in result_message


# One edit, then a reply that does not come for a minute: a run to stop from outside mid-way.
EDIT_THEN_STALL = [
    {"content": [use("str_replace", path="/repo/shop.py", old_str="* percent\n", new_str="* percent / 100\n")]},
    {"fault": "slow", "seconds": 60},
    done(),
]


@pytest.mark.slow  # a real process, killed by a signal
def test_kill_9_mid_run_leaves_whole_files_and_undo_works(repo: Path, cli: Cli):
    with serve(EDIT_THEN_STALL) as server:
        process = start_run(server, repo)
        wait_for_requests(server, 2)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    assert (repo / "shop.py").read_text() == SHOP.replace("percent\n", "percent / 100\n")
    assert not [p for p in repo.rglob("*") if p.name.endswith(".editor-agent.tmp")]
    undone = cli("undo", "--workspace", str(repo))
    assert undone.returncode == 0, undone.stdout + undone.stderr
    assert (repo / "shop.py").read_text() == SHOP


@pytest.mark.slow
def test_sigterm_ends_the_run_like_ctrl_c_with_its_summary_end_event_and_commands(repo: Path, cli: Cli):
    with serve(EDIT_THEN_STALL) as server:
        process = start_run(server, repo)
        wait_for_requests(server, 2)
        time.sleep(0.3)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert out.startswith("status: stopped") and "files changed: /repo/shop.py" in out
    transcript = next((repo / ".editor-agent" / "runs").iterdir())
    events = [json.loads(line) for line in transcript.read_text().splitlines()]
    ends = [event for event in events if event["event"] == "end"]
    assert len(ends) == 1 and ends[0]["status"] == "stopped"
    assert f"editor-agent run --resume {transcript}" in err and "editor-agent undo --workspace" in err
    undo = err.split("to undo:", 1)[1].split()[1:]  # the command as printed, run as printed
    assert cli(*undo).returncode == 0 and (repo / "shop.py").read_text() == SHOP


def test_outside_git_still_works_and_undoes(tmp_path: Path, cli: Cli):
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "shop.py").write_text(SHOP)
    fix = [{"content": [use("str_replace", path="/repo/shop.py", old_str="* percent\n", new_str="* percent / 100\n")]},
           done()]  # fmt: skip
    with serve(fix) as server:
        assert cli("fix", "shop.py", "wrong", "--workspace", str(plain), "--model", "claude-opus-4-5",
                   server=server).returncode == 0  # fmt: skip
    assert cli("undo", "--workspace", str(plain)).returncode == 0
    assert (plain / "shop.py").read_text() == SHOP
    isolated = cli("fix", "shop.py", "wrong", "--workspace", str(plain), "--model", "claude-opus-4-5", "--isolate")
    assert isolated.returncode == 2 and "--isolate needs a git repository" in isolated.stderr
    with serve(fix) as server:
        committed = cli("fix", "shop.py", "wrong", "--workspace", str(plain), "--model", "claude-opus-4-5", "--commit",
                        server=server)  # fmt: skip
        assert committed.returncode == 2 and "--commit needs a git repository" in committed.stderr
        assert server.requests == []  # refused before anything was asked
    assert (plain / "shop.py").read_text() == SHOP


def test_max_output_tokens_above_the_models_cap_is_refused_up_front(repo: Path, cli: Cli):
    with serve([done()]) as server:
        ran = cli("run", "look", "--workspace", str(repo), "--model", "claude-opus-4-5", "--max-output-tokens",
                  "10000000", server=server)  # fmt: skip
        assert ran.returncode == 2 and "above claude-opus-4-5's cap" in ran.stderr, ran.stderr
        assert server.requests == []


def test_demo_offline(cli: Cli):
    result = cli("demo", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "completed" and outcome["check_passed"] is True
    assert outcome["files_changed"] == ["/repo/shop.py"]


def test_demo_for_a_person_says_it_is_offline(tmp_path: Path, cli: Cli):
    result = cli("demo", "--workspace", str(tmp_path / "demo"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Offline demo" in result.stderr and "no API key and no network" in result.stderr
    assert "+    return total - total * percent / 100" in result.stdout


def test_detached_head_with_untracked_files_and_a_missing_submodule(repo: Path, cli: Cli):
    (repo / ".gitmodules").write_text(
        '[submodule "vendor/lib"]\n\tpath = vendor/lib\n\turl = https://example.invalid/lib\n'
    )
    git(repo, "add", ".gitmodules")
    git(repo, "update-index", "--add", "--cacheinfo", "160000," + "1" * 40 + ",vendor/lib")
    git(repo, "commit", "-qm", "submodule, not checked out")
    git(repo, "checkout", "-q", "--detach", "HEAD")
    (repo / "scratch.txt").write_text("untracked work\n")
    (repo / "check_shop.py").write_text(CHECK + "# edited, not staged\n")
    index_before = git(repo, "ls-files", "-s")
    fix = [{"content": [use("str_replace", path="/repo/shop.py", old_str="* percent\n", new_str="* percent / 100\n")]},
           done()]  # fmt: skip
    with serve(fix) as server:
        result = cli("fix", "shop.py", "wrong", "--workspace", str(repo), "--model", "claude-opus-4-5", "--json",
                     server=server)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert git(repo, "ls-files", "-s") == index_before
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "HEAD\n"
    assert cli("undo", "--workspace", str(repo)).returncode == 0
    assert (repo / "shop.py").read_text() == SHOP
    assert (repo / "scratch.txt").read_text() == "untracked work\n"
    assert (repo / "check_shop.py").read_text() == CHECK + "# edited, not staged\n"


def test_commit_is_skipped_when_the_check_fails(repo: Path, cli: Cli):
    head = git(repo, "rev-parse", "HEAD")
    turns = [
        {"content": [use("str_replace", path="/repo/shop.py", old_str="* percent\n", new_str="* percent / 10\n")]},
        done(),
    ]
    with serve(turns) as server:
        result = cli("fix", "shop.py", "the discount", "--workspace", str(repo), "--model", "claude-opus-4-5",
                     "--check", PYTEST, "--rounds", "1", "--commit", "--json", server=server)  # fmt: skip
    assert result.returncode == 1 and json.loads(result.stdout)["commit"] is None
    assert git(repo, "rev-parse", "HEAD") == head


def test_commit_message_names_repository_paths(repo: Path, cli: Cli):
    fix = [{"content": [use("str_replace", path="/repo/shop.py", old_str="* percent\n", new_str="* percent / 100\n")]},
           done()]  # fmt: skip
    with serve(fix) as server:
        cli("fix", "shop.py", "percent is a fraction", "--workspace", str(repo), "--model", "claude-opus-4-5",
            "--commit", server=server)  # fmt: skip
    message = git(repo, "log", "-1", "--format=%B")
    assert message.startswith("editor-agent: fix shop.py: percent is a fraction")
    assert "- shop.py" in message and "/repo" not in message


def test_an_empty_final_reply_then_another_round(repo: Path, cli: Cli):
    turns = [
        {"content": [use("str_replace", path="/repo/shop.py", old_str="* percent\n", new_str="* percent / 10\n")]},
        {"content": [], "stop_reason": "end_turn"},
        {"content": [use("str_replace", path="/repo/shop.py", old_str="/ 10\n", new_str="/ 100\n")]},
        done(),
    ]
    with serve(turns) as server:
        result = cli("fix", "shop.py", "wrong", "--workspace", str(repo), "--model", "claude-opus-4-5",
                     "--check", PYTEST, "--rounds", "3", "--json", server=server)  # fmt: skip
        assert server.violations == []
    assert result.returncode == 0, result.stdout + result.stderr


def test_doc_readme_given_with_dot_slash(repo: Path, cli: Cli):
    (repo / "README.md").write_text("# Shop\n")
    turns = [
        {"content": [use("str_replace", path="/repo/README.md", old_str="# Shop\n", new_str="# Shop\n\nDocs.\n")]},
        done(),
    ]
    with serve(turns) as server:
        result = cli("doc", "shop.py", "--readme", "./README.md", "--workspace", str(repo), "--model",
                     "claude-opus-4-5", "--json", server=server)  # fmt: skip
    assert json.loads(result.stdout)["rejected"] == []
    assert (repo / "README.md").read_text() == "# Shop\n\nDocs.\n"


def test_resumed_run_keeps_its_journal_and_undo_takes_all_back(repo: Path, tmp_path: Path, cli: Cli):
    turns = [
        {"content": [use("str_replace", path="/repo/shop.py", old_str="* percent\n", new_str="* percent / 100\n")]},
        {"fault": "status", "status": 400, "message": "a passing problem"},
        {"content": [use("create", path="/repo/new.txt", file_text="new\n")]},
        done(),
    ]
    transcript = tmp_path / "run.jsonl"
    with serve(turns) as server:
        first = cli("run", "fix it", "--workspace", str(repo), "--model", "claude-opus-4-5", "--transcript",
                    str(transcript), "--json", server=server)  # fmt: skip
        assert json.loads(first.stdout)["status"] == "error"
        second = cli("run", "--resume", str(transcript), "--workspace", str(repo), "--model", "claude-opus-4-5",
                     "--json", server=server)  # fmt: skip
    assert second.returncode == 0, second.stdout + second.stderr
    assert json.loads(first.stdout)["run_id"] == json.loads(second.stdout)["run_id"]
    undone = cli("undo", "--workspace", str(repo))
    assert undone.returncode == 0, undone.stdout
    assert (repo / "shop.py").read_text() == SHOP and not (repo / "new.txt").exists()


def test_a_refused_commit_exits_1(repo: Path, cli: Cli):
    (repo / "notes.txt").write_text("my own notes\n")  # untracked: its contents are the user's
    head = git(repo, "rev-parse", "HEAD")
    turns = [
        {"content": [use("str_replace", path="/repo/shop.py", old_str="* percent\n", new_str="* percent / 100\n"),
                     use("str_replace", path="/repo/notes.txt", old_str="notes\n", new_str="notes, tidied\n")]},
        done(),
    ]  # fmt: skip
    with serve(turns) as server:
        result = cli("run", "tidy up", "--workspace", str(repo), "--model", "claude-opus-4-5", "--commit", "--json",
                     server=server)  # fmt: skip
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "completed" and outcome["commit"] is None and "not committed" in outcome["error"]
    assert result.returncode == 1, "a commit that was asked for and refused is a failure"
    assert git(repo, "rev-parse", "HEAD") == head


def test_doc_guard_accepts_a_docstring_that_replaces_a_stub_body():
    assert same_code(b"def f():\n    ...\n", b'def f():\n    """Do f."""\n')
    assert same_code(b"class A:\n    pass\n", b'class A:\n    """An A."""\n')
    assert not same_code(b"def f():\n    ...\n", b'def f():\n    """Do f."""\n    return 1\n')


def test_demo_refuses_a_workspace_with_files(tmp_path: Path, run_cli: RunCli):
    (tmp_path / "README.md").write_text("my own readme\n")
    done = run_cli("demo", "--workspace", str(tmp_path))
    assert done.returncode == 2 and "is not empty" in done.stderr
    assert (tmp_path / "README.md").read_text() == "my own readme\n"


def test_demo_honours_limits(tmp_path: Path, run_cli: RunCli):
    done = run_cli("demo", "--workspace", str(tmp_path / "d"), "--max-turns", "1", "--json")
    assert done.returncode == 1 and json.loads(done.stdout)["status"] == "max_turns"
