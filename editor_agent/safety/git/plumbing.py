"""Git plumbing for the safety net: one way to call git, private indexes, commits of a working tree.

Every git call goes through gitpython (`repo.git.<command>`); plumbing is preferred over porcelain so
that the user's configuration (diff prefixes, colours, hooks) cannot change output. The helpers with
a leading underscore are shared by the modules of this package only.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

import git
from git.exc import GitCommandError, InvalidGitRepositoryError, NoSuchPathError

from ...errors import GitSafetyError as GitSafetyError  # the class lives in errors.py

FALLBACK_NAME = "editor-agent"
FALLBACK_EMAIL = "editor-agent@localhost"
_GITLINK = "160000"


def _describe(err: GitCommandError, what: str) -> str:
    """Reduce gitpython's multi-line error to the one line git meant for a person."""
    text = str(err.stderr or "").strip()
    text = re.sub(r"^stderr: '(.*)'$", r"\1", text, flags=re.S)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    pick = [line for line in lines if line.startswith(("fatal:", "error:"))] or lines or [f"exit {err.status}"]
    return f"git {what} failed: {pick[-1]}"


def _git(repo: git.Repo, cmd: str, *args: str, env: Mapping[str, str] | None = None, stdin: bytes | None = None) -> str:
    """Run `git <cmd> <args>` in the repository; output is decoded losslessly (surrogateescape)."""
    run = getattr(repo.git, cmd.replace("-", "_"))
    full_env = {"GIT_LITERAL_PATHSPECS": "1", **(env or {})}  # a path is a path, never a glob
    options: dict[str, object] = {"env": full_env, "strip_newline_in_stdout": False, "stdout_as_string": False}
    with tempfile.TemporaryFile() as feed:
        if stdin is not None:
            feed.write(stdin)
            feed.seek(0)
            options["istream"] = feed
        try:
            out = run(*args, **options)
        except GitCommandError as err:
            raise GitSafetyError(_describe(err, cmd)) from err
    return bytes(out).decode("utf-8", "surrogateescape")


def _try(repo: git.Repo, cmd: str, *args: str) -> str | None:
    """Output of a query that may legitimately fail (missing ref, unset config), or None."""
    status, out, _ = getattr(repo.git, cmd.replace("-", "_"))(*args, with_extended_output=True, with_exceptions=False)
    return str(out).strip() if status == 0 else None


def _z(text: str) -> list[str]:
    return [item for item in text.split("\0") if item]


def _head(repo: git.Repo) -> str | None:
    """HEAD's commit, or None on an unborn branch."""
    return _try(repo, "rev-parse", "--verify", "-q", "HEAD^{commit}")


def _commit_of(repo: git.Repo, rev: str) -> str:
    sha = _try(repo, "rev-parse", "--verify", "-q", f"{rev}^{{commit}}")
    if sha is None:
        raise GitSafetyError(f"{rev!r} is not a commit in {repo.working_dir}")
    return sha


def _identity_env(repo: git.Repo) -> dict[str, str]:
    """Author/committer variables for whatever identity the user has not configured (config is never written)."""
    found = _try(repo, "config", "--get-regexp", r"^(user|author|committer)\.(name|email)$") or ""
    configured = {line.split(" ", 1)[0] for line in found.splitlines() if len(line.split(" ", 1)) == 2}
    env: dict[str, str] = {}
    for who in ("author", "committer"):
        for kind, fallback in (("name", FALLBACK_NAME), ("email", FALLBACK_EMAIL)):
            key = f"GIT_{who.upper()}_{kind.upper()}"
            if not (os.environ.get(key) or f"{who}.{kind}" in configured or f"user.{kind}" in configured):
                env[key] = fallback
    return env


def _commit_tree(repo: git.Repo, tree: str, parent: str | None, message: str) -> str:
    args = [tree, *(["-p", parent] if parent else []), "-m", message]
    return _git(repo, "commit-tree", *args, env=_identity_env(repo)).strip()


