"""The sandbox: the only module that touches the filesystem.

The model sees one virtual root (the mount, `/repo` by default). Every path it sends is mapped
into the workspace directory, resolved through symbolic links and checked to stay inside it;
the workspace policy hides and protects paths by glob. Reads refuse special, oversized and
binary files; writes are atomic (temporary file, fsync, rename), keep the file's mode and owner,
and refuse to replace a file that changed since it was read.
"""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import os
import posixpath
import re
import stat
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pydantic import BaseModel, ConfigDict, Field

from . import images, messages
from .errors import ToolError
from .images import ImageInfo
from .textfile import NotTextError, TextFile

_UMASK = os.umask(0)
os.umask(_UMASK)
_LISTING_CAP = 1000


class Policy(BaseModel):
    """What the model may see and change inside the workspace (globs on workspace-relative paths).

    A glob without `/` matches any single path component (`*.pem` matches `keys/a.pem`); a glob
    with `/` matches a leading part of the path (`build/*` matches `build/x/y`).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    hidden: tuple[str, ...] = (".git", ".editor-agent")
    read_only: tuple[str, ...] = (
        ".env",
        ".env.*",
        "*.pem",
        "*.key",
        "id_rsa*",
        "id_dsa*",
        "id_ecdsa*",
        "id_ed25519*",
        ".netrc",
    )
    max_file_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    max_view_bytes: int = Field(default=256 * 1024 * 1024, gt=0)  # larger files can still be viewed by range
    read_only_workspace: bool = False  # a dry look: every write is refused
    images: bool = True  # `view` of a PNG, JPEG, GIF or WebP file shows the image to the model
    encodings: tuple[tuple[str, str], ...] = ()  # (glob, encoding): files whose legacy encoding is known

    def encoding_for(self, relative: str) -> str | None:
        """The encoding set for the path by the first matching glob, or None to detect it."""
        return next((encoding for glob, encoding in self.encodings if self.match(relative, (glob,))), None)

    def match(self, relative: str, patterns: tuple[str, ...]) -> str | None:
        """The first pattern that matches the relative path, or None."""
        parts = [p for p in relative.split("/") if p and p != "."]
        any_name, has_paths = _name_patterns(patterns)
        if not has_paths and not any(any_name(part) for part in parts):
            return None  # the usual case, decided by one compiled expression per path part
        for pattern in patterns:
            if "/" in pattern.strip("/"):
                pattern = pattern.strip("/")
                if any(fnmatch.fnmatchcase("/".join(parts[: i + 1]), pattern) for i in range(len(parts))):
                    return pattern
            elif any(fnmatch.fnmatchcase(part, pattern.strip("/")) for part in parts):
                return pattern
        return None


@functools.lru_cache(maxsize=64)
def _name_patterns(patterns: tuple[str, ...]) -> tuple[Callable[[str], object], bool]:
    """One compiled test for all the single-name patterns, and whether any pattern spans directories."""
    names = [p.strip("/") for p in patterns if "/" not in p.strip("/")]
    expression = re.compile("|".join(f"(?:{fnmatch.translate(name)})" for name in names) or "(?!)")
    return expression.match, len(names) < len(patterns)


def missing_parents(path: Path, stop: Path | None = None) -> list[Path]:
    """The directories a new file at `path` still needs (not above `stop`), deepest first."""
    missing: list[Path] = []
    parent = path.parent
    while parent != stop and not (parent.exists() or parent.is_symlink()):
        missing.append(parent)
        parent = parent.parent
    return missing


def human_size(size: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Target:
    """A model path, mapped: what to show (`display`), where it is (`real`), and its relative form."""

    display: str
    real: Path
    relative: str


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


def _same_stat(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_ino, a.st_size, a.st_mtime_ns) == (b.st_ino, b.st_size, b.st_mtime_ns)


class Workspace:
    """A directory the model works in, seen by the model under `mount`."""

    def __init__(self, root: str | os.PathLike[str], mount: str = "/repo", policy: Policy | None = None) -> None:
        self.root = Path(os.path.realpath(root))
        if not self.root.is_dir():
            raise NotADirectoryError(f"workspace {root} is not a directory")
        self.mount = posixpath.normpath("/" + mount.strip("/")) if mount.strip("/") else "/"
        self.policy = policy or Policy()
        self._root_text = str(self.root)
        self._root_prefix = self._root_text.rstrip(os.sep) + os.sep

    # --- paths ----------------------------------------------------------------------

    def display(self, relative: str) -> str:
        relative = relative.strip("/")
        if relative in ("", "."):
            return self.mount
        return posixpath.join(self.mount, relative)

    def resolve(self, path: str) -> Target:
        """Map a model path to a real path inside the workspace, or raise ToolError."""
        if not path.strip():
            raise ToolError(messages.PATH_EMPTY.format(mount=self.mount))
        if "\x00" in path:
            raise ToolError(messages.PATH_OUTSIDE.format(path=path.replace("\x00", "\\0"), mount=self.mount))
        if path.startswith("/"):
            normalized = posixpath.normpath(path)
            if self.mount == "/":
                relative = normalized.lstrip("/")
            elif normalized == self.mount or normalized.startswith(self.mount + "/"):
                relative = normalized[len(self.mount) :].lstrip("/")
            else:
                raise ToolError(messages.PATH_OUTSIDE.format(path=path, mount=self.mount))
        else:
            relative = posixpath.normpath(path)
            if relative == ".." or relative.startswith("../"):
                raise ToolError(messages.PATH_OUTSIDE.format(path=path, mount=self.mount))
        relative = "" if relative == "." else relative
        display = self.display(relative)
        real_text = os.path.realpath(os.path.join(self._root_text, relative))  # strings: pathlib costs 5x here
        if real_text == self._root_text:
            real_relative = ""
        elif real_text.startswith(self._root_prefix):
            real_relative = real_text[len(self._root_prefix) :]
        else:
            raise ToolError(messages.PATH_ESCAPES.format(path=display))
        for candidate in (relative, real_relative):
            pattern = self.policy.match(candidate, self.policy.hidden)
            if pattern:
                raise ToolError(messages.PATH_HIDDEN.format(path=display, pattern=pattern))
        real = Path(real_text)
        return Target(display=display, real=real, relative=relative)

    def check_writable(self, target: Target) -> None:
        real_relative = target.real.relative_to(self.root).as_posix()
        for candidate in (target.relative, real_relative):
            pattern = self.policy.match(candidate, self.policy.read_only)
            if pattern:
                raise ToolError(messages.PATH_READ_ONLY.format(path=target.display, pattern=pattern))

    def kind(self, target: Target) -> str:
        """`file`, `directory` or `missing`; special files raise ToolError."""
        try:
            info = os.stat(target.real)
        except (FileNotFoundError, NotADirectoryError):
            return "missing"
        except OSError as exc:
            raise ToolError(messages.IO_READ.format(path=target.display, reason=exc.strerror)) from None
        if stat.S_ISDIR(info.st_mode):
            return "directory"
        if stat.S_ISREG(info.st_mode):
            return "file"
        raise ToolError(messages.PATH_SPECIAL.format(path=target.display, kind=_kind(info.st_mode)))

    def suggest(self, target: Target) -> str | None:
        """A nearby existing path for a missing one (same name elsewhere, or a close name)."""
        parent = target.real.parent
        if parent.is_dir() and (self.root == parent or self.root in parent.parents):
            names = [n for n in os.listdir(parent) if not n.startswith(".")]
            close = fnmatch.filter(names, target.real.name + "*") or [
                n for n in names if n.lower() == target.real.name.lower()
            ]
            if close:
                return posixpath.join(posixpath.dirname(target.display), sorted(close)[0])
        return None

    # --- reading --------------------------------------------------------------------

    def read(self, target: Target, ranged: bool = False) -> Snapshot:
        """Read and decode a regular text file, refusing special, oversized and binary files.

        `ranged` reads for a `view_range`, which may look into files up to `max_view_bytes`.
        """
        with self._open_regular(target) as handle:
            info = os.fstat(handle.fileno())
            limit = (
                max(self.policy.max_file_bytes, self.policy.max_view_bytes) if ranged else self.policy.max_file_bytes
            )
            if info.st_size > limit:
                can_range = not ranged and info.st_size <= self.policy.max_view_bytes
                advice = messages.FILE_TOO_LARGE_RANGE if can_range else messages.FILE_TOO_LARGE_NONE
                raise ToolError(
                    messages.FILE_TOO_LARGE.format(
                        path=target.display, size=human_size(info.st_size), limit=human_size(limit)
                    )
                    + advice
                )
            data = handle.read(info.st_size + 1)  # read(n) allocates n bytes up front: ask for what is there
            if len(data) > info.st_size:  # it grew since fstat: read on, up to the limit
                data += handle.read(limit + 1 - len(data))
        if len(data) > limit:
            raise ToolError(
                messages.FILE_TOO_LARGE.format(
                    path=target.display, size=f"over {human_size(limit)}", limit=human_size(limit)
                )
            )
        try:
            text = TextFile.decode(data, self.policy.encoding_for(target.relative))
        except NotTextError as exc:
            raise ToolError(
                messages.FILE_NOT_TEXT.format(path=target.display, kind=exc.kind, size=human_size(len(data)))
            ) from None
        return Snapshot(data=data, text=text, stat=info)

    def _open_regular(self, target: Target) -> BinaryIO:
        """The file open for reading, never through a link and never blocking; special files refused."""
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(target.real, flags)
        except FileNotFoundError:
            raise ToolError(messages.PATH_NOT_FOUND.format(path=target.display)) from None
        except OSError as exc:
            raise ToolError(messages.IO_READ.format(path=target.display, reason=exc.strerror)) from None
        handle = os.fdopen(fd, "rb")
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            handle.close()
            raise ToolError(messages.PATH_SPECIAL.format(path=target.display, kind=_kind(mode)))
        return handle

    def read_image(self, target: Target) -> tuple[bytes, ImageInfo] | None:
        """The bytes and kind of an image file the model can be shown, or None if it is no such image.

        Only names with an image suffix are looked into; an image over the size limits is an error.
        """
        names = (target.display, target.real.name)
        if not self.policy.images or not any(posixpath.splitext(n)[1].lower() in images.SUFFIXES for n in names):
            return None
        limit = min(images.MAX_BYTES, self.policy.max_file_bytes)
        with self._open_regular(target) as handle:
            size = os.fstat(handle.fileno()).st_size
            data = handle.read(min(size, limit) + 1)
        info = images.identify(data)
        if info is None:
            return None
        if info.too_large or len(data) > limit:
            raise ToolError(
                messages.IMAGE_TOO_LARGE.format(
                    path=target.display, kind=info.kind, width=info.width, height=info.height,
                    size=images.size_text(max(size, len(data))), side=images.MAX_SIDE,
                    limit=images.size_text(limit),
                )
            )  # fmt: skip
        return data, info

    def peek(self, real: Path) -> tuple[bytes | None, os.stat_result | None]:
        """The bytes and stat of a workspace file by real path, or (None, None) if it is gone, not a
        regular file, hidden, or now a link out of the workspace. Never raises."""
        try:
            target = self.resolve(real.relative_to(self.root).as_posix())
            fd = os.open(target.real, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        except (ToolError, OSError, ValueError):
            return None, None
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > self.policy.max_file_bytes:
                return None, None
            return handle.read(), info

    def current_bytes(self, target: Target) -> bytes | None:
        """The file's bytes now, or None if it does not exist (for undo checks)."""
        try:
            with open(target.real, "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            return None

    def check_size(self, target: Target, size: int) -> None:
        """Refuse to write a file larger than the policy's limit (what could not be read back)."""
        if size > self.policy.max_file_bytes:
            limit = human_size(self.policy.max_file_bytes)
            raise ToolError(messages.WRITE_TOO_LARGE.format(path=target.display, size=human_size(size), limit=limit))

    def list_directory(self, target: Target) -> tuple[list[str], int, bool]:
        """Entries up to two levels deep (sorted, no shell), the hidden count, and whether capped."""
        entries = [target.display]
        hidden = 0

        def visible(entry: os.DirEntry[str], relative: str) -> bool:
            nonlocal hidden
            if entry.name.startswith(".") or self.policy.match(relative, self.policy.hidden):
                hidden += 1
                return False
            return True

        def children(directory: Path) -> list[os.DirEntry[str]]:
            try:
                with os.scandir(directory) as it:
                    return sorted(it, key=lambda e: e.name)
            except OSError:
                return []

        for child in children(target.real):
            child_relative = posixpath.join(target.relative, child.name)
            if not visible(child, child_relative):
                continue
            if len(entries) > _LISTING_CAP:
                return entries, hidden, True
            is_directory = child.is_dir(follow_symlinks=False)
            entries.append(self.display(child_relative) + ("/" if is_directory else ""))
            if is_directory:
                for grandchild in children(Path(child.path)):
                    grandchild_relative = posixpath.join(child_relative, grandchild.name)
                    if visible(grandchild, grandchild_relative):
                        if len(entries) > _LISTING_CAP:
                            return entries, hidden, True
                        slash = "/" if grandchild.is_dir(follow_symlinks=False) else ""
                        entries.append(self.display(grandchild_relative) + slash)
        return entries, hidden, False

    # --- writing --------------------------------------------------------------------

    def _temporary(self, directory: Path, name: str, pieces: Sequence[bytes | memoryview], mode: int) -> str:
        fd, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".editor-agent.tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                for piece in pieces:
                    handle.write(piece)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, mode)
        except BaseException:
            os.unlink(temporary)
            raise
        return temporary

    @staticmethod
    def _sync_directory(directory: Path) -> None:
        try:
            fd = os.open(directory, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)

    def replace(self, target: Target, pieces: Sequence[bytes | memoryview], before: Snapshot) -> None:
        """Atomically replace a file read as `before` with the concatenated pieces; refuse if it changed since."""
        self.check_writable(target)
        mode = stat.S_IMODE(before.stat.st_mode)
        if not mode & 0o222:
            raise ToolError(messages.FILE_READ_ONLY.format(path=target.display, mode=oct(mode)))
        try:
            temporary = self._temporary(target.real.parent, target.real.name, pieces, mode)
        except OSError as exc:
            raise ToolError(messages.IO_WRITE.format(path=target.display, reason=exc.strerror)) from None
        try:
            try:
                os.chown(temporary, before.stat.st_uid, before.stat.st_gid)
                os.chmod(temporary, mode)  # again: chown clears setuid and setgid bits
            except OSError:
                pass  # not permitted for a non-owner: the file keeps our ownership, as any editor's would
            if not self._unchanged(target, before):
                raise ToolError(messages.FILE_CHANGED.format(path=target.display))
            os.replace(temporary, target.real)
        except OSError as exc:
            os.unlink(temporary)
            raise ToolError(messages.IO_WRITE.format(path=target.display, reason=exc.strerror)) from None
        except BaseException:
            os.unlink(temporary)
            raise
        self._sync_directory(target.real.parent)

    def _unchanged(self, target: Target, before: Snapshot) -> bool:
        try:
            now = os.stat(target.real)
        except FileNotFoundError:
            return False
        if _same_stat(now, before.stat):
            return True
        return self.current_bytes(target) == before.data

    def create(
        self, target: Target, data: bytes, before_directories: Callable[[list[Path]], None] | None = None
    ) -> list[str]:
        """Create a new file (never replacing one), making missing parents; returns them.

        `before_directories` hears of the directories about to be made (an undo journal), only once
        it is certain they can be.
        """
        self.check_writable(target)
        created: list[str] = []
        missing = missing_parents(target.real)
        parent = missing[-1].parent if missing else target.real.parent
        if not parent.is_dir():
            raise ToolError(
                messages.PARENT_NOT_DIRECTORY.format(
                    path=target.display, parent=self.display(parent.relative_to(self.root).as_posix())
                )
            )
        if missing and before_directories is not None:
            before_directories(missing)
        try:
            for directory in reversed(missing):
                directory.mkdir()
                created.append(self.display(directory.relative_to(self.root).as_posix()))
            temporary = self._temporary(target.real.parent, target.real.name, [data], 0o666 & ~_UMASK)
        except FileExistsError:
            raise ToolError(messages.PARENT_NOT_DIRECTORY.format(path=target.display, parent="a parent")) from None
        except OSError as exc:
            raise ToolError(messages.IO_WRITE.format(path=target.display, reason=exc.strerror)) from None
        try:
            os.link(temporary, target.real)  # fails if the file appeared meanwhile: never clobbers
        except FileExistsError:
            raise ToolError(messages.PATH_EXISTS.format(path=target.display)) from None
        except OSError as exc:
            raise ToolError(messages.IO_WRITE.format(path=target.display, reason=exc.strerror)) from None
        finally:
            os.unlink(temporary)
        self._sync_directory(target.real.parent)
        return created

    def remove(self, target: Target) -> None:
        self.check_writable(target)
        try:
            os.unlink(target.real)
        except OSError as exc:
            raise ToolError(messages.IO_WRITE.format(path=target.display, reason=exc.strerror)) from None
