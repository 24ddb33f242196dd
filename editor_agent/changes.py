"""What a session changed: the files it touched, compared with how they were before its first edit."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

if TYPE_CHECKING:
    from .workspace import Workspace


class FileChange(BaseModel):
    path: str
    before: bytes | None
    after: bytes | None

    @property
    def changed(self) -> bool:
        return self.before != self.after


def collect_changes(workspace: Workspace, originals: dict[str, tuple[Path, bytes | None]]) -> list[FileChange]:
    """Files whose bytes now differ from before the session's first edit, sorted by path.

    Read through the sandbox without following links: a file since replaced by a link (to
    anywhere) reads as gone, so nothing outside the workspace can reach the diff.
    """
    changes = []
    for display, (real, before) in sorted(originals.items()):
        relative = workspace.relative_of(real)
        after = workspace.tree.read_bytes(relative) if relative is not None else None
        change = FileChange(path=display, before=before, after=after)
        if change.changed:
            changes.append(change)
    return changes


def _lines(data: bytes | None) -> list[str]:
    if data is None:
        return []
    return data.decode("utf-8", errors="replace").splitlines(keepends=True)


def unified_diff(changes: list[FileChange]) -> str:
    """A `git diff`-like unified diff of the changes (binary-safe: undecodable bytes shown as U+FFFD)."""
    parts = []
    for change in changes:
        old = "/dev/null" if change.before is None else "a" + change.path
        new = "/dev/null" if change.after is None else "b" + change.path
        diff = difflib.unified_diff(_lines(change.before), _lines(change.after), old, new)
        text = "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in diff)
        parts.append(text)
    return "".join(parts)
