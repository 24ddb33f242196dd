"""A directory tree reached only through directory file descriptors: nothing outside it is touched.

Every operation walks its path one component at a time with `openat(O_NOFOLLOW|O_DIRECTORY)` from
a descriptor held on the top directory, and acts on the last component with `dir_fd=`. A link met
on the way fails the walk (`ELOOP`/`ENOTDIR`), so a directory swapped for a link to somewhere else
between a check and a use can never redirect a read or a write: the check and the use are the same
system call. Only `canonical` follows links, and only links that stay inside the tree.

Writes are atomic (a temporary file beside the target, fsync, rename, fsync of the directory) and
serialised between processes by an advisory lock on the directory; a replacement swaps the files
(`renameat2(RENAME_EXCHANGE)` where the kernel has it) and then checks that nobody wrote to the old
file meanwhile, putting it back if someone did.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import posixpath
import secrets
import signal
import stat
import threading
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

TEMPORARY_SUFFIX = ".editor-agent.tmp"
_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_MAX_LINKS = 40
_RENAME_EXCHANGE = 2


class OutsideError(OSError):
    """The path leads out of the tree: `..` above its top, or a link to a place outside it."""


class ChangedError(OSError):
    """A file was written by someone else while it was being replaced; it was left as they left it."""


def _renameat2() -> Any:
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


_RENAMEAT2 = _renameat2()


def exchange(directory: int, a: str, b: str) -> bool:
    """Swap two names in one directory atomically; False where the system cannot."""
    if _RENAMEAT2 is None:
        return False
    if _RENAMEAT2(directory, os.fsencode(a), directory, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), b)


def split(relative: str) -> list[str]:
    """The components of a normalised relative path (`""` is the top)."""
    return [part for part in relative.split("/") if part and part != "."]


def same_file(a: os.stat_result, b: os.stat_result) -> bool:
    """Whether two stats are of one file with no write between them."""
    return (a.st_ino, a.st_dev, a.st_size, a.st_mtime_ns, a.st_ctime_ns) == (
        b.st_ino,
        b.st_dev,
        b.st_size,
        b.st_mtime_ns,
        b.st_ctime_ns,
    )


def _leases_usable() -> bool:
    """Leases notify their holder with SIGIO, which would end the process unless it is ignored."""
    if not hasattr(fcntl, "F_SETLEASE") or not hasattr(signal, "SIGIO"):
        return False
    if signal.getsignal(signal.SIGIO) == signal.SIG_IGN:
        return True
    if signal.getsignal(signal.SIGIO) != signal.SIG_DFL or threading.current_thread() is not threading.main_thread():
        return False
    signal.signal(signal.SIGIO, signal.SIG_IGN)
    return True


_LEASES = _leases_usable()


def _lease(fd: int) -> bool:
    """Take a read lease on an open file: False where leases are not available here.

    A file someone else holds open for writing cannot be leased: that is a write in progress.
    """
    if not _LEASES:
        return False
    try:
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_RDLCK)
    except OSError as exc:
        if exc.errno == errno.EAGAIN:
            raise ChangedError(errno.EBUSY, "the file is open for writing elsewhere") from None
        return False  # not the owner, a filesystem without leases, ...
    return True


def _lease_broken(fd: int) -> bool:
    """Whether another process has started opening the leased file for writing."""
    return fcntl.fcntl(fd, fcntl.F_GETLEASE) != fcntl.F_RDLCK


def fsync_directory(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.fsync(fd)


def write_new(directory: int, name: str, pieces: Sequence[bytes | memoryview], mode: int) -> None:
    """Create `name` (which must not exist) in `directory` with the pieces, fsynced, with `mode`."""
    fd = os.open(name, _NEW, 0o600, dir_fd=directory)
    try:
        with os.fdopen(fd, "wb", closefd=False) as handle:
            for piece in pieces:
                handle.write(piece)
        os.fsync(fd)
        os.fchmod(fd, mode)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(name, dir_fd=directory)
        raise
    os.close(fd)


def temporary_name(name: str) -> str:
    return f".{name[:80]}.{secrets.token_hex(4)}{TEMPORARY_SUFFIX}"


class Tree:
    """A directory, held open, and the operations that stay inside it."""

    def __init__(self, top: str | os.PathLike[str], fd: int | None = None) -> None:
        """Open `top` (resolved once, now); or adopt `fd`, already open on it, and close it when done."""
        self.top = Path(os.path.realpath(top)) if fd is None else Path(top)
        self.fd = os.open(self.top, _DIRECTORY) if fd is None else fd
        self._top_text = str(self.top)
        weakref.finalize(self, os.close, self.fd)

    # --- walking ----------------------------------------------------------------------

    def canonical(self, relative: str) -> str:
        """The path with links inside the tree followed (a missing tail kept as written).

        Raises OutsideError for a path that leads out of the tree. The result names no links at
        the moment it is computed; every later use walks it without following any.
        """
        done: list[str] = []
        fds = [self.fd]
        todo = split(relative)
        links = 0
        try:
            while todo:
                name = todo.pop(0)
                if name == "..":
                    if not done:
                        raise OutsideError(errno.EACCES, "leads above the workspace")
                    done.pop()
                    os.close(fds.pop())
                    continue
                try:
                    info = os.stat(name, dir_fd=fds[-1], follow_symlinks=False)
                except (FileNotFoundError, NotADirectoryError):
                    rest = posixpath.normpath("/".join([*done, name, *todo]))
                    if rest == ".." or rest.startswith("../"):
                        raise OutsideError(errno.EACCES, "leads above the workspace") from None
                    return "" if rest == "." else rest
                if stat.S_ISLNK(info.st_mode):
                    links += 1
                    if links > _MAX_LINKS:
                        raise OSError(errno.ELOOP, "too many levels of symbolic links")
                    target = os.readlink(name, dir_fd=fds[-1])
                    if target.startswith("/"):
                        if target != self._top_text and not target.startswith(self._top_text.rstrip("/") + "/"):
                            raise OutsideError(errno.EACCES, "a symbolic link leads out of the workspace")
                        while len(fds) > 1:
                            os.close(fds.pop())
                        done = []
                        target = target[len(self._top_text) :]
                    todo = split(target) + todo
                    continue
                done.append(name)
                if todo and stat.S_ISDIR(info.st_mode):
                    fds.append(os.open(name, _DIRECTORY, dir_fd=fds[-1]))
                elif todo:  # a file with more path after it: the use will fail, not escape
                    rest = posixpath.normpath("/".join([*done, *todo]))
                    if rest == ".." or rest.startswith("../"):
                        raise OutsideError(errno.EACCES, "leads above the workspace")
                    return rest
            return "/".join(done)
        finally:
            for fd in fds[1:]:
                os.close(fd)

    @contextlib.contextmanager
    def directory(self, parts: Sequence[str], make: list[str] | None = None) -> Iterator[int]:
        """A descriptor on the directory `parts`, walked without following any link.

        With `make`, missing directories are created (mode 0777 less the umask) and their
        relative paths appended to it.
        """
        fds = [self.fd]
        try:
            for index, name in enumerate(parts):
                if name in ("", ".", ".."):
                    raise OutsideError(errno.EACCES, "not a normalised path")
                try:
                    fds.append(os.open(name, _DIRECTORY, dir_fd=fds[-1]))
                except FileNotFoundError:
                    if make is None:
                        raise
                    os.mkdir(name, dir_fd=fds[-1])
                    make.append("/".join(parts[: index + 1]))
                    fds.append(os.open(name, _DIRECTORY, dir_fd=fds[-1]))
            yield fds[-1]
        finally:
            for fd in fds[1:]:
                os.close(fd)

    @contextlib.contextmanager
    def parent(self, relative: str, make: list[str] | None = None) -> Iterator[tuple[int, str]]:
        """The descriptor of the directory holding `relative`, and its last component."""
        parts = split(relative)
        if not parts:
            raise IsADirectoryError(errno.EISDIR, "the top of the tree", relative)
        with self.directory(parts[:-1], make) as fd:
            yield fd, parts[-1]

    # --- reading ----------------------------------------------------------------------

    def lstat(self, relative: str) -> os.stat_result:
        parts = split(relative)
        if not parts:
            return os.stat(self.fd)
        with self.parent(relative) as (fd, name):
            return os.stat(name, dir_fd=fd, follow_symlinks=False)

    @contextlib.contextmanager
    def open_read(self, relative: str) -> Iterator[int]:
        """A read descriptor on the file (never through a link, never blocking on a FIFO)."""
        with self.parent(relative) as (directory, name):
            fd = os.open(name, _READ, dir_fd=directory)
        try:
            yield fd
        finally:
            os.close(fd)

    def read_bytes(self, relative: str, limit: int | None = None) -> bytes | None:
        """A regular file's bytes, or None if it is missing, not a regular file, a link, or over `limit`."""
        try:
            with self.open_read(relative) as fd:
                info = os.fstat(fd)
                if not stat.S_ISREG(info.st_mode) or (limit is not None and info.st_size > limit):
                    return None
                with os.fdopen(fd, "rb", closefd=False) as handle:
                    return handle.read()
        except OSError:
            return None

    @contextlib.contextmanager
    def scan(self, relative: str) -> Iterator[list[os.DirEntry[str]]]:
        """The entries of a directory, sorted by name; yields while the directory is held open."""
        with self.directory(split(relative)) as fd:
            with os.scandir(fd) as entries:
                yield sorted(entries, key=lambda e: e.name)

    # --- writing ----------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self, directory: int) -> Iterator[None]:
        """Writes into one directory, one process at a time (an advisory lock other tools ignore)."""
        fcntl.flock(directory, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(directory, fcntl.LOCK_UN)

    def replace(
        self,
        relative: str,
        pieces: Sequence[bytes | memoryview],
        mode: int,
        expect: os.stat_result | None,
        owner: tuple[int, int] | None = None,
    ) -> None:
        """Put `pieces` at `relative` atomically.

        With `expect`, the file must still be the one stat'ed as `expect` (else ChangedError, and
        nothing is written); the swap is verified afterwards and undone if someone wrote between
        the check and the swap. Without `expect`, any file there (or none) is replaced.
        """
        with self.parent(relative) as (directory, name):
            temporary = temporary_name(name)
            write_new(directory, temporary, pieces, mode)
            try:
                if owner is not None:
                    with contextlib.suppress(OSError):
                        os.chown(temporary, *owner, dir_fd=directory, follow_symlinks=False)
                        os.chmod(temporary, mode, dir_fd=directory)  # again: chown clears setuid/setgid
                with self.locked(directory):
                    self._swap(directory, name, temporary, expect)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temporary, dir_fd=directory)
            fsync_directory(directory)

    @staticmethod
    def _swap(directory: int, name: str, temporary: str, expect: os.stat_result | None) -> None:
        """Put `temporary` in place of `name`; with `expect`, only over that very file, unwritten.

        The old file is held with a read lease where the system grants one: a process that opens
        it for writing meanwhile waits for the lease, and its pending open makes this swap go back.
        """
        if expect is None:
            os.rename(temporary, name, src_dir_fd=directory, dst_dir_fd=directory)
            return
        try:
            old = os.open(name, _READ, dir_fd=directory)
        except FileNotFoundError:
            raise ChangedError(errno.ESTALE, "the file was removed", name) from None
        try:
            leased = _lease(old)
            if not stat.S_ISREG(os.fstat(old).st_mode) or not same_file(os.fstat(old), expect):
                raise ChangedError(errno.ESTALE, "the file changed", name)
            if not exchange(directory, temporary, name):
                os.rename(temporary, name, src_dir_fd=directory, dst_dir_fd=directory)
                return
            swapped_out = os.stat(temporary, dir_fd=directory, follow_symlinks=False)
            now = os.fstat(old)  # its ctime moved with the rename itself: size and mtime tell of a write
            written = (now.st_size, now.st_mtime_ns) != (expect.st_size, expect.st_mtime_ns)
            if written or swapped_out.st_ino != expect.st_ino or (leased and _lease_broken(old)):
                exchange(directory, temporary, name)  # written, replaced or being opened meanwhile: theirs back
                raise ChangedError(errno.ESTALE, "the file changed", name)
            os.unlink(temporary, dir_fd=directory)  # the old file, while nobody can be opening it to write
        finally:
            os.close(old)

    def create(self, relative: str, pieces: Sequence[bytes | memoryview], mode: int, made: list[str]) -> None:
        """Create a new file, never replacing one, making missing directories (appended to `made`)."""
        with self.parent(relative, made) as (directory, name):
            temporary = temporary_name(name)
            write_new(directory, temporary, pieces, mode)
            try:
                os.link(temporary, name, src_dir_fd=directory, dst_dir_fd=directory, follow_symlinks=False)
            finally:
                os.unlink(temporary, dir_fd=directory)
            fsync_directory(directory)

    def unlink(self, relative: str) -> None:
        with self.parent(relative) as (directory, name):
            os.unlink(name, dir_fd=directory)

    def rmdir(self, relative: str) -> None:
        with self.parent(relative) as (directory, name):
            os.rmdir(name, dir_fd=directory)

    def mkdirs(self, relative: str) -> list[str]:
        """Make the directory and its missing parents; the ones made, shallowest first."""
        made: list[str] = []
        with self.directory(split(relative), made):
            pass
        return made

    def missing_parents(self, relative: str) -> tuple[list[str], str | None]:
        """The directories a new file at `relative` still needs (deepest first), and the nearest existing
        ancestor when it is not a directory (None when it is one)."""
        parts = split(relative)[:-1]
        for depth in range(len(parts), 0, -1):
            try:
                info = self.lstat("/".join(parts[:depth]))
            except FileNotFoundError:
                continue
            missing = ["/".join(parts[:d]) for d in range(len(parts), depth, -1)]
            return missing, None if stat.S_ISDIR(info.st_mode) else "/".join(parts[:depth])
        return ["/".join(parts[:d]) for d in range(len(parts), 0, -1)], None

    def append_handle(self, relative: str, mode: int = 0o600) -> int:
        """A descriptor for appending to a file, created with `mode` if missing (never through a link)."""
        with self.parent(relative) as (directory, name):
            return os.open(name, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, mode,
                           dir_fd=directory)  # fmt: skip
