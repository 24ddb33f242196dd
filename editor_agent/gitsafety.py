"""Git safety net: checkpoints, isolated worktrees, patches and careful commits.

Before the harness touches a user's repository it records the working tree as commits under
private refs (`refs/editor-agent/<run>/<label>`), built with a temporary index so the user's
branch, index, stash and files never change. A run can also work in its own detached worktree
and hand its result back as a patch, a branch or a commit of exactly the paths it changed.
Every git call goes through gitpython (`repo.git.<command>`); plumbing is preferred over
porcelain so that the user's configuration (diff prefixes, colours, hooks) cannot change output.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import git
from git.exc import GitCommandError, InvalidGitRepositoryError, NoSuchPathError

REF_ROOT = "refs/editor-agent"
FALLBACK_NAME = "editor-agent"
FALLBACK_EMAIL = "editor-agent@localhost"
_TRAILER = "Editor-Agent-Checkpoint"
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_GITLINK = "160000"
# plumbing diff with fixed prefixes: immune to diff.noprefix, colours, external diff drivers
_PATCH_OPTIONS = ("-p", "--binary", "--full-index", "--no-renames", "--src-prefix=a/", "--dst-prefix=b/")
# apply.whitespace=fix in the user's config would otherwise rewrite the patched bytes
_APPLY_OPTIONS = ("--whitespace=nowarn",)


class GitSafetyError(Exception):
    """A git operation the harness needed could not be done; the message is one line for a person."""


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


def _checkpoint_ref(run_id: str, label: str | None = None) -> str:
    for name in (run_id, label):
        if name is not None and (not _ID.fullmatch(name) or ".." in name or name.endswith(".lock")):
            raise GitSafetyError(f"invalid checkpoint name {name!r}: use letters, digits, '.', '_' and '-'")
    return f"{REF_ROOT}/{run_id}" + (f"/{label}" if label is not None else "")


def _listing(repo: git.Repo, prefix: str) -> list[tuple[int, str, str]]:
    """(created_ns, refname, sha) for every checkpoint under prefix, oldest first."""
    fmt = "%(refname)%00%(objectname)%00%(committerdate:unix)%00%(contents:trailers:only,unfold)%00"
    fields = [f.strip() for f in _git(repo, "for-each-ref", f"--format={fmt}", prefix + "/").split("\0")][:-1]
    rows = []
    for ref, sha, date, trailers in zip(fields[0::4], fields[1::4], fields[2::4], fields[3::4], strict=True):
        match = re.search(rf"^{_TRAILER}: (\d+)$", trailers, flags=re.M)
        created = int(match.group(1)) if match else int(date or 0) * 1_000_000_000
        rows.append((created, ref, sha))
    return sorted(rows)


def checkpoint(repo: git.Repo, run_id: str, label: str, message: str | None = None) -> str:
    """Snapshot the working tree under `refs/editor-agent/<run_id>/<label>` and return its sha.

    The creation time (ns, strictly increasing within a run) is kept as a trailer, since refs
    carry no order and commit dates have one-second resolution.
    """
    ref = _checkpoint_ref(run_id, label)
    created = max([time.time_ns()] + [row[0] + 1 for row in _listing(repo, _checkpoint_ref(run_id))])
    text = message or f"editor-agent checkpoint {run_id}/{label}"
    sha = snapshot(repo, f"{text.rstrip()}\n\n{_TRAILER}: {created}\n")
    with _REFS:
        _git(repo, "update-ref", "-m", f"editor-agent: checkpoint {label}", ref, sha)
    return sha


def checkpoints(repo: git.Repo, run_id: str) -> list[tuple[str, str]]:
    """[(label, sha)] of one run, in creation order."""
    prefix = _checkpoint_ref(run_id)
    return [(ref[len(prefix) + 1 :], sha) for _, ref, sha in _listing(repo, prefix)]


def runs(repo: git.Repo) -> list[str]:
    """Run ids that have checkpoints, ordered by their first checkpoint."""
    first: dict[str, int] = {}
    for created, ref, _ in _listing(repo, REF_ROOT):
        first.setdefault(ref[len(REF_ROOT) + 1 :].split("/")[0], created)
    return sorted(first, key=lambda run: first[run])


def drop_checkpoints(repo: git.Repo, run_id: str) -> None:
    """Delete a run's private refs (the commits become unreachable and are collected by gc)."""
    with _REFS:
        for _, ref, sha in _listing(repo, _checkpoint_ref(run_id)):
            _git(repo, "update-ref", "-d", ref, sha)


