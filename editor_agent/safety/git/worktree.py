"""Isolated runs: a detached worktree of the user's repository, and a branch of what the run changed in it."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import git

from .carry import _carry, _tree_entries, _tree_with
from .patches import _diff, changed_paths
from .plumbing import (
    _WORKTREES,
    GitSafetyError,
    _commit_of,
    _commit_tree,
    _git,
    _stage_working_tree,
    _temp_index,
    _try,
    parent_of,
)


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
