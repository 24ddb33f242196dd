"""Git safety net against real repositories: the user's branch, index, stash and files must never move."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from editor_agent.safety.git import (
    GitSafetyError,
    Worktree,
    apply_patch,
    changed_paths,
    checkpoint,
    checkpoints,
    commit_paths,
    drop_checkpoints,
    open_repo,
    patch_between,
    run_times,
    snapshot,
    summary_message,
)

BINARY = bytes(range(256)) * 4


@pytest.fixture(autouse=True)
def isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No global/system config, no inherited identity or repository variables."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in list(os.environ):
        if name.startswith("GIT_") and name not in ("GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM"):
            monkeypatch.delenv(name)
    monkeypatch.delenv("EMAIL", raising=False)


def g(cwd: Path, *args: str, check: bool = True) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=check, capture_output=True, text=True).stdout


def make_repo(path: Path, files: dict[str, bytes | str], identity: bool = True) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    g(path, "init", "-q", "-b", "main")
    if identity:
        g(path, "config", "user.name", "Test User")
        g(path, "config", "user.email", "test@example.com")
    write(path, files)
    if files:
        g(path, "add", "-A")
        g(path, "-c", "user.name=Setup", "-c", "user.email=setup@example.com", "commit", "-qm", "base")
    return path


def write(root: Path, files: dict[str, bytes | str]) -> None:
    for rel, content in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        data = content.encode() if isinstance(content, str) else content
        (root / rel).write_bytes(data)


def user_state(root: Path) -> dict[str, str]:
    """Everything the user could see move: staging, status, stash, branches, HEAD, config."""
    return {
        "ls-files": g(root, "ls-files", "-s"),
        "cached": g(root, "diff", "--cached", "--binary"),
        "status": g(root, "status", "--porcelain", "--untracked-files=all"),
        "stash": g(root, "stash", "list"),
        "branches": g(root, "branch", "-a", "-v"),
        "head": g(root, "rev-parse", "HEAD", check=False),
        "symbolic": g(root, "symbolic-ref", "-q", "HEAD", check=False),
        "log": g(root, "log", "--oneline", check=False),
        "config": g(root, "config", "--list", "--local"),
    }


def show(root: Path, rev: str, path: str) -> bytes:
    return subprocess.run(["git", "show", f"{rev}:{path}"], cwd=root, check=True, capture_output=True).stdout


def tree_paths(root: Path, rev: str) -> set[str]:
    return set(g(root, "ls-tree", "-r", "--name-only", "-z", rev).split("\0")) - {""}


def test_open_repo_finds_the_enclosing_repository_or_none(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"pkg/mod.py": "x = 1\n"})
    repo = open_repo(root / "pkg" / "mod.py")
    assert repo is not None and Path(repo.working_dir) == root
    assert open_repo(root / "pkg" / "not-yet" / "new.py") is not None
    (tmp_path / "plain").mkdir()
    assert open_repo(tmp_path / "plain") is None
    g(tmp_path, "init", "-q", "--bare", "bare.git")
    assert open_repo(tmp_path / "bare.git") is None


def test_snapshot_records_working_tree_and_leaves_user_state_alone(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {".gitignore": "*.log\n", "a.txt": "a1\n", "b.txt": "b1\n", "gone.txt": "x\n"})
    write(root, {"stashed.txt": "s\n"})
    g(root, "stash", "push", "-u", "-q", "-m", "user stash")
    write(root, {"a.txt": "a2 staged\n"})
    g(root, "add", "a.txt")
    write(root, {"a.txt": "a3 unstaged\n", "b.txt": "b2\n", "new file ü.txt": "new\n", "build.log": "ignored\n"})
    (root / "gone.txt").unlink()
    before, index_bytes = user_state(root), (root / ".git" / "index").read_bytes()
    repo = open_repo(root)
    assert repo is not None

    sha = snapshot(repo, "snap")

    assert user_state(root) == before
    assert (root / ".git" / "index").read_bytes() == index_bytes
    assert show(root, sha, "a.txt") == b"a3 unstaged\n" and show(root, sha, "b.txt") == b"b2\n"
    assert tree_paths(root, sha) == {".gitignore", "a.txt", "b.txt", "new file ü.txt"}
    assert g(root, "rev-parse", f"{sha}^").strip() == before["head"].strip()
    assert "user stash" in g(root, "stash", "list") and (root / "build.log").exists()


def test_snapshot_without_identity_on_detached_head(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"a.txt": "1\n"}, identity=False)
    g(root, "checkout", "-q", "--detach")
    write(root, {"a.txt": "2\n"})
    before = user_state(root)
    repo = open_repo(root)
    assert repo is not None
    sha = snapshot(repo, "snap")
    assert user_state(root) == before and "HEAD detached" in g(root, "status")
    assert g(root, "log", "-1", "--format=%an <%ae>|%cn <%ce>", sha).strip() == (
        "editor-agent <editor-agent@localhost>|editor-agent <editor-agent@localhost>"
    )
    g(root, "config", "user.name", "Configured")
    g(root, "config", "user.email", "me@example.com")
    assert g(root, "log", "-1", "--format=%an <%ae>", snapshot(repo, "again")).strip() == "Configured <me@example.com>"


def test_snapshot_of_empty_repository_has_no_parent_and_creates_no_index(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {}, identity=False)
    repo = open_repo(root)
    assert repo is not None
    empty = snapshot(repo, "empty")
    assert g(root, "rev-list", "--parents", "-n1", empty).split() == [empty]
    assert tree_paths(root, empty) == set()
    write(root, {"first.py": "print(1)\n"})
    sha = snapshot(repo, "first")
    assert tree_paths(root, sha) == {"first.py"}
    assert not (root / ".git" / "index").exists()
    assert subprocess.run(["git", "rev-parse", "-q", "--verify", "HEAD"], cwd=root).returncode != 0


def test_snapshot_in_linked_worktree(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"a.txt": "main\n"})
    g(root, "worktree", "add", "-q", "-b", "feature", str(tmp_path / "wt"))
    write(tmp_path / "wt", {"a.txt": "feature work\n", "extra.txt": "e\n"})
    main_before, wt_before = user_state(root), g(tmp_path / "wt", "status", "--porcelain")
    repo = open_repo(tmp_path / "wt")
    assert repo is not None
    sha = snapshot(repo, "wt snap")
    assert show(root, sha, "a.txt") == b"feature work\n" and "extra.txt" in tree_paths(root, sha)
    assert user_state(root) == main_before and g(tmp_path / "wt", "status", "--porcelain") == wt_before


def test_snapshot_keeps_gitlink_of_submodule_not_checked_out(tmp_path: Path) -> None:
    sub = make_repo(tmp_path / "sub", {"lib.txt": "lib\n"})
    origin = make_repo(tmp_path / "origin", {"a.txt": "a\n"})
    g(origin, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub), "vendor/lib")
    g(origin, "commit", "-qm", "add submodule")
    g(tmp_path, "clone", "-q", str(origin), "clone")
    clone = tmp_path / "clone"
    gitlink = g(clone, "ls-files", "-s", "vendor/lib")
    assert gitlink.startswith("160000") and not any((clone / "vendor" / "lib").iterdir())
    write(clone, {"a.txt": "changed\n"})
    repo = open_repo(clone)
    assert repo is not None
    for step in ("empty submodule directory", "no directory at all"):
        if step == "no directory at all":
            (clone / "vendor" / "lib").rmdir()
        sha = snapshot(repo, "snap")
        assert g(clone, "ls-tree", sha, "vendor/lib").split()[:3] == ["160000", "commit", gitlink.split()[1]], step
        assert show(clone, sha, "a.txt") == b"changed\n"


def test_checkpoints_are_private_ordered_and_droppable(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"a.txt": "0\n"})
    repo = open_repo(root)
    assert repo is not None
    before = user_state(root)
    zeta = checkpoint(repo, "zeta", "start")
    shas = {}
    for label, text in (("start", "1\n"), ("turn-1", "2\n"), ("end", "3\n")):
        write(root, {"a.txt": text})
        shas[label] = checkpoint(repo, "alpha", label, message=f"checkpoint {label}")
    write(root, {"a.txt": "0\n"})
    assert checkpoints(repo, "alpha") == [("start", shas["start"]), ("turn-1", shas["turn-1"]), ("end", shas["end"])]
    assert show(root, shas["turn-1"], "a.txt") == b"2\n"
    assert sorted(run_times(repo)) == ["alpha", "zeta"] and checkpoints(repo, "zeta") == [("start", zeta)]
    assert user_state(root) == before  # not in branches, log, stash, status
    assert g(root, "rev-parse", "refs/editor-agent/alpha/end").strip() == shas["end"]
    drop_checkpoints(repo, "alpha")
    assert list(run_times(repo)) == ["zeta"] and checkpoints(repo, "alpha") == []
    assert g(root, "for-each-ref", "refs/editor-agent/alpha") == ""
    for bad in (("a/b", "x"), ("run", "../x"), ("run", "x.lock"), ("run", "")):
        with pytest.raises(GitSafetyError):
            checkpoint(repo, *bad)


def test_changed_paths_and_binary_patch_round_trip(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"a.txt": "a\n", "b.txt": "b\n", "c.txt": "c" * 200 + "\n", "bin.dat": BINARY})
    g(tmp_path, "clone", "-q", str(root), "copy")
    old = g(root, "rev-parse", "HEAD").strip()
    write(root, {"a.txt": "a2\n", "bin.dat": BINARY[::-1], "new.bin": b"\0\1\2"})
    (root / "b.txt").unlink()
    (root / "c.txt").rename(root / "d.txt")
    repo = open_repo(root)
    assert repo is not None
    new = snapshot(repo, "new")
    assert sorted(changed_paths(repo, old, new)) == ["a.txt", "b.txt", "bin.dat", "c.txt", "d.txt", "new.bin"]
    patch = patch_between(repo, old, new)
    assert "GIT binary patch" in patch
    assert all(len(line.split()[1].split("..")[0]) == 40 for line in patch.splitlines() if line.startswith("index "))
    copy_repo = open_repo(tmp_path / "copy")
    assert copy_repo is not None
    assert apply_patch(copy_repo, patch) == []
    for rel in ("a.txt", "bin.dat", "new.bin", "d.txt"):
        assert (tmp_path / "copy" / rel).read_bytes() == (root / rel).read_bytes()
    assert not (tmp_path / "copy" / "b.txt").exists() and not (tmp_path / "copy" / "c.txt").exists()
    only_a = patch_between(repo, old, new, ["a.txt"])
    assert "a/a.txt" in only_a and "bin.dat" not in only_a and patch_between(repo, old, new, []) == ""


def test_a_same_size_rewrite_in_the_same_clock_tick_is_in_the_snapshot(tmp_path: Path) -> None:
    """Git re-reads a "racily clean" file only while the index keeps its mtime; the private copy must too."""
    missed = []
    for attempt in range(100):  # each try races the clock; a copy that loses the index's mtime misses ~1 in 40
        root = make_repo(tmp_path / str(attempt), {"f.bin": b"\0\1" * 50})
        old = g(root, "rev-parse", "HEAD").strip()
        with open(root / "f.bin", "r+b") as handle:  # same size, same inode, at once
            handle.write(b"\1\0" * 50)
        repo = open_repo(root)
        assert repo is not None
        if changed_paths(repo, old, snapshot(repo, "now")) != ["f.bin"]:
            missed.append(attempt)
    assert missed == []


def test_apply_patch_conflict_returns_path_and_keeps_user_changes(tmp_path: Path) -> None:
    lines = "".join(f"line {i}\n" for i in range(1, 11))
    root = make_repo(tmp_path / "r", {"f.txt": lines, "g.txt": "g1\ng2\n", "h.txt": "h\n"})
    repo = open_repo(root)
    assert repo is not None
    base = g(root, "rev-parse", "HEAD").strip()
    write(root, {"f.txt": lines.replace("line 5", "agent 5"), "g.txt": "g1\nagent g2\n"})
    patch = patch_between(repo, base, snapshot(repo, "agent"))
    g(root, "checkout", "-q", "--", ".")
    write(root, {"f.txt": lines.replace("line 5", "user 5").replace("line 9", "user 9"), "h.txt": "h staged\n"})
    g(root, "add", "h.txt")
    write(root, {"u.txt": "untracked\n"})
    before = user_state(root)

    assert apply_patch(repo, patch) == ["f.txt"]

    f = (root / "f.txt").read_text()
    assert "<<<<<<<" in f and "user 5" in f and "agent 5" in f and "user 9" in f
    assert (root / "g.txt").read_text() == "g1\nagent g2\n"
    after = user_state(root)
    assert after["ls-files"] == before["ls-files"] and after["cached"] == before["cached"]
    assert (root / "u.txt").read_text() == "untracked\n"


def test_apply_patch_clean_and_impossible(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"f.txt": "one\ntwo\n", "g.txt": "g\n1\n2\n3\n4\n"})
    repo = open_repo(root)
    assert repo is not None
    base = g(root, "rev-parse", "HEAD").strip()
    write(root, {"f.txt": "one\nTWO\n", "g.txt": "G\n1\n2\n3\n4\n"})
    patch = patch_between(repo, base, snapshot(repo, "agent"))
    g(root, "checkout", "-q", "--", ".")
    write(root, {"g.txt": "g\n1\n2\n3\n4\nuser tail\n"})
    assert apply_patch(repo, patch) == [] and (root / "f.txt").read_text() == "one\nTWO\n"
    assert (root / "g.txt").read_text() == "G\n1\n2\n3\n4\nuser tail\n" and g(root, "diff", "--cached") == ""
    g(root, "checkout", "-q", "--", ".")
    (root / "f.txt").unlink()
    with pytest.raises(GitSafetyError, match="f.txt"):
        apply_patch(repo, patch)
    assert (root / "g.txt").read_text() == "g\n1\n2\n3\n4\n"  # nothing half-applied
    assert apply_patch(repo, "") == []


def test_worktree_patch_carries_new_deleted_and_binary_files(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"a.txt": "a\n", "b.txt": "b\n", "img.bin": BINARY})
    repo = open_repo(root)
    assert repo is not None
    write(root, {"a.txt": "user edit\n"})
    base = snapshot(repo, "start")  # the run starts from the user's uncommitted state
    before = user_state(root)
    wt = Worktree.create(repo, base, tmp_path / "runs")
    assert wt.path.parent == (tmp_path / "runs").resolve() and (wt.path / "a.txt").read_text() == "user edit\n"
    write(wt.path, {"a.txt": "agent edit\n", "new dir/n.txt": "new\n", "img.bin": BINARY[::-1], "z.bin": b"\0z"})
    (wt.path / "b.txt").unlink()
    assert user_state(root) == before
    patch = wt.patch()
    assert apply_patch(repo, patch) == []
    assert (root / "a.txt").read_text() == "agent edit\n" and (root / "new dir" / "n.txt").read_text() == "new\n"
    assert (root / "img.bin").read_bytes() == BINARY[::-1] and (root / "z.bin").read_bytes() == b"\0z"
    assert not (root / "b.txt").exists()
    assert user_state(root)["ls-files"] == before["ls-files"]
    wt.remove()
    wt.remove()
    assert not wt.path.exists() and str(wt.path) not in g(root, "worktree", "list")


def test_worktree_commit_and_branch_refuse_to_clobber(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"a.txt": "a\n"}, identity=False)
    repo = open_repo(root)
    assert repo is not None
    base = g(root, "rev-parse", "HEAD").strip()
    g(root, "branch", "at-base")
    write(root, {"elsewhere.txt": "x\n"})
    g(root, "add", "elsewhere.txt")
    g(root, "-c", "user.name=U", "-c", "user.email=u@x", "commit", "-qm", "other")
    g(root, "branch", "taken")
    g(root, "reset", "-q", "--hard", base)
    wt = Worktree.create(repo, "HEAD", tmp_path / "runs")
    assert wt.commit("nothing") == base
    write(wt.path, {"a.txt": "agent\n"})
    for name in ("taken", "main", "bad..name"):
        with pytest.raises(GitSafetyError):
            wt.to_branch(name, "agent work")
    assert g(root, "rev-parse", "taken").strip() != base and g(root, "rev-parse", "main").strip() == base
    sha = wt.to_branch("agent/fix", "agent work")
    assert g(root, "rev-parse", "agent/fix").strip() == sha and g(root, "rev-parse", f"{sha}^").strip() == base
    assert show(root, "agent/fix", "a.txt") == b"agent\n" and (root / "a.txt").read_text() == "a\n"
    assert wt.to_branch("at-base", "same") == sha and g(root, "rev-parse", "at-base").strip() == sha
    assert g(wt.path, "status", "--porcelain") == ""
    wt.remove()


def test_commit_paths_leaves_other_staging_staged(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"a.txt": "a\n", "b.txt": "b\n", "old.txt": "old\n"})
    repo = open_repo(root)
    assert repo is not None
    base = g(root, "rev-parse", "HEAD").strip()
    write(root, {"a.txt": "a agent\n", "b.txt": "b staged by user\n", "c.txt": "new\n", "d.txt": "not mine\n"})
    g(root, "add", "b.txt")
    (root / "old.txt").unlink()
    cached_before = g(root, "diff", "--cached", "--binary")

    sha = commit_paths(repo, ["a.txt", "c.txt", "old.txt"], "editor-agent: fix\n\n- a.txt\n")

    assert g(root, "rev-parse", "HEAD").strip() == sha and g(root, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert sorted(changed_paths(repo, base, sha)) == ["a.txt", "c.txt", "old.txt"]
    assert show(root, sha, "a.txt") == b"a agent\n"
    assert g(root, "diff", "--cached", "--binary") == cached_before
    assert sorted(g(root, "status", "--porcelain").splitlines()) == ["?? d.txt", "M  b.txt"]
    assert g(root, "log", "-1", "--format=%an|%s").strip() == "Test User|editor-agent: fix"
    with pytest.raises(GitSafetyError, match="nothing to commit"):
        commit_paths(repo, ["a.txt"], "again")


def test_commit_paths_without_identity_on_detached_head_and_unborn_branch(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"a.txt": "a\n"}, identity=False)
    g(root, "checkout", "-q", "--detach")
    write(root, {"a.txt": "b\n"})
    repo = open_repo(root)
    assert repo is not None
    config = (root / ".git" / "config").read_text()
    sha = commit_paths(repo, ["a.txt"], "detached")
    assert g(root, "rev-parse", "HEAD").strip() == sha and g(root, "rev-parse", "main").strip() != sha
    assert g(root, "log", "-1", "--format=%an <%ae>").strip() == "editor-agent <editor-agent@localhost>"
    assert (root / ".git" / "config").read_text() == config and g(root, "status", "--porcelain") == ""
    fresh = make_repo(tmp_path / "fresh", {}, identity=False)
    write(fresh, {"x.txt": "x\n", "y.txt": "y\n"})
    fresh_repo = open_repo(fresh)
    assert fresh_repo is not None
    first = commit_paths(fresh_repo, ["x.txt"], "first")
    assert g(fresh, "rev-parse", "main").strip() == first and tree_paths(fresh, first) == {"x.txt"}
    assert g(fresh, "status", "--porcelain") == "?? y.txt\n"


def test_summary_message() -> None:
    message = summary_message(["shop.py", "tests/test_shop.py", "shop.py"], "Fix the discount.\nMore detail here.")
    subject, blank, *rest = message.splitlines()
    assert subject == "editor-agent: fix the discount" and blank == ""
    assert rest == ["- shop.py", "- tests/test_shop.py"]
    long = summary_message(["a"], "Refactor " + "the very long module name " * 10)
    assert len(long.splitlines()[0]) < 72 and long.splitlines()[0].startswith("editor-agent: refactor the")
    assert summary_message(["a", "b"], "").startswith("editor-agent: update 2 file(s)\n\n")


def test_worktree_patch_and_branch_limited_to_paths(tmp_path: Path) -> None:
    repo_dir = tmp_path / "r"
    repo_dir.mkdir()
    for command in (["init", "-q"], ["config", "user.name", "t"], ["config", "user.email", "t@t"]):
        subprocess.run(["git", *command], cwd=repo_dir, check=True)
    (repo_dir / "shop.py").write_text("a\n")
    subprocess.run(["git", "add", "-A"], cwd=repo_dir, check=True)
    subprocess.run(["git", "commit", "-qm", "x"], cwd=repo_dir, check=True)
    repo = open_repo(repo_dir)
    assert repo is not None
    base = checkpoint(repo, "run1", "start")
    worktree = Worktree.create(repo, base, tmp_path / "scratch")
    try:
        (worktree.path / "shop.py").write_text("b\n")
        (worktree.path / "__pycache__").mkdir()
        (worktree.path / "__pycache__" / "shop.pyc").write_bytes(b"\x00junk")
        patch = worktree.patch(["shop.py"])
        assert "+b" in patch and "__pycache__" not in patch
        assert "__pycache__" in worktree.patch()
        sha = worktree.to_branch("agent/only-shop", "only shop", ["shop.py"])
        files = subprocess.run(["git", "ls-tree", "-r", "--name-only", sha], cwd=repo_dir, capture_output=True,
                               text=True, check=True).stdout.split()  # fmt: skip
        assert files == ["shop.py"]
    finally:
        worktree.remove()


LINES = "".join(f"line {n}\n" for n in range(1, 21))


def every_text(root: Path, rev: str) -> tuple[set[str], bytes]:
    """Every path and the bytes of every blob and commit reachable from rev."""
    paths: set[str] = set()
    data = []
    for commit in g(root, "rev-list", rev).split():
        data.append(subprocess.run(["git", "cat-file", "commit", commit], cwd=root, capture_output=True).stdout)
        for line in g(root, "ls-tree", "-r", "-z", commit).split("\0"):
            if line:
                meta, path = line.split("\t", 1)
                paths.add(path)
                blob = ["git", "cat-file", "blob", meta.split()[2]]
                data.append(subprocess.run(blob, cwd=root, capture_output=True).stdout)
    return paths, b"".join(data)


def test_branch_on_parent_of_a_checkpoint_holds_only_the_runs_changes(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"a.txt": LINES, "c.txt": "c\n", "d.sh": "echo\n", "img.bin": BINARY})
    head = g(root, "rev-parse", "HEAD").strip()
    write(root, {"secret.env": "TOKEN=SECRET-1\n", "staged.txt": "STAGED-2\n"})
    g(root, "add", "staged.txt")
    write(root, {"a.txt": "line 1 UNSTAGED-3\n" + LINES.split("\n", 1)[1]})
    repo = open_repo(root)
    assert repo is not None
    before = user_state(root)
    wt = Worktree.create(repo, checkpoint(repo, "run1", "start"), tmp_path / "runs", on_parent=True)
    try:
        assert (wt.path / "secret.env").exists() and wt.onto == head  # the run sees the user's tree
        write(wt.path, {"a.txt": (wt.path / "a.txt").read_text().replace("line 20\n", "line 20 run\n")})
        write(wt.path, {"new.txt": "new\n", "img.bin": BINARY[::-1]})
        (wt.path / "c.txt").unlink()
        (wt.path / "d.sh").chmod(0o755)
        sha = wt.to_branch("agent/x", "run work", ["a.txt", "new.txt", "img.bin", "c.txt", "d.sh"])
    finally:
        wt.remove()
    assert g(root, "rev-list", "agent/x").split() == [sha, *g(root, "rev-list", head).split()]
    assert sorted(changed_paths(repo, head, sha)) == ["a.txt", "c.txt", "d.sh", "img.bin", "new.txt"]
    assert show(root, sha, "a.txt") == LINES.replace("line 20\n", "line 20 run\n").encode()
    assert show(root, sha, "img.bin") == BINARY[::-1] and g(root, "ls-tree", sha, "d.sh").startswith("100755")
    paths, data = every_text(root, "agent/x")
    assert not {"secret.env", "staged.txt"} & paths
    assert not [m for m in (b"SECRET-1", b"STAGED-2", b"UNSTAGED-3") if m in data]
    assert user_state(root) | {"branches": ""} == before | {"branches": ""}


def test_tangled_changes_refuse_the_branch_and_name_every_file(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"a.txt": LINES, "img.bin": BINARY, "gone.txt": "g\n"})
    write(root, {"secret.env": "TOKEN=1\n", "a.txt": "line 1 mine\n" + LINES.split("\n", 1)[1]})
    write(root, {"img.bin": BINARY[:100], "gone.txt": "g mine\n"})
    repo = open_repo(root)
    assert repo is not None
    wt = Worktree.create(repo, checkpoint(repo, "run1", "start"), tmp_path / "runs", on_parent=True)
    try:
        write(wt.path, {"secret.env": "TOKEN=2\n", "a.txt": "line 1 run\n" + LINES.split("\n", 1)[1]})
        write(wt.path, {"img.bin": BINARY[:50]})
        (wt.path / "gone.txt").unlink()
        with pytest.raises(GitSafetyError) as caught:
            wt.to_branch("agent/x", "run work")
        assert "secret.env" in wt.patch()  # the worktree is still there to make the patch from
    finally:
        wt.remove()
    message = str(caught.value)
    assert "\n" not in message and g(root, "branch", "--list", "agent/x") == ""
    for part in ("secret.env: not committed", "a.txt: your uncommitted changes overlap", "img.bin: a binary file",
                 "gone.txt: deleted by the run"):  # fmt: skip
        assert part in message


def test_commit_paths_before_a_run_commits_its_change_on_the_staged_version(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"a.txt": LINES, "b.txt": "b\n", "tool.sh": "echo\n"})
    head = g(root, "rev-parse", "HEAD").strip()
    staged = LINES.replace("line 10\n", "line 10 staged\n")
    write(root, {"a.txt": staged, "other.txt": "other staged\n"})
    g(root, "add", "a.txt", "other.txt")
    write(root, {"a.txt": "line 1 unstaged\n" + staged.split("\n", 1)[1], "tool.sh": "echo mine\n"})
    repo = open_repo(root)
    assert repo is not None
    start = checkpoint(repo, "run1", "start")
    write(root, {"a.txt": (root / "a.txt").read_text().replace("line 20\n", "line 20 run\n"), "made.txt": "m\n"})
    (root / "b.txt").unlink()
    (root / "tool.sh").chmod(0o755)

    sha = commit_paths(repo, ["a.txt", "b.txt", "made.txt", "tool.sh"], "run", before=start)

    assert g(root, "rev-parse", "HEAD^").strip() == head
    assert sorted(changed_paths(repo, head, sha)) == ["a.txt", "b.txt", "made.txt", "tool.sh"]
    assert show(root, sha, "a.txt") == staged.replace("line 20\n", "line 20 run\n").encode()
    assert g(root, "ls-tree", sha, "tool.sh").startswith("100755") and show(root, sha, "tool.sh") == b"echo\n"
    assert g(root, "diff", "--cached", "--name-only") == "other.txt\n"
    assert sorted(g(root, "diff", "--name-only").split()) == ["a.txt", "tool.sh"]
    assert "+line 1 unstaged" in g(root, "diff", "a.txt") and "run" not in g(root, "diff", "a.txt")
    with pytest.raises(GitSafetyError, match="nothing to commit"):
        commit_paths(repo, ["a.txt"], "again", before=checkpoint(repo, "run2", "start"))


def test_run_times_and_prune_runs(tmp_path: Path) -> None:
    from editor_agent.safety.prune import prune_runs

    root = make_repo(tmp_path / "r", {"a.txt": "a\n"})
    repo = open_repo(root)
    assert repo is not None
    for run_id in ("one", "two", "three"):
        checkpoint(repo, run_id, "start")
    checkpoint(repo, "one", "end")
    times = run_times(repo)
    assert sorted(times) == ["one", "three", "two"] and times["one"] > times["three"] > times["two"]
    assert prune_runs(repo, 1).pruned == [] and sorted(run_times(repo)) == ["one", "three", "two"]
    report = prune_runs(repo, 0, keep=frozenset({"two"}))
    assert [(item.run_id, item.refs) for item in report.pruned] == [("three", 1), ("one", 2)]
    assert report.kept == 1 and list(run_times(repo)) == ["two"]
    assert g(root, "for-each-ref", "--format=%(refname)", "refs/editor-agent/").split() == [
        "refs/editor-agent/two/start"
    ]
