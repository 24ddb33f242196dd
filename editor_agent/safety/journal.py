"""The undo journal of a run: what each file was before the run touched it, written before every write.

Layout, in the state directory (`statedir.py`): `undo/<run_id>/journal.jsonl` plus `blobs/<sha256>`
holding the original bytes. Each line is sealed (an HMAC under the user's key) and fsynced before
the file it describes is written, so even a run killed with `kill -9` can be undone; blobs are
written atomically and verified against their name before any restore.

A journal is data from a directory a repository or a model may have influenced, so `undo_run`
trusts nothing in it: the run id must look like one, every line must carry this user's seal,
every path must be a normalised relative path that resolves inside the workspace under its
policy (hidden and protected paths refused), and every blob must match its digest. Any failure
refuses the whole run before a single file is touched. A file is restored only while it still
holds bytes the run wrote; a file someone changed afterwards is a conflict and left alone
(`force` restores it anyway, still only through the sandbox).
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import stat
from pathlib import Path

from pydantic import BaseModel

from ..errors import UndoError as UndoError  # the class lives in errors.py
from ..workspace.errors import WorkspaceError, human_size
from ..workspace.policy import Policy
from ..workspace.sandbox import Workspace
from .statedir import StateDir, seal, seal_key, sealed

UNDO_DIR = "undo"
RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,79}")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_run_id(run_id: str) -> str:
    if not RUN_ID.fullmatch(run_id) or run_id in (".", ".."):
        raise UndoError(f"{run_id!r} is not a run id")
    return run_id


def normalised_relative(path: object) -> str | None:
    """`path` if it is a normalised relative path with no `..`, else None."""
    if not isinstance(path, str) or not path or "\x00" in path or path.startswith("/"):
        return None
    if posixpath.normpath(path) != path or path == "." or path.split("/")[0] == "..":
        return None
    return path


class Journal:
    """Append-only, sealed record of one run's edits, keyed by workspace-relative path."""

    def __init__(self, root: Path | StateDir, run_id: str, state_dir: Path | None = None) -> None:
        self.state = root if isinstance(root, StateDir) else StateDir.open(root, state_dir)
        self.run_id = check_run_id(run_id)
        self.directory = f"{UNDO_DIR}/{run_id}"
        self.state.tree.mkdirs(f"{self.directory}/blobs")
        self._key = seal_key()
        self._log = self.state.tree.append_handle(f"{self.directory}/journal.jsonl")
        self._known: set[str] = set()

    def _append(self, record: dict[str, object]) -> None:
        payload = json.dumps(record, sort_keys=True)
        line = json.dumps({**record, "seal": seal(self._key, self.run_id, payload)}, sort_keys=True) + "\n"
        os.write(self._log, line.encode())
        os.fsync(self._log)

    def _save_blob(self, data: bytes) -> str:
        """The original bytes under their digest: kept if a whole copy is there, else written atomically."""
        name = _digest(data)
        relative = f"{self.directory}/blobs/{name}"
        existing = self.state.tree.read_bytes(relative)
        if existing is None or _digest(existing) != name:  # absent, or torn by a crash: write it whole
            self.state.tree.replace(relative, [data], 0o600, expect=None)
        return name

    def before_write(self, relative: str, before: bytes | None, after_digest: str) -> None:
        """Record the original (first time only) and the bytes about to be written, durably, before the write."""
        if relative not in self._known:
            original = self._save_blob(before) if before is not None else None
            self._append({"path": relative, "original": original})
            self._known.add(relative)
        self._append({"path": relative, "wrote": after_digest})

    def before_directories(self, relatives: list[str]) -> None:
        """Record directories about to be made for a new file, so that undo can remove them again."""
        for relative in relatives:
            self._append({"made_directory": relative})

    def mark_undone(self) -> None:
        self._append({"undone": True})

    def close(self) -> None:
        if self._log >= 0:
            os.close(self._log)
            self._log = -1


class UndoReport(BaseModel):
    run_id: str
    restored: list[str] = []
    removed: list[str] = []
    removed_directories: list[str] = []
    unchanged: list[str] = []
    conflicts: list[str] = []


class _Run(BaseModel):
    originals: dict[str, str | None] = {}
    wrote: dict[str, set[str]] = {}
    made: list[str] = []
    undone: bool = False


def runs(root: Path, state_dir: Path | None = None) -> list[str]:
    """Run ids with a journal, oldest first (ids sort by time)."""
    try:
        state = StateDir.open(root, state_dir, create=False)
        with state.tree.scan(UNDO_DIR) as entries:
            names = [e.name for e in entries if RUN_ID.fullmatch(e.name) and e.is_dir(follow_symlinks=False)]
    except (OSError, ValueError):
        return []
    return sorted(name for name in names if _has_journal(state, name))


def _has_journal(state: StateDir, run_id: str) -> bool:
    try:
        return stat.S_ISREG(state.tree.lstat(f"{UNDO_DIR}/{run_id}/journal.jsonl").st_mode)
    except OSError:
        return False


