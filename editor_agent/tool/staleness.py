"""What the model last saw of each file, to notice changes made by anyone else in the meantime.

A file the model viewed or edited is remembered by a stat signature, a digest and (for files up
to 1 MiB) its bytes. Before an edit, or when the watcher reports activity, the current file is
compared with that memory; a difference becomes a short diff for the model's next tool result.
The editor's own writes update the memory, so they are never reported as outside changes.
"""

from __future__ import annotations

import difflib
import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import texts as messages

if TYPE_CHECKING:
    from ..workspace.sandbox import Workspace

KEEP_BYTES = 1 << 20
DIFF_LINES = 40


@dataclass(frozen=True)
class _Seen:
    signature: tuple[int, int, int]
    digest: str
    data: bytes | None


def _signature(info: os.stat_result) -> tuple[int, int, int]:
    return (info.st_ino, info.st_size, info.st_mtime_ns)


def short_diff(before: bytes | None, after: bytes | None, name: str) -> str:
    """A unified diff of at most DIFF_LINES lines (or a size note when the bytes were not kept)."""
    if before is None or after is None:
        return ""
    old = before.decode("utf-8", "replace").splitlines(keepends=True)
    new = after.decode("utf-8", "replace").splitlines(keepends=True)
    lines = list(difflib.unified_diff(old, new, f"{name} (as you last saw it)", f"{name} (now)", n=1))
    shown = [line if line.endswith("\n") else line + "\n" for line in lines[:DIFF_LINES]]
    if len(lines) > DIFF_LINES:
        shown.append(f"... ({len(lines) - DIFF_LINES} more diff lines)\n")
    return "".join(shown)


class SeenFiles:
    """The version of each file the model last saw, keyed by real path."""

    def __init__(self) -> None:
        self._seen: dict[Path, _Seen] = {}

    def remember(
        self,
        path: Path,
        data: bytes | Sequence[bytes | memoryview],
        info: os.stat_result | None = None,
        digest: str | None = None,
    ) -> None:
        """Remember the file as the model now knows it: `data` may be the pieces just written, and
        `digest` their sha256 when the caller already has it (no second pass over a large file)."""
        pieces = [data] if isinstance(data, bytes) else list(data)
        size = sum(len(piece) for piece in pieces)
        if digest is None:
            hasher = hashlib.sha256()
            for piece in pieces:
                hasher.update(piece)
            digest = hasher.hexdigest()
        kept = b"".join(pieces) if size <= KEEP_BYTES else None
        self._seen[path] = _Seen(_signature(info or os.stat(path)), digest, kept)

    def forget(self, path: Path) -> None:
        self._seen.pop(path, None)

    def __contains__(self, path: object) -> bool:
        return path in self._seen

    def changed(self, path: Path, data: bytes | None, info: os.stat_result | None) -> tuple[bool, bytes | None]:
        """Whether the file (now `data`, None if deleted) differs from what the model saw; and the old bytes."""
        seen = self._seen.get(path)
        if seen is None:
            return False, None
        if data is not None and info is not None and _signature(info) == seen.signature:
            return False, seen.data
        if data is not None and hashlib.sha256(data).hexdigest() == seen.digest:
            return False, seen.data
        return True, seen.data

    def paths(self) -> list[Path]:
        return list(self._seen)


class OutsideNotes:
    """Notes for the model on seen files that someone else changed or deleted, each change told once."""

    def __init__(self, workspace: Workspace, seen: SeenFiles) -> None:
        self.workspace = workspace
        self.seen = seen
        self._told: set[tuple[Path, str]] = set()

    def notes(self, touched: Iterable[Path], own: Path | None) -> str:
        """The notes for the files the watcher reported as `touched`, except `own` (the call's own file)."""
        notes = ""
        for path in sorted(touched):
            if path == own or path not in self.seen:
                continue
            data, info = self.workspace.peek(path)  # confined: a file swapped for a link out reads as gone
            changed, old = self.seen.changed(path, data, info)
            key = (path, hashlib.sha256(data).hexdigest() if data is not None else "deleted")
            if not changed or key in self._told:
                continue
            self._told.add(key)
            display = self.workspace.display(path.relative_to(self.workspace.root).as_posix())
            if data is None:
                notes += messages.OUTSIDE_DELETED.format(path=display)
            else:
                notes += messages.OUTSIDE_CHANGED.format(path=display, diff=short_diff(old, data, display))
        return notes
