"""Files only their owner can read: transcripts, patches, reports and journal blobs hold the user's code
and the conversation about it, so the tool creates them mode 0600 whatever the umask allows others.

An existing file keeps its mode (its owner chose it); only a file the tool creates is made private.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

_FLAGS = {"w": os.O_WRONLY | os.O_CREAT | os.O_TRUNC, "a": os.O_WRONLY | os.O_CREAT | os.O_APPEND,
          "x": os.O_WRONLY | os.O_CREAT | os.O_EXCL}  # fmt: skip


def private_open(path: str | os.PathLike[str], mode: str = "w", **options: Any) -> IO[Any]:
    """`open(path, mode, **options)` for writing ("w", "a", "x", each with an optional "b"), created 0600."""
    kind = mode.replace("b", "").replace("t", "")
    if kind not in _FLAGS:
        raise ValueError(f"private_open writes only (w, a, x), not mode {mode!r}")
    fd = os.open(path, _FLAGS[kind] | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0), 0o600)
    return os.fdopen(fd, mode, **options)


def write_private(path: str | os.PathLike[str], data: str | bytes, **options: Any) -> None:
    """Write the whole file (text with `options` such as encoding, or bytes), created 0600."""
    with private_open(path, "wb" if isinstance(data, bytes) else "w", **options) as handle:
        handle.write(data)


def private_dirs(path: str | os.PathLike[str]) -> None:
    """Make the directory and its missing parents; the ones made here are 0700."""
    missing = []
    directory = Path(path)
    while not directory.exists() and directory != directory.parent:
        missing.append(directory)
        directory = directory.parent
    for directory in reversed(missing):
        directory.mkdir(mode=0o700, exist_ok=True)
