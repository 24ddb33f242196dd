"""Merging task results into the user's working tree, one patch at a time, never clobbering.

`safety.git.apply_patch` applies a patch cleanly when its context still matches, or else does a
3-way merge that may leave conflict markers. A task's patch is all or nothing here: before it is
applied, the bytes and mode of every file it touches are saved; if anything conflicts, all of them
are put back, so the user's files (and earlier tasks' results) stay exactly as they were and the
task is reported with the conflicting paths. Applied patches are recorded in an undo journal, so
`editor-agent undo` takes the whole batch back out.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import posixpath
import stat
from dataclasses import dataclass, field
from pathlib import Path

import git

from ..safety import git as gitsafety
from ..safety.journal import Journal
from ..workspace.confined import Tree, split


@dataclass(frozen=True)
class _Saved:
    """A file as it was before a merge: bytes (None: absent), permission bits, or a symlink's target."""

    data: bytes | None
    mode: int | None = None
    link: str | None = None

    @classmethod
    def of(cls, tree: Tree, relative: str) -> _Saved:
        """Read through the tree: a link is saved as a link, never followed."""
        try:
            info = tree.lstat(relative)
        except OSError:
            return cls(None)
        if stat.S_ISLNK(info.st_mode):
            with tree.parent(relative) as (directory, name):
                return cls(None, link=os.readlink(name, dir_fd=directory))
        data = tree.read_bytes(relative) if stat.S_ISREG(info.st_mode) else None
        return cls(data, stat.S_IMODE(info.st_mode) if data is not None else None)

    def put_back(self, tree: Tree, relative: str) -> None:
        with contextlib.suppress(FileNotFoundError, IsADirectoryError):
            if self.link is not None or self.data is None or stat.S_ISLNK(tree.lstat(relative).st_mode):
                tree.unlink(relative)
        if self.link is not None:
            with tree.parent(relative, []) as (directory, name):
                os.symlink(self.link, name, dir_fd=directory)
            return
        if self.data is not None:
            tree.mkdirs(posixpath.dirname(relative))
            tree.replace(relative, [self.data], self.mode if self.mode is not None else 0o644, expect=None)
            return
        parts = split(relative)[:-1]  # directories git created for a new file go too, while empty
        while parts:
            try:
                tree.rmdir("/".join(parts))
            except OSError:
                break
            parts.pop()


def _missing(tree: Tree, relative: str) -> list[str]:
    """The directories a new file at `relative` still needs, deepest first (none when that cannot be told)."""
    try:
        return tree.missing_parents(relative)[0]
    except OSError:
        return []


@dataclass
class MergeOutcome:
    merged: bool
    conflicts: list[str] = field(default_factory=list)  # repository-relative
    error: str | None = None


class Merger:
    """Applies task patches to the working tree of `repo`; the journal lives in `workspace`."""

    def __init__(self, repo: git.Repo, workspace: Path, batch_id: str) -> None:
        self.repo = repo
        self.top = Path(os.path.realpath(repo.working_tree_dir or "."))
        self.tree = Tree(self.top)
        self.workspace = Path(os.path.realpath(workspace))
        self._inside = self.workspace.relative_to(self.top).as_posix() if self.workspace != self.top else ""
        self.batch_id = batch_id
        self.merged_paths: list[str] = []
        self._journal: Journal | None = None

    def apply(self, patch: str, paths: list[str]) -> MergeOutcome:
        """Apply one task's patch (touching `paths`) completely, or not at all."""
        saved = {path: _Saved.of(self.tree, path) for path in paths}
        absent = {path: _missing(self.tree, path) for path in paths}
        try:
            conflicts = gitsafety.apply_patch(self.repo, patch)
        except gitsafety.GitSafetyError as exc:
            self._put_back(saved)
            return MergeOutcome(False, list(paths), str(exc))
        if conflicts:
            self._put_back(saved)
            return MergeOutcome(False, conflicts)
        self._record(saved, absent)
        self.merged_paths.extend(p for p in paths if p not in self.merged_paths)
        return MergeOutcome(True)

    def _put_back(self, saved: dict[str, _Saved]) -> None:
        for path, before in saved.items():
            before.put_back(self.tree, path)

    def _in_workspace(self, path: str) -> str | None:
        """The workspace-relative form of a repository-relative path, or None if outside the workspace."""
        if not self._inside:
            return path
        prefix = self._inside + "/"
        return path[len(prefix) :] if path.startswith(prefix) else None

    def _record(self, saved: dict[str, _Saved], absent: dict[str, list[str]]) -> None:
        for path, before in saved.items():
            relative = self._in_workspace(path)
            after = self.tree.read_bytes(path)
            if before.link is not None or after is None or relative is None:
                continue
            if self._journal is None:
                self._journal = Journal(self.workspace, self.batch_id)
            self._journal.before_write(relative, before.data, hashlib.sha256(after).hexdigest())
            made = [self._in_workspace(d) for d in absent[path]]
            made_inside = [d for d in made if d]
            if made_inside:  # directories git made for a new file: undo takes them away again while empty
                self._journal.before_directories(made_inside)

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
