"""What a run hands back through git holds the model's changes and nothing else of the user's.

Real CLI runs against the local Messages API on real repositories that hold everything a person
keeps out of commits: untracked files, a file only staged, unstaged edits in a tracked file.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from editor_agent.testing import MessagesServer, Script

from ..conftest import GIT_ALONE, Ran, RunCli, done, git, use

KEY = "sk-leaks-test"
SHOP = "def apply_discount(total, percent):\n    return total - total * percent\n"
LINES = "".join(f"line {n}\n" for n in range(1, 21))
USER_EDIT = "line 1 UNSTAGED-USER-EDIT-9090\n"
PRIVATE = {
    "notes-private.txt": "PRIVATE-NOTES-7731\n",
    "credentials.local": "SECRET-TOKEN-4242\n",
}
STAGED_ONLY = ("staged-only.txt", "STAGED-ONLY-5150\n")
MARKERS = ("PRIVATE-NOTES-7731", "SECRET-TOKEN-4242", "STAGED-ONLY-5150", "UNSTAGED-USER-EDIT-9090")
USER_FILES = ("notes-private.txt", "credentials.local", "staged-only.txt")
DAY_NS = 86_400 * 1_000_000_000


FIX_SHOP = use("str_replace", path="/repo/shop.py", old_str="* percent\n", new_str="* percent / 100\n")
FIX_LINE_20 = use("str_replace", path="/repo/tracked.txt", old_str="line 20\n", new_str="line 20 MODEL\n")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with a commit, and the user's private, staged-only and unstaged work on top."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "shop.py").write_text(SHOP)
    (root / "tracked.txt").write_text(LINES)
    git(root, "init", "-q")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    for name, text in PRIVATE.items():
        (root / name).write_text(text)
    (root / STAGED_ONLY[0]).write_text(STAGED_ONLY[1])
    git(root, "add", STAGED_ONLY[0])
    (root / "tracked.txt").write_text(USER_EDIT + LINES.split("\n", 1)[1])
    return root


Run = Callable[..., Ran]


@pytest.fixture
def cli(run_cli: RunCli) -> Run:
    """The command with the key in its environment, git without the user's configuration."""

    def run(*args: str, server: MessagesServer | None = None) -> Ran:
        return run_cli(
            *args, env={"ANTHROPIC_API_KEY": KEY, **GIT_ALONE, **({"ANTHROPIC_BASE_URL": server.url} if server else {})}
        )

    return run


@pytest.fixture
def run(cli: Run) -> Callable[..., Ran]:
    """A `run --json` whose model makes these tool calls, then says it is done."""

    def go(repo: Path, calls: list[dict[str, Any]], *flags: str) -> Ran:
        turns = [{"content": calls}, done()]
        with MessagesServer(Script.model_validate({"turns": turns}), api_key=KEY) as server:
            return cli("run", "fix the discount", "--workspace", str(repo), "--model", "claude-opus-4-5", "--json",
                       *flags, server=server)  # fmt: skip

    return go


def every_blob_text(repo: Path, rev: str) -> tuple[set[str], str]:
    """All paths and all file contents in every commit reachable from `rev`."""
    paths: set[str] = set()
    texts = []
    for commit in git(repo, "rev-list", rev).split():
        texts.append(git(repo, "cat-file", "commit", commit))
        for line in git(repo, "ls-tree", "-r", "-z", commit).split("\0"):
            if line:
                meta, path = line.split("\t", 1)
                paths.add(path)
                texts.append(git(repo, "cat-file", "blob", meta.split()[2]))
    return paths, "".join(texts)


def assert_private_kept(repo: Path, staged_before: str) -> None:
    """The user's files, staging and unstaged edit are all still where the user left them."""
    for name, text in PRIVATE.items():
        assert (repo / name).read_text() == text
    assert (repo / "tracked.txt").read_text().startswith(USER_EDIT)
    assert git(repo, "diff", "--cached", "--name-only") == staged_before


