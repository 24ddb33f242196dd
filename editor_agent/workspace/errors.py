"""Why the workspace refused a path or a file: typed errors that carry the facts as fields.

The workspace knows nothing of the model: the editor (tool/failures.py) turns these into the
texts the model reads, and every other caller (undo, jobs, change sets) shows `str(error)`, a
one-line message for a person.

    WorkspaceError
    ├── path problems:  PathEmpty, PathOutside, PathForeign, PathEscapes, PathHidden,
    │                   PathProtected, PathChanged, NotFound, IsDirectory, SpecialFile,
    │                   AlreadyExists, ParentNotDirectory
    ├── reading:        ReadError, FileTooLarge, NotText, ImageTooLarge
    └── writing:        WriteError, WriteTooLarge, FileReadOnly, FileChanged, EncodingNotConfirmed
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..errors import EditorAgentError


def human_size(size: int) -> str:
    """A byte count as people read it: `512 bytes`, `1.5 KiB`, `3.2 MiB`."""
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    raise AssertionError("unreachable")


@dataclass(eq=False)
class WorkspaceError(EditorAgentError):
    """A refused path or file operation; `str(error)` is a one-line message for a person."""

    path: str
    template: ClassVar[str] = "{path}: refused by the workspace"

    def __post_init__(self) -> None:
        super().__init__(*vars(self).values())  # args, so the error pickles and compares like others

    def __str__(self) -> str:
        return self.template.format_map(self._facts())

    def _facts(self) -> dict[str, object]:
        return dict(vars(self))


@dataclass(eq=False)
class PathEmpty(WorkspaceError):
    mount: str
    template = "an empty path was given; paths are inside {mount}"


@dataclass(eq=False)
class PathOutside(WorkspaceError):
    mount: str
    template = "{path} is outside the workspace (paths are inside {mount} or relative to it)"


@dataclass(eq=False)
class PathForeign(WorkspaceError):
    """A path in another platform's form (`C:\\foo`, `\\\\server\\share`), which would become a literal name here."""

    mount: str
    template = "{path} is a Windows path; paths here use forward slashes and start at {mount}"


@dataclass(eq=False)
class PathEscapes(WorkspaceError):
    template = "{path} escapes the workspace through a symbolic link"


@dataclass(eq=False)
class PathHidden(WorkspaceError):
    pattern: str
    template = "{path} is hidden by the workspace policy (pattern `{pattern}`)"


@dataclass(eq=False)
class PathProtected(WorkspaceError):
    pattern: str
    template = "{path} is protected by the workspace policy (pattern `{pattern}`) and cannot be changed"


@dataclass(eq=False)
class PathChanged(WorkspaceError):
    template = "{path} changed while it was being used (replaced by a link); nothing was read or written"


@dataclass(eq=False)
class NotFound(WorkspaceError):
    suggestion: str | None = None  # a nearby existing path, when there is one
    template = "{path} does not exist"


@dataclass(eq=False)
class IsDirectory(WorkspaceError):
    template = "{path} is a directory"


@dataclass(eq=False)
class SpecialFile(WorkspaceError):
    kind: str  # e.g. "named pipe (FIFO)"
    template = "{path} is a {kind}, not a regular file"


@dataclass(eq=False)
class AlreadyExists(WorkspaceError):
    template = "{path} already exists"


@dataclass(eq=False)
class ParentNotDirectory(WorkspaceError):
    parent: str
    template = "cannot create {path}: {parent} is a file, not a directory"


@dataclass(eq=False)
class ReadError(WorkspaceError):
    reason: str
    template = "could not read {path}: {reason}"


@dataclass(eq=False)
class WriteError(WorkspaceError):
    reason: str
    template = "could not write {path}: {reason}; the file was left as it was"


@dataclass(eq=False)
class FileTooLarge(WorkspaceError):
    size: int  # bytes; with `growing`, only known to be over the limit
    limit: int
    growing: bool = False  # it grew past the limit while being read
    can_view_range: bool = False  # a `view_range` read (with its higher limit) could show parts of it
    template = "{path} is too large ({size}; the limit is {limit})"

    def size_text(self) -> str:
        return f"over {human_size(self.limit)}" if self.growing else human_size(self.size)

    def _facts(self) -> dict[str, object]:
        return {**vars(self), "size": self.size_text(), "limit": human_size(self.limit)}


@dataclass(eq=False)
class NotText(WorkspaceError):
    kind: str  # what the bytes look like, e.g. "binary data"
    size: int
    template = "{path} is not a text file ({kind}, {size})"

    def _facts(self) -> dict[str, object]:
        return {**vars(self), "size": human_size(self.size)}


@dataclass(eq=False)
class ImageTooLarge(WorkspaceError):
    kind: str
    width: int
    height: int
    size: int
    side: int  # the largest side shown, in pixels
    limit: int  # the largest image shown, in bytes
    template = "{path} is a {kind} image of {width}x{height} pixels, too large to show"


@dataclass(eq=False)
class WriteTooLarge(WorkspaceError):
    size: int
    limit: int
    template = "the new content of {path} would be {size}, over the limit of {limit}"

    def _facts(self) -> dict[str, object]:
        return {**vars(self), "size": human_size(self.size), "limit": human_size(self.limit)}


@dataclass(eq=False)
class FileReadOnly(WorkspaceError):
    mode: int
    template = "{path} is read-only (mode {mode:#o})"


@dataclass(eq=False)
class FileChanged(WorkspaceError):
    template = "{path} changed on disk while it was being edited; nothing was written"


@dataclass(eq=False)
class EncodingNotConfirmed(WorkspaceError):
    """New non-ASCII text for a file whose encoding is only a guess: it could be written as the wrong bytes.

    Raised without a path by the text layer; `at` names the file.
    """

    encoding: str
    char: str
    encodable: bool  # the guessed encoding could hold the character (but may mean something else)
    glob: str = ""  # the path as a policy glob, for the advice on confirming the encoding
    template = "{path} was read as {encoding}, a guess, so new non-ASCII text such as {char!r} is refused"

    def at(self, path: str, glob: str) -> EncodingNotConfirmed:
        """The same refusal, naming the file."""
        return EncodingNotConfirmed(path, self.encoding, self.char, self.encodable, glob)
