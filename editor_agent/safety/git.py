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

from ..errors import GitSafetyError as GitSafetyError  # the class lives in errors.py

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


def run_times(repo: git.Repo) -> dict[str, int]:
    """Each run id with the creation time (ns) of its newest checkpoint: how long ago it was last active."""
    last: dict[str, int] = {}
    for created, ref, _ in _listing(repo, REF_ROOT):
        run = ref[len(REF_ROOT) + 1 :].split("/")[0]
        last[run] = max(created, last.get(run, created))
    return last


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


# A file as a tree or index holds it: (mode, blob sha); None where the path is absent.
Entry = tuple[str, str]
_REGULAR = ("100644", "100755")


def _tree_entries(repo: git.Repo, treeish: str | None, paths: list[str]) -> dict[str, Entry]:
    """The entries of exactly these paths in a tree (None: the empty tree of an unborn branch)."""
    if treeish is None or not paths:
        return {}
    found: dict[str, Entry] = {}
    for item in _z(_git(repo, "ls-tree", "-r", "-z", "--full-tree", treeish, "--", *paths)):
        meta, path = item.split("\t", 1)
        mode, _, sha = meta.split()
        found[path] = (mode, sha)
    return {path: entry for path, entry in found.items() if path in paths}


def _index_entries(repo: git.Repo, paths: list[str]) -> tuple[dict[str, Entry], set[str]]:
    """The user's index entries of these paths, and the paths it has unmerged (a conflict in progress)."""
    found: dict[str, Entry] = {}
    unmerged: set[str] = set()
    for item in _z(_git(repo, "ls-files", "-s", "-z", "--", *paths)) if paths else []:
        meta, path = item.split("\t", 1)
        mode, sha, stage = meta.split()
        if stage != "0":
            unmerged.add(path)
        elif path in paths:
            found[path] = (mode, sha)
    return found, unmerged


class _Tangled(Exception):
    """The run's change to a file cannot be told apart from the user's own uncommitted work in it."""


def _merge_blobs(repo: git.Repo, path: str, ours: str, base: str, theirs: str) -> str:
    """A 3-way merge of three blobs into a new blob; a conflict or a binary file is _Tangled."""
    with tempfile.TemporaryDirectory(prefix="editor-agent-merge-") as scratch:
        names = []
        for label, sha in (("ours", ours), ("base", base), ("theirs", theirs)):
            name = os.path.join(scratch, label)
            data = repo.git.cat_file("blob", sha, stdout_as_string=False, strip_newline_in_stdout=False)
            Path(name).write_bytes(bytes(data))
            names.append(name)
        status, merged, _ = repo.git.merge_file(
            "-p", "--quiet", *names, with_extended_output=True, with_exceptions=False, stdout_as_string=False,
            strip_newline_in_stdout=False,
        )  # fmt: skip
    if status != 0:
        raise _Tangled(f"{path}: your uncommitted changes overlap the run's edits" if 0 < status < 128 else
                       f"{path}: a binary file you changed too")  # fmt: skip
    return _git(repo, "hash-object", "-w", "--stdin", stdin=bytes(merged)).strip()


def _carry_entry(
    repo: git.Repo, path: str, ours: Entry | None, base: Entry | None, theirs: Entry | None
) -> Entry | None:
    """`ours` plus the run's change (base -> theirs) to one file; None: the file is deleted."""
    if ours == base or ours == theirs:
        return theirs
    if base is None:
        raise _Tangled(f"{path}: deleted in your working tree but created by the run")
    if ours is None:
        raise _Tangled(f"{path}: not committed (untracked or only staged), so its contents are yours")
    if theirs is None:
        raise _Tangled(f"{path}: deleted by the run, but it has uncommitted changes of yours")
    if ours[0] != base[0] and theirs[0] != base[0]:
        raise _Tangled(f"{path}: its mode was changed by both you and the run")
    mode = theirs[0] if ours[0] == base[0] else ours[0]
    if not {ours[0], base[0], theirs[0]} <= set(_REGULAR):
        raise _Tangled(f"{path}: a link or submodule with uncommitted changes of yours")
    if ours[1] == base[1] or theirs[1] == base[1]:
        return (mode, theirs[1] if ours[1] == base[1] else ours[1])
    return (mode, _merge_blobs(repo, path, ours[1], base[1], theirs[1]))