def test_branch_is_head_plus_one_commit_of_the_models_change(repo: Path, run: Run) -> None:
    head = git(repo, "rev-parse", "HEAD").strip()
    result = run(repo, [FIX_SHOP], "--isolate", "--branch", "agent/fix")
    assert result.returncode == 0, result.stdout + result.stderr
    assert git(repo, "rev-list", f"{head}..agent/fix").split() == [git(repo, "rev-parse", "agent/fix").strip()]
    assert git(repo, "rev-parse", "agent/fix^").strip() == head
    assert git(repo, "diff-tree", "-r", "--name-only", head, "agent/fix").split() == ["shop.py"]
    paths, text = every_blob_text(repo, "agent/fix")
    assert not set(USER_FILES) & paths
    assert not [marker for marker in MARKERS if marker in text]
    assert git(repo, "show", "agent/fix:shop.py").endswith("* percent / 100\n")
    assert_private_kept(repo, "staged-only.txt\n")


def test_branch_carries_the_models_edit_of_a_file_without_the_users_unstaged_edit(repo: Path, run: Run) -> None:
    head = git(repo, "rev-parse", "HEAD").strip()
    result = run(repo, [FIX_LINE_20], "--isolate", "--branch", "agent/lines")
    assert result.returncode == 0, result.stdout + result.stderr
    assert git(repo, "rev-parse", "agent/lines^").strip() == head
    assert git(repo, "show", "agent/lines:tracked.txt") == LINES.replace("line 20\n", "line 20 MODEL\n")
    _, text = every_blob_text(repo, "agent/lines")
    assert not [marker for marker in MARKERS if marker in text]
    assert (repo / "tracked.txt").read_text() == USER_EDIT + LINES.split("\n", 1)[1]


def test_branch_refused_when_the_model_edited_a_private_file_and_the_work_kept_as_a_patch(repo: Path, run: Run) -> None:
    edit = use("str_replace", path="/repo/notes-private.txt", old_str="7731\n", new_str="7731 reviewed\n")
    result = run(repo, [FIX_SHOP, edit], "--isolate", "--branch", "agent/notes")
    outcome = json.loads(result.stdout)
    assert git(repo, "branch", "--list", "agent/notes") == ""
    assert outcome["branch"] is None and outcome["commit"] is None
    assert "notes-private.txt" in outcome["error"] and "\n" not in outcome["error"]
    patch = Path(outcome["patch"])
    assert patch.is_file() and patch.parent == repo / ".editor-agent" / "patches"
    git(repo, "apply", "--check", str(patch))
    assert "7731 reviewed" in patch.read_text() and "percent / 100" in patch.read_text()