@contextmanager
def _temp_index(repo: git.Repo, copy: bool) -> Iterator[dict[str, str]]:
    """Environment pointing git at a private index next to the real one (optionally a copy of it)."""
    real = Path(repo.working_dir) / _git(repo, "rev-parse", "--git-path", "index").strip()
    fd, name = tempfile.mkstemp(prefix="editor-agent-index.", dir=real.parent)
    os.close(fd)
    os.unlink(name)  # an empty file is not a valid index; git creates it
    try:
        if copy and real.exists():
            # with its mtime: git re-reads files changed in the same clock tick as the index was
            # written ("racily clean") only while the index keeps that time
            shutil.copy2(real, name)
        yield {"GIT_INDEX_FILE": name}
    finally:
        for leftover in (name, name + ".lock"):
            Path(leftover).unlink(missing_ok=True)


def _stage_working_tree(repo: git.Repo, env: Mapping[str, str], paths: list[str] | None = None) -> str:
    """Stage the working tree (or only `paths` of it) into the index named by `env`; return its tree.

    Gitlinks whose submodule directory is missing are kept as the index has them: a submodule
    that was never checked out is not a deletion the user made.
    """
    gitlinks = [line for line in _z(_git(repo, "ls-files", "-s", "-z", env=env)) if line.startswith(_GITLINK)]
    if paths is None:
        _git(repo, "add", "-A", env=env)
    elif paths:
        _git(repo, "add", "-A", "--", *[_rel(p) for p in paths], env=env)  # _git makes pathspecs literal
    root = Path(repo.working_dir)
    lost = [line for line in gitlinks if not os.path.lexists(root / line.split("\t", 1)[1])]
    if lost:  # ls-files -s lines are a format --index-info reads back
        entries = "".join(line + "\0" for line in lost).encode("utf-8", "surrogateescape")
        _git(repo, "update-index", "-z", "--index-info", env=env, stdin=entries)
    return _git(repo, "write-tree", env=env).strip()


def _rel(path: str) -> str:
    """Check a repo-relative posix path: no absolute paths, `..`, or `.git` components."""
    pure = PurePosixPath(path)
    parts = pure.parts
    if not parts or pure.is_absolute() or any(p in ("..", ".") or p.lower() == ".git" for p in parts):
        raise GitSafetyError(f"not a repository-relative file path: {path!r}")
    return pure.as_posix()


def open_repo(path: Path) -> git.Repo | None:
    """The non-bare repository containing `path` (a file or directory, existing or not), or None."""
    start = Path(path).absolute()
    while not start.is_dir() and start != start.parent:
        start = start.parent
    try:
        repo = git.Repo(start, search_parent_directories=True)
    except (InvalidGitRepositoryError, NoSuchPathError):
        return None
    return None if repo.bare or repo.working_tree_dir is None else repo


def snapshot(repo: git.Repo, message: str) -> str:
    """Commit the working tree as it is now, parented on HEAD, without touching index, refs or files."""
    with _temp_index(repo, copy=True) as env:
        tree = _stage_working_tree(repo, env)
    return _commit_tree(repo, tree, _head(repo), message)


def parent_of(repo: git.Repo, sha: str) -> str | None:
    """A commit's first parent (a checkpoint's: the HEAD it was taken on), or None for a root commit."""
    return _try(repo, "rev-parse", "--verify", "-q", f"{_commit_of(repo, sha)}^1")


# `git worktree prune` can remove the administrative files of a worktree being added at the same
# moment; adding and removing worktrees of this process take turns.
_WORKTREES = threading.RLock()
# Ref updates and deletions of parallel runs in one repository take turns too: a deletion locks
# packed-refs, which a concurrent update may need.
_REFS = threading.RLock()


def exclude_locally(repo: git.Repo, pattern: str) -> None:
    """Add a pattern to `.git/info/exclude` (never committed, shared by worktrees) if it is not there."""
    exclude = Path(repo.common_dir) / "info" / "exclude"
    with _REFS:
        _append_exclude(exclude, pattern)


def _append_exclude(exclude: Path, pattern: str) -> None:
    lines = exclude.read_text(encoding="utf-8").splitlines() if exclude.is_file() else []
    if pattern not in lines:
        exclude.parent.mkdir(parents=True, exist_ok=True)
        prefix = "" if not lines or exclude.read_text(encoding="utf-8").endswith("\n") else "\n"
        with open(exclude, "a", encoding="utf-8") as handle:
            handle.write(f"{prefix}{pattern}\n")
