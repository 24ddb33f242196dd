"""What a session changed: the files it touched, compared with how they were before its first edit."""

from __future__ import annotations

import difflib
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

if TYPE_CHECKING:
    from ..workspace.sandbox import Workspace


class FileChange(BaseModel):
    path: str  # as the model sees it (under the mount)
    before: bytes | None
    after: bytes | None
    relative: str = ""  # relative to the workspace: what a diff names, so `git apply` in the workspace takes it

    @property
    def changed(self) -> bool:
        return self.before != self.after


class ChangeSet:
    """The files a session wrote, each with its bytes before the session's first write to it.

    `files()` compares them with the files now, read through the sandbox without following links:
    a file since replaced by a link (to anywhere) reads as gone, so nothing outside the workspace
    can reach a diff.
    """

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._before: dict[str, tuple[Path, bytes | None]] = {}  # path shown -> (real path, bytes before)

    def note(self, display: str, real: Path, before: bytes | None) -> None:
        """Remember a file's bytes before its first write in this session (later writes keep the first)."""
        self._before.setdefault(display, (real, before))

    def __bool__(self) -> bool:
        return bool(self._before)

    def before(self, display: str) -> bytes | None:
        return self._before[display][1]

    def real_paths(self, displays: Collection[str] | None = None) -> list[Path]:
        """The real paths of the files written (of those shown as `displays`, when given)."""
        return [real for shown, (real, _) in self._before.items() if displays is None or shown in displays]

    def relative(self, display: str) -> str:
        return self.workspace.relative_of(self._before[display][0]) or ""

    def touched(self) -> list[str]:
        """Every path written, as shown to the model, sorted (changed back or not)."""
        return sorted(self._before)

    def now(self, display: str) -> bytes | None:
        """The file's bytes now, through the sandbox, or None if there is no regular file."""
        return self.workspace.tree.read_bytes(self.relative(display))

    def files(self) -> list[FileChange]:
        """Files whose bytes now differ from before the session's first write, sorted by path."""
        changes = []
        for display in self.touched():
            change = FileChange(path=display, before=self.before(display), after=self.now(display),
                                relative=self.relative(display))  # fmt: skip
            if change.changed:
                changes.append(change)
        return changes

    def diff(self) -> str:
        return unified_diff(self.files())

    def restore(self, display: str) -> None:
        """Put one file back as it was before the session (removed if the session created it)."""
        self.workspace.restore(self.workspace.target(self.relative(display)), self.before(display))


def _lines(data: bytes | None) -> list[str]:
    if data is None:
        return []
    return data.decode("utf-8", errors="replace").splitlines(keepends=True)


def unified_diff(changes: list[FileChange]) -> str:
    """A `git diff`-like unified diff of the changes (binary-safe: undecodable bytes shown as U+FFFD)."""
    parts = []
    for change in changes:
        name = change.relative or change.path.lstrip("/")
        old = "/dev/null" if change.before is None else "a/" + name
        new = "/dev/null" if change.after is None else "b/" + name
        diff = difflib.unified_diff(_lines(change.before), _lines(change.after), old, new)
        text = "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in diff)
        parts.append(text)
    return "".join(parts)
