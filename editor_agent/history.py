"""Undo history: per file, the bytes before each edit and a digest of the bytes after it.

The digest lets `undo_edit` refuse when the file changed after the edit (someone else's
work would be lost); a `None` "before" means the edit created the file, so undo removes it.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Entry:
    before: bytes | None
    after_digest: str


class History:
    """A bounded stack of edits per real path."""

    def __init__(self, depth: int = 50) -> None:
        self._stacks: defaultdict[Path, deque[Entry]] = defaultdict(lambda: deque(maxlen=depth))

    def record(self, path: Path, before: bytes | None, after: bytes) -> None:
        self._stacks[path].append(Entry(before, digest(after)))

    def last(self, path: Path) -> Entry | None:
        stack = self._stacks.get(path)
        return stack[-1] if stack else None

    def pop(self, path: Path) -> None:
        self._stacks[path].pop()