def restore_paths(repo: git.Repo, sha: str, paths: list[str]) -> None:
    """Put `paths` back as they are in commit `sha` (bytes, mode, filters); delete those absent there.

    Files are written by `checkout-index` from a private index, so the user's index is untouched.
    """
    commit = _commit_of(repo, sha)
    wanted = sorted({_rel(p) for p in paths})
    if not wanted:
        return
    entries = _z(_git(repo, "ls-tree", "-r", "-z", "--full-tree", commit, "--", *wanted))
    present = {entry.split("\t", 1)[1] for entry in entries}
    if entries:
        records = "".join(entry + "\0" for entry in entries).encode("utf-8", "surrogateescape")
        with _temp_index(repo, copy=False) as env:
            _git(repo, "update-index", "-z", "--index-info", env=env, stdin=records)
            _git(repo, "checkout-index", "-f", "-a", env=env)
    root = Path(repo.working_dir)
    for rel in wanted:
        if rel in present or any(p.startswith(rel + "/") for p in present):
            continue
        target = root / rel
        if target.is_symlink() or target.is_file():
            target.unlink()
            parent = target.parent
            while parent != root and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent


def changed_paths(repo: git.Repo, old: str, new: str) -> list[str]:
    """Paths that differ between two commits; a rename counts as a deletion plus an addition."""
    return _z(
        _git(repo, "diff-tree", "-r", "-z", "--no-renames", "--name-only", _commit_of(repo, old), _commit_of(repo, new))
    )


def _diff(repo: git.Repo, old: str, new: str, paths: list[str] | None) -> str:
    if paths is not None and not paths:
        return ""
    limit = ["--", *[_rel(p) for p in paths]] if paths is not None else []
    return _git(repo, "diff-tree", *_PATCH_OPTIONS, old, new, *limit)


def patch_between(repo: git.Repo, old: str, new: str, paths: list[str] | None = None) -> str:
    """A binary, full-index patch from `old` to `new` (optionally limited to `paths`), for apply_patch()."""
    return _diff(repo, _commit_of(repo, old), _commit_of(repo, new), paths)


def apply_patch(repo: git.Repo, patch: str) -> list[str]:
    """Apply a patch to the working tree; return the paths left with conflict markers ([] if clean).

    A clean patch is applied without any index. Otherwise a 3-way apply runs against a private
    index that mirrors the working tree (git insists the two match), so the user's index stays as
    it was. git checks every file before writing any, so a failure leaves nothing half-applied.
    """
    if not patch.strip():
        return []
    with tempfile.NamedTemporaryFile(prefix="editor-agent-", suffix=".patch") as file:
        file.write(patch.encode("utf-8", "surrogateescape"))
        file.flush()
        if _try(repo, "apply", *_APPLY_OPTIONS, "--check", file.name) is not None:
            _git(repo, "apply", *_APPLY_OPTIONS, file.name)
            return []
        with _temp_index(repo, copy=True) as env:
            _stage_working_tree(repo, env)
            options = {"env": env, "with_extended_output": True, "with_exceptions": False}
            status, _, err = repo.git.apply(*_APPLY_OPTIONS, "--3way", file.name, **options)
            conflicts = sorted({line.split("\t", 1)[1] for line in _z(_git(repo, "ls-files", "-u", "-z", env=env))})
        if status == 0 or conflicts:
            return conflicts
        files = [line.split("\t")[-1] for line in _z(_try(repo, "apply", "--numstat", "-z", file.name) or "")]
        reasons = [line for line in str(err).splitlines() if line.startswith(("error:", "fatal:"))] or ["rejected"]
        raise GitSafetyError(f"the patch does not apply to {', '.join(files) or 'the working tree'}: {reasons[-1]}")


# `git worktree prune` can remove the administrative files of a worktree being added at the same
# moment; adding and removing worktrees of this process take turns.
_WORKTREES = threading.RLock()
# Ref updates and deletions of parallel runs in one repository take turns too: a deletion locks
# packed-refs, which a concurrent update may need.
_REFS = threading.RLock()