def test_patch_holds_only_the_models_changes_and_applies_to_the_users_tree(
    repo: Path, tmp_path: Path, run: Run
) -> None:
    out = tmp_path / "out.patch"
    result = run(repo, [FIX_SHOP, FIX_LINE_20], "--isolate", "--patch-out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    patch = out.read_text()
    touched = [line.split(" b/", 1)[1] for line in patch.splitlines() if line.startswith("diff --git ")]
    assert touched == ["shop.py", "tracked.txt"]
    assert not [marker for marker in MARKERS if marker in patch]
    git(repo, "apply", str(out))
    assert (repo / "tracked.txt").read_text() == USER_EDIT + LINES.split("\n", 1)[1].replace(
        "line 20\n", "line 20 MODEL\n"
    )
    assert (repo / "shop.py").read_text().endswith("* percent / 100\n")
    assert_private_kept(repo, "staged-only.txt\n")


def test_default_patch_also_holds_only_the_models_changes(repo: Path, run: Run) -> None:
    result = run(repo, [FIX_SHOP], "--isolate")
    assert result.returncode == 0, result.stdout + result.stderr
    patch = Path(json.loads(result.stdout)["patch"]).read_text()
    assert [line for line in patch.splitlines() if line.startswith("diff --git ")] == ["diff --git a/shop.py b/shop.py"]
    assert not [marker for marker in MARKERS if marker in patch]
    assert git(repo, "status", "--porcelain", "--", ".editor-agent") == ""


def test_commit_leaves_the_users_unstaged_edit_unstaged_and_out_of_the_commit(repo: Path, run: Run) -> None:
    head = git(repo, "rev-parse", "HEAD").strip()
    result = run(repo, [FIX_LINE_20], "--commit")
    assert result.returncode == 0, result.stdout + result.stderr
    assert git(repo, "rev-parse", "HEAD^").strip() == head
    assert git(repo, "diff-tree", "-r", "--name-only", head, "HEAD").split() == ["tracked.txt"]
    assert git(repo, "show", "HEAD:tracked.txt") == LINES.replace("line 20\n", "line 20 MODEL\n")
    expected = USER_EDIT + LINES.split("\n", 1)[1].replace("line 20\n", "line 20 MODEL\n")
    assert (repo / "tracked.txt").read_text() == expected
    assert git(repo, "diff", "--cached", "--name-only") == "staged-only.txt\n"
    unstaged = git(repo, "diff", "--", "tracked.txt")
    assert "+line 1 UNSTAGED-USER-EDIT-9090" in unstaged and "MODEL" not in unstaged
    _, text = every_blob_text(repo, "HEAD")
    assert not [marker for marker in MARKERS if marker in text]


def test_commit_builds_on_the_staged_version_of_the_file(repo: Path, run: Run) -> None:
    staged = LINES.replace("line 10\n", "line 10 STAGED\n")
    (repo / "tracked.txt").write_text(staged)
    git(repo, "add", "tracked.txt")
    (repo / "tracked.txt").write_text(USER_EDIT + staged.split("\n", 1)[1])
    result = run(repo, [FIX_LINE_20], "--commit")
    assert result.returncode == 0, result.stdout + result.stderr
    assert git(repo, "show", "HEAD:tracked.txt") == staged.replace("line 20\n", "line 20 MODEL\n")
    assert git(repo, "diff", "--cached", "--name-only") == "staged-only.txt\n"
    assert git(repo, "diff", "--name-only") == "tracked.txt\n"


def test_commit_refused_when_the_users_unstaged_edit_touches_the_same_lines(repo: Path, run: Run) -> None:
    head = git(repo, "rev-parse", "HEAD").strip()
    index = git(repo, "ls-files", "-s")
    edit = use("str_replace", path="/repo/tracked.txt", old_str="line 2\n", new_str="line 2 MODEL\n")
    result = run(repo, [edit], "--commit")
    outcome = json.loads(result.stdout)
    assert outcome["commit"] is None and "tracked.txt" in outcome["error"] and "\n" not in outcome["error"]
    assert git(repo, "rev-parse", "HEAD").strip() == head and git(repo, "ls-files", "-s") == index
    assert (repo / "tracked.txt").read_text() == USER_EDIT + "line 2 MODEL\n" + LINES.split("\n", 2)[2]


def test_commit_refused_for_an_untracked_file_of_the_users(repo: Path, run: Run) -> None:
    head = git(repo, "rev-parse", "HEAD").strip()
    edit = use("str_replace", path="/repo/credentials.local", old_str="4242\n", new_str="4242 rotated\n")
    outcome = json.loads(run(repo, [FIX_SHOP, edit], "--commit").stdout)
    assert outcome["commit"] is None and "credentials.local" in outcome["error"] and "not committed" in outcome["error"]
    assert git(repo, "rev-parse", "HEAD").strip() == head
    assert (repo / "credentials.local").read_text() == "SECRET-TOKEN-4242 rotated\n"
    assert git(repo, "status", "--porcelain", "--", "credentials.local") == "?? credentials.local\n"


def test_commit_of_a_staged_only_file_builds_on_what_the_user_staged(repo: Path, run: Run) -> None:
    """The staged version is the one the user means to commit; the run's edit goes on top of it."""
    staged = STAGED_ONLY[1] + LINES
    (repo / STAGED_ONLY[0]).write_text(staged)
    git(repo, "add", STAGED_ONLY[0])
    (repo / STAGED_ONLY[0]).write_text(staged + "unstaged tail\n")
    edit = use("str_replace", path="/repo/staged-only.txt", old_str="5150\n", new_str="5150 ok\n")
    result = run(repo, [edit], "--commit")
    assert result.returncode == 0, result.stdout + result.stderr
    assert git(repo, "show", "HEAD:staged-only.txt") == staged.replace("5150\n", "5150 ok\n")
    assert (repo / STAGED_ONLY[0]).read_text() == staged.replace("5150\n", "5150 ok\n") + "unstaged tail\n"
    assert git(repo, "diff", "--cached", "--name-only") == ""
    assert git(repo, "diff", "--name-only") == "staged-only.txt\ntracked.txt\n"
    assert "notes-private.txt" not in git(repo, "ls-tree", "-r", "--name-only", "HEAD")


def old_run(repo: Path, run_id: str, days: float) -> None:
    """A run's checkpoint as a run `days` ago would have left it."""
    created = time.time_ns() - int(days * DAY_NS)
    tree = git(repo, "write-tree").strip()
    message = f"editor-agent checkpoint {run_id}/start\n\nEditor-Agent-Checkpoint: {created}\n"
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}  # fmt: skip
    sha = subprocess.run(["git", "commit-tree", tree, "-p", "HEAD", "-m", message], cwd=repo, env=env,
                         capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    git(repo, "update-ref", f"refs/editor-agent/{run_id}/start", sha)


def run_ids(repo: Path) -> set[str]:
    refs = git(repo, "for-each-ref", "--format=%(refname)", "refs/editor-agent/").split()
    return {ref.split("/")[2] for ref in refs}


def test_prune_command_removes_old_runs_and_keeps_recent_ones(repo: Path, cli: Run) -> None:
    old_run(repo, "run-old", 40)
    old_run(repo, "run-week", 8)
    old_run(repo, "run-new", 1)
    result = cli("prune", "--workspace", str(repo), "--older-than", "7", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert sorted(item["run_id"] for item in report["pruned"]) == ["run-old", "run-week"]
    assert report["kept"] == 1
    assert run_ids(repo) == {"run-new"}
    people = cli("prune", "--workspace", str(repo), "--older-than", "0")
    assert people.returncode == 0 and "run-new" in people.stdout and run_ids(repo) == set()


def test_prune_default_age_and_bad_input(repo: Path, tmp_path: Path, cli: Run) -> None:
    old_run(repo, "run-old", 15)
    old_run(repo, "run-new", 13)
    assert cli("prune", "--workspace", str(repo)).returncode == 0
    assert run_ids(repo) == {"run-new"}
    bad = cli("prune", "--workspace", str(repo), "--older-than", "-1")
    assert bad.returncode == 2 and run_ids(repo) == {"run-new"}
    (tmp_path / "plain").mkdir()
    outside = cli("prune", "--workspace", str(tmp_path / "plain"))
    assert outside.returncode == 2 and "not in a git repository" in outside.stderr
    assert len(outside.stderr.strip().splitlines()) == 1


def test_a_new_run_prunes_old_runs_first(repo: Path, run: Run) -> None:
    old_run(repo, "run-old", 30)
    old_run(repo, "run-new", 2)
    result = run(repo, [FIX_SHOP])
    assert result.returncode == 0, result.stdout + result.stderr
    this_run = json.loads(result.stdout)["run_id"]
    assert run_ids(repo) == {"run-new", this_run}


def test_the_age_for_pruning_on_start_comes_from_pyproject(repo: Path, run: Run) -> None:
    old_run(repo, "run-old", 30)
    old_run(repo, "run-new", 2)
    (repo / "pyproject.toml").write_text("[tool.editor-agent]\nprune-after-days = 1\n")
    this_run = json.loads(run(repo, [FIX_SHOP]).stdout)["run_id"]
    assert run_ids(repo) == {this_run}
    old_run(repo, "run-older", 300)
    (repo / "pyproject.toml").write_text("[tool.editor-agent]\nprune-after-days = 0\n")
    again = json.loads(run(repo, [FIX_SHOP]).stdout)["run_id"]
    assert run_ids(repo) == {this_run, "run-older", again}
    (repo / "pyproject.toml").write_text('[tool.editor-agent]\nprune-after-days = "soon"\n')
    bad = run(repo, [FIX_SHOP])
    assert bad.returncode == 2 and "prune-after-days" in bad.stderr and "run-older" in run_ids(repo)


def test_a_branch_that_cannot_be_made_is_refused_before_the_run(repo: Path, cli: Run) -> None:
    git(repo, "branch", "taken", git(repo, "commit-tree", "HEAD^{tree}", "-m", "elsewhere").strip())
    for name in ("taken", "bad..name"):
        with MessagesServer(Script.model_validate({"turns": [{"content": [FIX_SHOP]}, done()]}), api_key=KEY) as server:
            result = cli("run", "fix", "--workspace", str(repo), "--model", "claude-opus-4-5", "--isolate",
                         "--branch", name, server=server)  # fmt: skip
            assert server.requests == []
        assert result.returncode == 2 and result.stderr.startswith("editor-agent: error: --branch: ")
        assert len(result.stderr.strip().splitlines()) == 1
    assert (repo / "shop.py").read_text() == SHOP
