"""The tool's own state (undo journals, transcripts, patches, batch records): private, and its own.

By default it is `<workspace>/.editor-agent/`; `--state-dir DIR` puts it elsewhere (a read-only
checkout, a shared CI workspace). A state directory that is a link, owned by someone else or
writable by everyone is refused: a repository or another user could otherwise point the tool's
writes anywhere. Everything inside is reached through a `confined.Tree` and created 0600/0700.

Records that later drive writes to the user's files (undo journals) carry a seal: an HMAC under a
per-user key kept outside every workspace (`$XDG_STATE_HOME/editor-agent/seal.key`). A journal
committed to a repository, or written by anyone or anything but this tool for this user, does not
verify and is refused.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

from ..errors import StateError as StateError  # the class lives in errors.py
from ..workspace.confined import Tree

STATE_DIRECTORY = ".editor-agent"
_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _key_path() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "editor-agent" / "seal.key"


def seal_key() -> bytes:
    """This user's sealing key: 32 random bytes, made on first use (mode 0600).

    It is written whole to a temporary file and then linked into place, so a crash never leaves
    a short key that would be used (a short or empty key would make seals easy to forge).
    StateError, one line, when it cannot be read or made.
    """
    path = _key_path()
    advice = "set XDG_STATE_HOME to a directory of your own"
    try:
        data: bytes | None = path.read_bytes()
    except FileNotFoundError:
        data = None
    except OSError as exc:
        raise StateError(f"cannot read the undo journal's key {path}: {exc.strerror}; {advice}") from None
    if data is not None and len(data) >= 32:
        return data
    temporary = path.with_name(f".seal.key.{secrets.token_hex(4)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(32))
            handle.flush()
            os.fsync(handle.fileno())
        if data is not None:
            os.replace(temporary, path)  # a damaged key: journals sealed with it could not be trusted anyway
        else:
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass  # made by a process beside this one: use theirs
    except OSError as exc:
        raise StateError(f"cannot make the undo journal's key {path}: {exc.strerror}; {advice}") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
    data = path.read_bytes()
    if len(data) < 32:
        raise StateError(f"the undo journal's key {path} is damaged (only {len(data)} bytes); remove it")
    return data


def seal(key: bytes, context: str, payload: str) -> str:
    return hmac.new(key, f"{context}\n{payload}".encode(), hashlib.sha256).hexdigest()


def sealed(key: bytes, context: str, payload: str, mark: str) -> bool:
    return hmac.compare_digest(seal(key, context, payload), mark)


class StateDir:
    """An opened state directory; `tree` is the only way in."""

    def __init__(self, path: Path, tree: Tree) -> None:
        self.path = path
        self.tree = tree

    @classmethod
    def open(cls, workspace: str | os.PathLike[str], location: str | os.PathLike[str] | None = None,
             create: bool = True) -> StateDir:  # fmt: skip
        """The state directory of a workspace: `location`, or `.editor-agent` in it; made 0700 if missing."""
        if location is not None:
            path = Path(os.path.abspath(location))
            parent, name = path.parent, path.name
            if create:
                parent.mkdir(parents=True, exist_ok=True)
            parent_fd = os.open(parent, _DIRECTORY & ~os.O_NOFOLLOW)
            path = Path(os.path.realpath(parent)) / name
        else:
            parent_fd = os.open(os.path.realpath(workspace), _DIRECTORY)
            name = STATE_DIRECTORY
            path = Path(os.path.realpath(workspace)) / name
        try:
            try:
                fd = os.open(name, _DIRECTORY, dir_fd=parent_fd)
            except FileNotFoundError:
                if not create:
                    raise StateError(f"there is no state directory {path}") from None
                try:
                    os.mkdir(name, 0o700, dir_fd=parent_fd)
                except FileExistsError:
                    pass
                fd = os.open(name, _DIRECTORY, dir_fd=parent_fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise StateError(
                        f"the state directory {path} is a symbolic link or not a directory; refusing to use it "
                        "(remove it, or give --state-dir DIR)"
                    ) from None
                raise StateError(f"cannot open the state directory {path}: {exc.strerror}") from None
        finally:
            os.close(parent_fd)
        info = os.fstat(fd)
        problem = None
        if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
            problem = f"is owned by user {info.st_uid}, not by you"
        elif info.st_mode & stat.S_IWOTH:
            problem = "is writable by every user"
        if problem:
            os.close(fd)
            raise StateError(f"the state directory {path} {problem}; refusing to use it (or give --state-dir DIR)")
        return cls(path, Tree(path, fd=fd))

    def write(self, relative: str, data: bytes) -> Path:
        """Write a state file whole (atomically, mode 0600), its directories made inside; its path."""
        path = self.file_path(relative)
        self.tree.replace(relative, [data], 0o600, expect=None)
        return path

    def file_path(self, relative: str) -> Path:
        """Where a new state file goes, its directories made inside the state directory (never through a link)."""
        parent, _, _ = relative.rpartition("/")
        self.tree.mkdirs(parent)
        return self.path / relative
