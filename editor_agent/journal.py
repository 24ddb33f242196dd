"""The undo journal of a run: what each file was before the run touched it, written before every write.

Layout: `<workspace>/.editor-agent/undo/<run_id>/journal.jsonl` plus `blobs/<sha256>` holding the
original bytes. Each line is fsynced before the file it describes is written, so even a run killed
with `kill -9` can be undone. `undo_run` restores a file only while it still holds bytes the run
wrote; a file someone changed afterwards is reported as a conflict and left alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from pathlib import Path

from pydantic import BaseModel

UNDO_DIR = ".editor-agent/undo"


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fsync_write(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


class Journal:
    """Append-only record of one run's edits, keyed by workspace-relative path."""

    def __init__(self, root: Path, run_id: str) -> None:
        self.root = Path(os.path.realpath(root))
        self.directory = self.root / UNDO_DIR / run_id
        (self.directory / "blobs").mkdir(parents=True, exist_ok=True)
        self._log = open(self.directory / "journal.jsonl", "a", encoding="utf-8")  # noqa: SIM115 - see close()
        self._known: set[str] = set()

    def _append(self, record: dict[str, object]) -> None:
        self._log.write(json.dumps(record) + "\n")
        self._log.flush()
        os.fsync(self._log.fileno())

    def before_write(self, real: Path, before: bytes | None, after_digest: str) -> None:
        """Record the original (first time only) and the bytes about to be written, durably, before the write."""
        relative = real.relative_to(self.root).as_posix()
        if relative not in self._known:
            original = None
            if before is not None:
                original = _digest(before)
                blob = self.directory / "blobs" / original
                if not blob.exists():
                    _fsync_write(blob, before)
            self._append({"path": relative, "original": original})
            self._known.add(relative)
        self._append({"path": relative, "wrote": after_digest})

    def before_directories(self, reals: list[Path]) -> None:
        """Record directories about to be made for a new file, so that undo can remove them again."""
        for real in reals:
            self._append({"made_directory": real.relative_to(self.root).as_posix()})

    def close(self) -> None:
        self._log.close()


class UndoReport(BaseModel):
    run_id: str
    restored: list[str] = []
    removed: list[str] = []
    removed_directories: list[str] = []
    unchanged: list[str] = []
    conflicts: list[str] = []


def runs(root: Path) -> list[str]:
    """Run ids with a journal, oldest first (ids sort by time)."""
    base = Path(root) / UNDO_DIR
    return sorted(p.name for p in base.iterdir() if (p / "journal.jsonl").is_file()) if base.is_dir() else []


def _read(directory: Path) -> tuple[dict[str, str | None], dict[str, set[str]], bool, list[str]]:
    originals: dict[str, str | None] = {}
    wrote: dict[str, set[str]] = {}
    made: list[str] = []
    undone = False
    with open(directory / "journal.jsonl", encoding="utf-8") as handle:
        for line in handle:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                break  # a torn last line: the write it announced never happened
            if record.get("undone"):
                undone = True
            elif "original" in record:
                originals.setdefault(record["path"], record["original"])
            elif "wrote" in record:
                wrote.setdefault(record["path"], set()).add(record["wrote"])
            elif "made_directory" in record:
                made.append(record["made_directory"])
    return originals, wrote, undone, made


def restore_bytes(path: Path, data: bytes | None) -> None:
    """Put a file back to `data` atomically (keeping its mode), or remove it when `data` is None."""
    if data is None:
        path.unlink(missing_ok=True)
    else:
        _restore(path, data)


def _restore(path: Path, data: bytes) -> None:
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o644
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".editor-agent.tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def undo_run(root: Path, run_id: str | None = None, force: bool = False) -> UndoReport:
    """Put every file the run changed back as it was before the run; skip files changed since (unless forced)."""
    root = Path(os.path.realpath(root))
    candidates = runs(root)
    if run_id is None:
        pending = [r for r in candidates if not _read(root / UNDO_DIR / r)[2]]
        if not pending:
            raise ValueError(f"no run to undo in {root}")
        run_id = pending[-1]
    directory = root / UNDO_DIR / run_id
    if run_id not in candidates:
        raise ValueError(f"no undo journal for run {run_id} in {root}")
    originals, wrote, undone, made = _read(directory)
    if undone:
        raise ValueError(f"run {run_id} was already undone")
    report = UndoReport(run_id=run_id)
    for relative, original in sorted(originals.items()):
        path = root / relative
        current = path.read_bytes() if path.is_file() else None
        now = _digest(current) if current is not None else None
        if now == original:
            report.unchanged.append(relative)
        elif (now is None or now not in wrote.get(relative, set())) and not force:
            report.conflicts.append(relative)
        elif original is None:
            if current is not None:
                path.unlink()
            report.removed.append(relative)
        else:
            _restore(path, (directory / "blobs" / original).read_bytes())
            report.restored.append(relative)
    for relative in sorted(set(made), key=lambda d: d.count("/"), reverse=True):  # deepest first
        try:
            (root / relative).rmdir()  # only while empty: anything someone put there stays
        except OSError:
            continue
        report.removed_directories.append(relative)
    if not report.conflicts:
        with open(directory / "journal.jsonl", "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"undone": True}) + "\n")
    return report