def _carry(
    repo: git.Repo, paths: list[str], ours: dict[str, Entry], base: dict[str, Entry], theirs: dict[str, Entry]
) -> dict[str, Entry | None]:
    """The run's changes (base -> theirs) replayed onto `ours`, path by path.

    Where `ours` and `base` agree (the user had no uncommitted work in the file) the file is taken
    as the run left it; otherwise only the run's lines are merged in. A file whose changes cannot
    be separated refuses the whole result, so nothing of the user's is ever carried along.
    """
    carried: dict[str, Entry | None] = {}
    tangled: list[str] = []
    for path in paths:
        if theirs.get(path) == base.get(path):
            continue  # the run left it as it found it
        try:
            carried[path] = _carry_entry(repo, path, ours.get(path), base.get(path), theirs.get(path))
        except _Tangled as err:
            tangled.append(str(err))
    if tangled:
        raise GitSafetyError("the run's changes cannot be separated from yours: " + "; ".join(tangled))
    return carried


def _tree_with(repo: git.Repo, onto: str | None, entries: Mapping[str, Entry | None]) -> str:
    """The tree of `onto` (None: empty) with these entries set or (None) removed."""
    zero = "0" * (64 if _git(repo, "rev-parse", "--show-object-format").strip() == "sha256" else 40)
    lines = [f"{entry[0]} {entry[1]}\t{path}\0" if entry else f"0 {zero}\t{path}\0" for path, entry in entries.items()]
    with _temp_index(repo, copy=False) as env:
        if onto:
            _git(repo, "read-tree", onto, env=env)
        if lines:
            _git(
                repo,
                "update-index",
                "-z",
                "--index-info",
                env=env,
                stdin="".join(lines).encode("utf-8", "surrogateescape"),
            )
        return _git(repo, "write-tree", env=env).strip()


def parent_of(repo: git.Repo, sha: str) -> str | None:
    """A commit's first parent (a checkpoint's: the HEAD it was taken on), or None for a root commit."""
    return _try(repo, "rev-parse", "--verify", "-q", f"{_commit_of(repo, sha)}^1")


# `git worktree prune` can remove the administrative files of a worktree being added at the same
# moment; adding and removing worktrees of this process take turns.
_WORKTREES = threading.RLock()
# Ref updates and deletions of parallel runs in one repository take turns too: a deletion locks
# packed-refs, which a concurrent update may need.
_REFS = threading.RLock()


@dataclass
class Worktree:
    """A detached worktree of `repo` at `path`, started from commit `base`, for an isolated run.

    `onto` is the commit a branch made from it goes on (None: a root commit, for an unborn
    branch). When `base` is a checkpoint of the user's tree, that is the HEAD it was taken on, so
    the branch holds the run's changes and none of the user's uncommitted work.
    """

    repo: git.Repo
    path: Path
    base: str
    onto: str | None

    @classmethod
    def create(cls, repo: git.Repo, base: str, parent_dir: Path, on_parent: bool = False) -> Worktree:
        """`git worktree add --detach` in a fresh directory under parent_dir (keep it outside the user's tree).

        With `on_parent`, a branch goes on base's parent (base is a checkpoint), else on base.
        """
        sha = _commit_of(repo, base)
        onto = parent_of(repo, sha) if on_parent else sha
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
        return cls(repo=repo, path=path, base=sha, onto=onto)

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
        """Point branch `name` of the main repo at `onto` plus one commit of the run's changes.

        The worktree's changes are committed there too, then replayed onto `onto` file by file
        (see _carry): a file whose changes are tangled with the user's uncommitted work refuses
        the branch. Refuses a branch checked out in any worktree and an existing branch not at
        `onto`, so a user's work is never overwritten.
        """
        ref = check_branch(self.repo, name, self.onto)
        existing = _try(self.repo, "rev-parse", "--verify", "-q", ref)
        done = self.commit(message, paths)
        if self.onto == self.base:
            sha = done
        else:
            changed = changed_paths(self.repo, self.base, done)
            ours = _tree_entries(self.repo, self.onto, changed)
            base, theirs = _tree_entries(self.repo, self.base, changed), _tree_entries(self.repo, done, changed)
            carried = _carry(self.repo, changed, ours, base, theirs)
            tree = _tree_with(self.repo, self.onto, carried)
            unchanged = self.onto is not None and tree == _git(self.repo, "rev-parse", f"{self.onto}^{{tree}}").strip()
            sha = self.onto if unchanged and self.onto else _commit_tree(self.repo, tree, self.onto, message)
        start = self.onto or self.base
        _git(self.repo, "update-ref", "-m", f"editor-agent: branch from {start[:12]}", ref, sha, existing or "")
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


