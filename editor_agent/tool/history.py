"""Undo history: per file, the bytes before each edit and a digest of the bytes after it.

The digest lets `undo_edit` refuse when the file changed after the edit (someone else's
work would be lost); a `None` "before" means the edit created the file, so undo removes it.
Large "before" copies are kept in a temporary directory instead of memory.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

SPILL_BYTES = 1 << 20


def digest(pieces: Iterable[bytes | memoryview]) -> str:
    hasher = hashlib.sha256()
    for piece in pieces:
        hasher.update(piece)
    return hasher.hexdigest()


@dataclass(frozen=True)
class Entry:
    before: bytes | Path | None  # the bytes, a spill file holding them, or None for a created file
    after_digest: str


class History:
    """A bounded stack of edits per real path."""

    def __init__(self, depth: int = 50) -> None:
        self._stacks: defaultdict[Path, deque[Entry]] = defaultdict(lambda: deque(maxlen=depth))
        self._spill: tempfile.TemporaryDirectory[str] | None = None
        self._count = 0

    def record(
        self, path: Path, before: bytes | None, after: Iterable[bytes | memoryview], after_digest: str | None = None
    ) -> None:
        kept: bytes | Path | None = before
        if before is not None and len(before) > SPILL_BYTES:
            if self._spill is None:
                self._spill = tempfile.TemporaryDirectory(prefix="editor-agent-undo-")
            self._count += 1
            kept = Path(self._spill.name) / f"{self._count}.bin"
            kept.write_bytes(before)
        self._stacks[path].append(Entry(kept, after_digest or digest(after)))

    def last(self, path: Path) -> Entry | None:
        stack = self._stacks.get(path)
        return stack[-1] if stack else None

    @staticmethod
    def before(entry: Entry) -> bytes | None:
        return entry.before.read_bytes() if isinstance(entry.before, Path) else entry.before

    def pop(self, path: Path) -> None:
        entry = self._stacks[path].pop()
        if isinstance(entry.before, Path):
            entry.before.unlink(missing_ok=True)
