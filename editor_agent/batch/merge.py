"""Merging task results into the user's working tree, one patch at a time, never clobbering.

`gitsafety.apply_patch` applies a patch cleanly when its context still matches, or else does a
3-way merge that may leave conflict markers. A task's patch is all or nothing here: before it is
applied, the bytes and mode of every file it touches are saved; if anything conflicts, all of them
are put back, so the user's files (and earlier tasks' results) stay exactly as they were and the
task is reported with the conflicting paths. Applied patches are recorded in an undo journal, so
`editor-agent undo` takes the whole batch back out.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import git

from .. import gitsafety
from ..journal import Journal, restore_bytes
from ..workspace import missing_parents


@dataclass(frozen=True)
class _Saved:
    """A file as it was before a merge: bytes (None: absent), permission bits, or a symlink's target."""

    data: bytes | None
    mode: int | None = None
    link: str | None = None

    @classmethod
    def of(cls, path: Path) -> _Saved:
        if path.is_symlink():
            return cls(None, link=os.readlink(path))
        if not path.is_file():
            return cls(None)
        return cls(path.read_bytes(), stat.S_IMODE(path.stat().st_mode))

    def put_back(self, path: Path, top: Path) -> None:
        if path.is_symlink() or (self.link is not None and path.exists()):
            path.unlink()
        if self.link is not None:
            os.symlink(self.link, path)
            return
        restore_bytes(path, self.data)
        if self.data is None:
            parent = path.parent  # directories git created for a new file go too
            while parent != top and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent
        elif self.mode is not None:
            os.chmod(path, self.mode)


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
        self.workspace = Path(os.path.realpath(workspace))
        self.batch_id = batch_id
        self.merged_paths: list[str] = []
        self._journal: Journal | None = None

    def apply(self, patch: str, paths: list[str]) -> MergeOutcome:
        """Apply one task's patch (touching `paths`) completely, or not at all."""
        saved = {path: _Saved.of(self.top / path) for path in paths}
        absent = {path: missing_parents(self.top / path, self.top) for path in paths}
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
            before.put_back(self.top / path, self.top)

    def _record(self, saved: dict[str, _Saved], absent: dict[str, list[Path]]) -> None:
        for path, before in saved.items():
            real = self.top / path
            if before.link is not None or not real.is_file() or self.workspace not in (real.parents):
                continue
            if self._journal is None:
                self._journal = Journal(self.workspace, self.batch_id)
            self._journal.before_write(real, before.data, hashlib.sha256(real.read_bytes()).hexdigest())
            made = [d for d in absent[path] if self.workspace in d.parents and d.is_dir()]
            if made:  # directories git made for a new file: undo takes them away again while empty
                self._journal.before_directories(made)

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