@dataclass
class Worktree:
    """A detached worktree of `repo` at `path`, started from commit `base`, for an isolated run."""

    repo: git.Repo
    path: Path
    base: str

    @classmethod
    def create(cls, repo: git.Repo, base: str, parent_dir: Path) -> Worktree:
        """`git worktree add --detach` in a fresh directory under parent_dir (keep it outside the user's tree)."""
        sha = _commit_of(repo, base)
        try:
            Path(parent_dir).mkdir(parents=True, exist_ok=True)
            path = Path(tempfile.mkdtemp(prefix="editor-agent-wt-", dir=parent_dir)).resolve()
        except OSError as err:
            raise GitSafetyError(f"cannot make a worktree directory under {parent_dir}: {err.strerror}") from err
        try:
            with _WORKTREES:
                _git(repo, "worktree", "add", "--detach", "--quiet", str(path), sha)
        except GitSafetyError:
            shutil.rmtree(path, ignore_errors=True)
            raise
        return cls(repo=repo, path=path, base=sha)

    def _repo(self) -> git.Repo:
        if not self.path.is_dir():
            raise GitSafetyError(f"the worktree {self.path} has been removed")
        return git.Repo(self.path)

    def patch(self, paths: list[str] | None = None) -> str:
        """What changed in the worktree since `base` (untracked, deleted, binary) as one patch.

        `paths` (worktree-relative) limits it to those files, so leftovers of a check (caches,
        build output) stay out.
        """
        wt = self._repo()
        with _temp_index(wt, copy=True) as env:
            tree = _stage_working_tree(wt, env, paths)
        return _diff(wt, self.base, tree, None)

    def commit(self, message: str, paths: list[str] | None = None) -> str:
        """Commit the changes in the worktree (or only `paths`) on its detached HEAD; unchanged: HEAD."""
        wt = self._repo()
        head = _commit_of(wt, "HEAD")
        tree = _stage_working_tree(wt, {}, paths)
        if tree == _git(wt, "rev-parse", f"{head}^{{tree}}").strip():
            return head
        sha = _commit_tree(wt, tree, head, message)
        _git(wt, "update-ref", "-m", f"commit: {message.splitlines()[0] if message else ''}", "HEAD", sha, head)
        return sha

    def to_branch(self, name: str, message: str, paths: list[str] | None = None) -> str:
        """Commit, then point branch `name` of the main repo at that commit.

        Refuses a branch checked out in any worktree and an existing branch not at `base`, so a
        user's work is never overwritten.
        """
        if _try(self.repo, "check-ref-format", "--branch", name) != name:
            raise GitSafetyError(f"invalid branch name {name!r}")
        ref = f"refs/heads/{name}"
        listing = _git(self.repo, "worktree", "list", "--porcelain")
        if f"branch {ref}" in listing.splitlines():
            raise GitSafetyError(f"branch {name!r} is checked out in a worktree; not moving it")
        existing = _try(self.repo, "rev-parse", "--verify", "-q", ref)
        if existing is not None and existing != self.base:
            raise GitSafetyError(f"branch {name!r} already exists at {existing[:12]}; not overwriting it")
        sha = self.commit(message, paths)
        _git(self.repo, "update-ref", "-m", f"editor-agent: branch from {self.base[:12]}", ref, sha, existing or "")
        return sha

    def remove(self) -> None:
        """Remove the worktree directory and its administrative files; safe to call twice."""
        with _WORKTREES:
            if self.path.exists():
                try:
                    _git(self.repo, "worktree", "remove", "--force", "--force", str(self.path))
                except GitSafetyError:
                    shutil.rmtree(self.path, ignore_errors=True)  # e.g. it holds a checked-out submodule
            _git(self.repo, "worktree", "prune")


def commit_paths(repo: git.Repo, paths: list[str], message: str) -> str:
    """Commit exactly these paths' working-tree state on HEAD; the user's other staging stays as it was.

    The commit is built from HEAD's tree in a private index, HEAD moves only if it has not
    changed meanwhile, and the user's index entries are then updated for these paths alone
    (as `git commit --only` would). No hooks run and the commit is not signed.
    """
    wanted = sorted({_rel(p) for p in paths})
    if not wanted:
        raise GitSafetyError("nothing to commit: no paths given")
    head = _head(repo)
    with _temp_index(repo, copy=False) as env:
        if head:
            _git(repo, "read-tree", head, env=env)
        _git(repo, "update-index", "--add", "--remove", "--", *wanted, env=env)
        tree = _git(repo, "write-tree", env=env).strip()
    if head and tree == _git(repo, "rev-parse", f"{head}^{{tree}}").strip():
        raise GitSafetyError(f"nothing to commit: {', '.join(wanted)} unchanged since HEAD")
    sha = _commit_tree(repo, tree, head, message)
    subject = message.splitlines()[0] if message.strip() else "editor-agent"
    _git(repo, "update-ref", "-m", f"commit: {subject}", "HEAD", sha, head or "")
    entries = {e.split("\t", 1)[1]: e for e in _z(_git(repo, "ls-tree", "-r", "-z", "--full-tree", sha, "--", *wanted))}
    zero = "0" * len(sha)
    lines = [f"0 {zero}\t{p}\0" + (f"{entries[p]}\0" if p in entries else "") for p in wanted]
    try:
        _git(repo, "update-index", "-z", "--index-info", stdin="".join(lines).encode("utf-8", "surrogateescape"))
    except GitSafetyError as err:  # the commit exists; say how to resync the index by hand
        raise GitSafetyError(f"committed {sha[:12]}, index not updated ({err}); run `git reset -q -- <paths>`") from err
    return sha


def summary_message(paths: list[str], task: str) -> str:
    """Commit message: 'editor-agent: <task>' (under 72 characters), a blank line, the changed paths."""
    words = " ".join(next((line for line in task.splitlines() if line.strip()), "").split()).rstrip(".")
    if len(words) > 1 and words[0].isupper() and not words[1].isupper():
        words = words[0].lower() + words[1:]
    subject = f"editor-agent: {words or f'update {len(set(paths))} file(s)'}"
    if len(subject) > 71:
        subject = subject[:70].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return subject + "\n\n" + "".join(f"- {p}\n" for p in sorted(set(paths)))


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
