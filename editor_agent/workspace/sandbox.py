"""The sandbox: the only door to the filesystem for workspace files.

The model sees one virtual root (the mount, `/repo` by default). Every path it sends is mapped
into the workspace directory; links inside the workspace are followed once, when the path is
resolved, and every use walks the resulting link-free path with directory descriptors
(`confined.Tree`), so nothing outside the workspace is ever read or written, even while another
process swaps directories for links. The workspace policy hides and protects paths by glob.
Reads refuse special, oversized and binary files; writes are atomic, keep the file's mode and
owner, and refuse to replace a file that changed since it was read.
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import hashlib
import os
import posixpath
import re
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from . import images, rawlines
from .confined import ChangedError, OutsideError, Tree
from .errors import (
    AlreadyExists,
    FileChanged,
    FileReadOnly,
    FileTooLarge,
    ImageTooLarge,
    NotFound,
    NotText,
    ParentNotDirectory,
    PathChanged,
    PathEmpty,
    PathEscapes,
    PathForeign,
    PathHidden,
    PathOutside,
    PathProtected,
    ReadError,
    SpecialFile,
    WorkspaceError,
    WriteError,
    WriteTooLarge,
)
from .images import ImageInfo
from .policy import Policy
from .textfile import NotTextError, TextFile

_UMASK = os.umask(0)
os.umask(_UMASK)
_FOREIGN = re.compile(r"[A-Za-z]:[\\/]|\\\\")  # C:\x, C:/x, \\server\share: another platform's paths


@dataclass(frozen=True)
class Target:
    """A model path, mapped: what to show (`display`), its relative form as given (`relative`) and
    with links inside the workspace followed (`canonical`), and the real path that names it."""

    display: str
    real: Path
    relative: str
    canonical: str


@dataclass(frozen=True)
class Snapshot:
    """A file as read: its bytes, decoded text and the stat used to notice later changes."""

    data: bytes
    text: TextFile
    stat: os.stat_result

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode):
        return "character device"
    if stat.S_ISBLK(mode):
        return "block device"
    return "special file"


class Workspace:
    """A directory the model works in, seen by the model under `mount`.

    Every file operation goes through `self.tree` (`confined.Tree`): paths are walked with
    directory descriptors, so a link swapped in by another process is refused, never followed.
    """

    def __init__(self, root: str | os.PathLike[str], mount: str = "/repo", policy: Policy | None = None) -> None:
        if not os.path.isdir(root):
            raise NotADirectoryError(f"workspace {root} is not a directory")
        self.tree = Tree(root)
        self.root = self.tree.top
        self.mount = posixpath.normpath("/" + mount.strip("/")) if mount.strip("/") else "/"
        self.policy = policy or Policy()

    # --- paths ----------------------------------------------------------------------

    def display(self, relative: str) -> str:
        relative = relative.strip("/")
        if relative in ("", "."):
            return self.mount
        return posixpath.join(self.mount, relative)

    def resolve(self, path: str) -> Target:
        """Map a model path to a path inside the workspace (links inside it followed), or raise WorkspaceError."""
        if not path.strip():
            raise PathEmpty(path, self.mount)
        if "\x00" in path:
            raise PathOutside(path.replace("\x00", "\\0"), self.mount)
        if _FOREIGN.match(path):
            raise PathForeign(path, self.mount)
        if path.startswith("/"):
            normalized = posixpath.normpath(path)
            if self.mount == "/":
                relative = normalized.lstrip("/")
            elif normalized == self.mount or normalized.startswith(self.mount + "/"):
                relative = normalized[len(self.mount) :].lstrip("/")
            else:
                raise PathOutside(path, self.mount)
        else:
            relative = posixpath.normpath(path)
            if relative == ".." or relative.startswith("../"):
                raise PathOutside(path, self.mount)
        relative = "" if relative == "." else relative
        return self.target(relative)

    def target(self, relative: str) -> Target:
        """The Target of a normalised workspace-relative path (journals, change sets, jobs use this)."""
        display = self.display(relative)
        try:
            canonical = self.tree.canonical(relative)
        except OutsideError:
            raise PathEscapes(display) from None
        except OSError as exc:
            raise ReadError(display, str(exc.strerror or exc)) from None
        for candidate in (relative, canonical):
            pattern = self.policy.match(candidate, self.policy.hidden)
            if pattern:
                raise PathHidden(display, pattern)
        real = self.root / canonical if canonical else self.root
        return Target(display=display, real=real, relative=relative, canonical=canonical)

    def check_writable(self, target: Target) -> None:
        for candidate in (target.relative, target.canonical):
            pattern = self.policy.match(candidate, self.policy.read_only)
            if pattern:
                raise PathProtected(target.display, pattern)

    def failure(self, target: Target, exc: OSError, writing: bool = False) -> WorkspaceError:
        """The error for an OSError met on `target`: a link met mid-walk means the path changed."""
        if isinstance(exc, OutsideError) or exc.errno in (errno.ELOOP, errno.ENOTDIR):
            return PathChanged(target.display)
        if isinstance(exc, FileNotFoundError):
            return NotFound(target.display)
        return (WriteError if writing else ReadError)(target.display, str(exc.strerror or exc))

    def kind(self, target: Target) -> str:
        """`file`, `directory` or `missing`; special files raise SpecialFile."""
        try:
            info = self.tree.lstat(target.canonical)
        except (FileNotFoundError, NotADirectoryError):
            return "missing"
        except OSError as exc:
            raise self.failure(target, exc) from None
        if stat.S_ISDIR(info.st_mode):
            return "directory"
        if stat.S_ISREG(info.st_mode):
            return "file"
        if stat.S_ISLNK(info.st_mode):
            raise PathChanged(target.display)
        raise SpecialFile(target.display, _kind(info.st_mode))

    def existing(self, target: Target) -> str:
        """`file` or `directory`; a missing path raises NotFound with a nearby name if there is one."""
        kind = self.kind(target)
        if kind == "missing":
            raise NotFound(target.display, self.suggest(target))
        return kind

    def suggest(self, target: Target) -> str | None:
        """A nearby existing path for a missing one (same name elsewhere, or a close name)."""
        parent, _, name = target.canonical.rpartition("/")
        try:
            with self.tree.scan(parent) as entries:
                names = [e.name for e in entries if not e.name.startswith(".")]
        except OSError:
            return None
        close = fnmatch.filter(names, name + "*") or [n for n in names if n.lower() == name.lower()]
        if close:
            return posixpath.join(posixpath.dirname(target.display), sorted(close)[0])
        return None

    # --- reading --------------------------------------------------------------------

    def read(self, target: Target, ranged: bool = False) -> Snapshot:
        """Read and decode a regular text file, refusing special, oversized and binary files.

        `ranged` reads for a `view_range`, which may look into files up to `max_view_bytes`.
        """
        return self.decoded(target, *self.read_bytes(target, ranged))

    def read_bytes(self, target: Target, ranged: bool = False) -> tuple[bytes, os.stat_result]:
        """The bytes of a regular file and its stat, refusing special and oversized files as `read` does."""
        limit = max(self.policy.max_file_bytes, self.policy.max_view_bytes) if ranged else self.policy.max_file_bytes
        with self._open_regular(target) as (handle, info):
            if info.st_size > limit:
                can_range = not ranged and info.st_size <= self.policy.max_view_bytes
                raise FileTooLarge(target.display, info.st_size, limit, can_view_range=can_range)
            data = handle.read(info.st_size + 1)  # read(n) allocates n bytes up front: ask for what is there
            if len(data) > info.st_size:  # it grew since fstat: read on, up to the limit
                data += handle.read(limit + 1 - len(data))
        if len(data) > limit:
            raise FileTooLarge(target.display, len(data), limit, growing=True)
        return data, info

    def decoded(self, target: Target, data: bytes, info: os.stat_result) -> Snapshot:
        """`read`'s decode of bytes from `read_bytes`: binary and undecodable files refused."""
        try:
            text = TextFile.decode(data, self.policy.encoding_for(target.relative))
        except NotTextError as exc:
            raise NotText(target.display, exc.kind, len(data)) from None
        return Snapshot(data=data, text=text, stat=info)

    def read_window(
        self, target: Target, view_range: list[int], limit: int, keep_all: bool = False
    ) -> tuple[rawlines.Window | None, os.stat_result]:
        """A `view_range` of a plain UTF-8 file streamed in pieces (`rawlines.scan`; with `keep_all`,
        the window holds every piece); None if it is not such a file, has an encoding set, or the
        range is not in it.

        Oversized files are refused as `read` refuses them.
        """
        most = max(self.policy.max_file_bytes, self.policy.max_view_bytes)
        with self._open_regular(target) as (handle, info):
            if info.st_size > most:
                raise FileTooLarge(target.display, info.st_size, most)
            if self.policy.encoding_for(target.relative) is not None:
                return None, info
            done = 0

            def read(size: int) -> bytes:
                nonlocal done
                piece = handle.read(min(size, most + 1 - done))
                done += len(piece)
                if done > most:  # it grew since fstat
                    raise FileTooLarge(target.display, done, most, growing=True)
                return piece

            return rawlines.scan(read, view_range[0], view_range[1], limit, keep_all), info

    @contextlib.contextmanager
    def _open_regular(self, target: Target) -> Iterator[tuple[BinaryIO, os.stat_result]]:
        """The file open for reading and its stat, never through a link and never blocking; special files refused."""
        try:
            with self.tree.open_read(target.canonical) as fd:
                info = os.fstat(fd)
                if not stat.S_ISREG(info.st_mode):
                    raise SpecialFile(target.display, _kind(info.st_mode))
                with os.fdopen(fd, "rb", closefd=False) as handle:
                    yield handle, info
        except OSError as exc:
            raise self.failure(target, exc) from None

    def read_image(self, target: Target) -> tuple[bytes, ImageInfo] | None:
        """The bytes and kind of an image file the model can be shown, or None if it is no such image.

        Only names with an image suffix are looked into; an image over the size limits is an error.
        """
        names = (target.display, target.real.name)
        if not self.policy.images or not any(posixpath.splitext(n)[1].lower() in images.SUFFIXES for n in names):
            return None
        limit = min(images.MAX_BYTES, self.policy.max_file_bytes)
        with self._open_regular(target) as (handle, info):
            size = info.st_size
            data = handle.read(min(size, limit) + 1)
        image = images.identify(data)
        if image is None:
            return None
        if image.too_large or len(data) > limit:
            raise ImageTooLarge(
                target.display, image.kind, image.width, image.height, max(size, len(data)), images.MAX_SIDE, limit
            )
        return data, image

    def relative_of(self, real: Path) -> str | None:
        """The workspace-relative form of a real path under the root, or None."""
        try:
            return real.relative_to(self.root).as_posix()
        except ValueError:
            return None

    def peek(self, real: Path) -> tuple[bytes | None, os.stat_result | None]:
        """The bytes and stat of a workspace file by real path, or (None, None) if it is gone, not a
        regular file, hidden, too large, or reached through a link. Never raises."""
        relative = self.relative_of(real)
        if relative is None or self.policy.match(relative, self.policy.hidden):
            return None, None
        try:
            with self.tree.open_read(relative) as fd:
                info = os.fstat(fd)
                if not stat.S_ISREG(info.st_mode) or info.st_size > self.policy.max_file_bytes:
                    return None, None
                with os.fdopen(fd, "rb", closefd=False) as handle:
                    return handle.read(), info
        except OSError:
            return None, None

    def current_bytes(self, target: Target) -> bytes | None:
        """The file's bytes now, or None if there is no regular file there (for undo and change checks)."""
        return self.tree.read_bytes(target.canonical)

    def check_size(self, target: Target, size: int) -> None:
        """Refuse to write a file larger than the policy's limit (what could not be read back)."""
        if size > self.policy.max_file_bytes:
            raise WriteTooLarge(target.display, size, self.policy.max_file_bytes)

    # --- writing --------------------------------------------------------------------

    def replace(self, target: Target, pieces: Sequence[bytes | memoryview], before: os.stat_result) -> None:
        """Atomically replace a file read with stat `before` by the concatenated pieces; refuse if it changed since."""
        self.check_writable(target)
        mode = stat.S_IMODE(before.st_mode)
        if not mode & 0o222:
            raise FileReadOnly(target.display, mode)
        owner = (before.st_uid, before.st_gid)
        try:
            self.tree.replace(target.canonical, pieces, mode, expect=before, owner=owner)
        except ChangedError:
            raise FileChanged(target.display) from None
        except OSError as exc:
            raise self.failure(target, exc, writing=True) from None

    def restore(self, target: Target, data: bytes | None) -> None:
        """Put a file back to `data` (keeping its mode), or remove it when `data` is None: for undo and jobs.

        Unlike `replace`, no earlier read is required; the policy's hidden and protected rules still hold.
        """
        self.check_writable(target)
        try:
            if data is None:
                with contextlib.suppress(FileNotFoundError):
                    self.tree.unlink(target.canonical)
                return
            try:
                info = self.tree.lstat(target.canonical)
                mode = stat.S_IMODE(info.st_mode) if stat.S_ISREG(info.st_mode) else 0o666 & ~_UMASK
            except FileNotFoundError:
                mode = 0o666 & ~_UMASK
            made: list[str] = []
            with self.tree.parent(target.canonical, made):
                pass
            self.tree.replace(target.canonical, [data], mode, expect=None)
        except OSError as exc:
            raise self.failure(target, exc, writing=True) from None

    def create(
        self, target: Target, data: bytes, before_directories: Callable[[list[str]], None] | None = None
    ) -> list[str]:
        """Create a new file (never replacing one), making missing parents; returns them as shown to the model.

        `before_directories` hears of the directories about to be made (relative paths, for an undo
        journal), only once it is certain they can be.
        """
        self.check_writable(target)
        missing = self._missing_parents(target)
        if missing and before_directories is not None:
            before_directories(missing)
        made: list[str] = []
        try:
            self.tree.create(target.canonical, [data], 0o666 & ~_UMASK, made)
        except FileExistsError:
            raise AlreadyExists(target.display) from None
        except NotADirectoryError:
            raise ParentNotDirectory(target.display, "a parent") from None
        except OSError as exc:
            raise self.failure(target, exc, writing=True) from None
        return [self.display(relative) for relative in made]

    def _missing_parents(self, target: Target) -> list[str]:
        """The directories a new file still needs (relative, deepest first); a file in the way is an error."""
        try:
            missing, in_the_way = self.tree.missing_parents(target.canonical)
        except OSError as exc:
            raise self.failure(target, exc, writing=True) from None
        if in_the_way is not None:
            raise ParentNotDirectory(target.display, self.display(in_the_way))
        return missing

    def remove(self, target: Target) -> None:
        self.check_writable(target)
        try:
            self.tree.unlink(target.canonical)
        except OSError as exc:
            raise self.failure(target, exc, writing=True) from None

    def remove_directory(self, target: Target) -> bool:
        """Remove an empty directory; False (and nothing done) if it is not empty or not there."""
        self.check_writable(target)
        try:
            self.tree.rmdir(target.canonical)
        except OSError:
            return False
        return True