def _read(state: StateDir, run_id: str, key: bytes) -> _Run:
    """The run's journal, every line checked; UndoError for anything this tool did not write."""
    data = state.tree.read_bytes(f"{UNDO_DIR}/{run_id}/journal.jsonl")
    if data is None:
        raise UndoError(f"run {run_id}: its journal cannot be read (missing, a link, or not a regular file)")
    run = _Run()
    lines = data.split(b"\n")
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            mark = record.pop("seal")
            valid = isinstance(mark, str) and sealed(key, run_id, json.dumps(record, sort_keys=True), mark)
        except (ValueError, KeyError, AttributeError, TypeError, RecursionError):
            if number == len(lines) or (number == len(lines) - 1 and not lines[-1]):
                break  # a torn last line: the write it announced never happened
            valid = False
        if not valid:
            raise UndoError(
                f"run {run_id}: line {number} of its journal is not sealed by editor-agent for this user "
                "(a journal from a repository, another machine or another program); refusing to undo it"
            )
        if record.get("undone") is True:
            run.undone = True
            continue
        path = record.get("path", record.get("made_directory"))
        relative = normalised_relative(path)
        if relative is None:
            raise UndoError(f"run {run_id}: line {number} names {path!r}, not a path inside the workspace")
        if "made_directory" in record:
            run.made.append(relative)
        elif "original" in record:
            original = record["original"]
            if original is not None and not (isinstance(original, str) and re.fullmatch(r"[0-9a-f]{64}", original)):
                raise UndoError(f"run {run_id}: line {number} has a malformed digest for {relative}")
            run.originals.setdefault(relative, original)
        elif isinstance(record.get("wrote"), str):
            run.wrote.setdefault(relative, set()).add(record["wrote"])
    return run


def _blobs(state: StateDir, run_id: str, run: _Run) -> dict[str, bytes]:
    """Every original the undo needs, each checked against its digest before anything is restored."""
    found: dict[str, bytes] = {}
    for relative, original in sorted(run.originals.items()):
        if original is None or original in found:
            continue
        data = state.tree.read_bytes(f"{UNDO_DIR}/{run_id}/blobs/{original}")
        if data is None:
            raise UndoError(f"run {run_id}: the saved copy of {relative} (blobs/{original[:12]}…) is missing")
        if _digest(data) != original:
            raise UndoError(
                f"run {run_id}: the saved copy of {relative} (blobs/{original[:12]}…, {human_size(len(data))}) "
                "is damaged: its sha256 does not match, so it is not the file as it was; nothing was restored"
            )
        found[original] = data
    return found


def undo_run(
    root: Path,
    run_id: str | None = None,
    force: bool = False,
    *,
    state_dir: Path | None = None,
    policy: Policy | None = None,
) -> UndoReport:
    """Put every file the run changed back as it was before the run; skip files changed since (unless forced)."""
    if run_id is not None:
        check_run_id(run_id)
    workspace = Workspace(root, policy=policy)
    try:
        state = StateDir.open(workspace.root, state_dir, create=False)
    except ValueError as exc:
        raise UndoError(f"no run to undo in {workspace.root}: {exc}") from None
    key = seal_key()
    candidates = runs(workspace.root, state_dir)
    if run_id is None:
        pending = [r for r in candidates if not _read(state, r, key).undone]
        if not pending:
            raise UndoError(f"no run to undo in {workspace.root}")
        run_id = pending[-1]
    check_run_id(run_id)
    if run_id not in candidates:
        raise UndoError(f"no undo journal for run {run_id} in {workspace.root}")
    run = _read(state, run_id, key)
    if run.undone:
        raise UndoError(f"run {run_id} was already undone")
    targets = {}
    for relative in sorted(set(run.originals) | set(run.made)):
        try:
            targets[relative] = workspace.target(relative)
            if relative in run.originals:
                workspace.check_writable(targets[relative])
        except WorkspaceError as error:
            raise UndoError(f"run {run_id}: {error}") from None
    blobs = _blobs(state, run_id, run)
    report = UndoReport(run_id=run_id)
    for relative, original in sorted(run.originals.items()):
        target = targets[relative]
        current = workspace.current_bytes(target) if target.canonical == relative else b""
        now = _digest(current) if current is not None else None
        if target.canonical != relative:  # a link now stands where the file was: not the run's file
            report.conflicts.append(relative)
        elif now == original:
            report.unchanged.append(relative)
        elif (now is None or now not in run.wrote.get(relative, set())) and not force:
            report.conflicts.append(relative)
        else:
            try:
                workspace.restore(target, blobs[original] if original is not None else None)
            except WorkspaceError:
                report.conflicts.append(relative)
                continue
            (report.removed if original is None else report.restored).append(relative)
    for relative in sorted(set(run.made), key=lambda d: d.count("/"), reverse=True):  # deepest first
        target = targets[relative]
        if target.canonical == relative and workspace.remove_directory(target):  # only while empty
            report.removed_directories.append(relative)
    if not report.conflicts:
        journal = Journal(state, run_id)
        journal.mark_undone()
        journal.close()
    return report