def check_branch(repo: git.Repo, name: str, onto: str | None) -> str:
    """The ref of branch `name` if a run may point it at a commit on `onto`; else a GitSafetyError.

    Refuses a bad name, a branch checked out in any worktree and an existing branch not at `onto`.
    """
    if _try(repo, "check-ref-format", "--branch", name) != name:
        raise GitSafetyError(f"invalid branch name {name!r}")
    ref = f"refs/heads/{name}"
    listing = _git(repo, "worktree", "list", "--porcelain")
    if f"branch {ref}" in listing.splitlines():
        raise GitSafetyError(f"branch {name!r} is checked out in a worktree; not moving it")
    existing = _try(repo, "rev-parse", "--verify", "-q", ref)
    if existing is not None and existing != onto:
        raise GitSafetyError(f"branch {name!r} already exists at {existing[:12]}; not overwriting it")
    return ref


def commit_paths(repo: git.Repo, paths: list[str], message: str, before: str | None = None) -> str:
    """Commit these paths on HEAD; the user's other staging stays as it was.

    Without `before`, the paths are committed as the working tree has them. With `before` (a
    checkpoint taken before a run), only the run's change to each file (before -> working tree)
    is committed, on top of what the user has staged of it: the user's unstaged edits stay
    unstaged and out of the commit, and a file where the two cannot be separated refuses the
    commit (see _carry). The commit is built in a private index, HEAD moves only if it has not
    changed meanwhile, and the user's index entries are then updated for the committed paths
    alone (as `git commit --only` would). No hooks run and the commit is not signed.
    """
    wanted = sorted({_rel(p) for p in paths})
    if not wanted:
        raise GitSafetyError("nothing to commit: no paths given")
    head = _head(repo)
    with _temp_index(repo, copy=False) as env:
        if before or head:
            _git(repo, "read-tree", _commit_of(repo, before) if before else str(head), env=env)
        theirs = _tree_entries(repo, _stage_working_tree(repo, env, wanted), wanted)
    carried: dict[str, Entry | None] = {p: theirs.get(p) for p in wanted}
    if before:
        ours, unmerged = _index_entries(repo, wanted)
        if unmerged:
            raise GitSafetyError(f"not committing {', '.join(sorted(unmerged))}: your index has a merge conflict there")
        carried = _carry(repo, wanted, ours, _tree_entries(repo, before, wanted), theirs)
    tree = _tree_with(repo, head, carried)
    if head and tree == _git(repo, "rev-parse", f"{head}^{{tree}}").strip():
        raise GitSafetyError(f"nothing to commit: {', '.join(wanted)} unchanged since HEAD")
    sha = _commit_tree(repo, tree, head, message)
    subject = message.splitlines()[0] if message.strip() else "editor-agent"
    _git(repo, "update-ref", "-m", f"commit: {subject}", "HEAD", sha, head or "")
    zero = "0" * len(sha)
    lines = [f"0 {zero}\t{p}\0" + (f"{e[0]} {e[1]}\t{p}\0" if e else "") for p, e in sorted(carried.items())]
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
