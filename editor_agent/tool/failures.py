"""The one place where the workspace's typed errors become the texts the model reads."""

from __future__ import annotations

from ..workspace import errors as ws
from ..workspace.images import size_text
from . import texts as messages


def explain(error: ws.WorkspaceError) -> str:
    """The tool_result text for a refused path or file operation."""
    if isinstance(error, ws.PathEmpty):
        return messages.PATH_EMPTY.format(mount=error.mount)
    if isinstance(error, ws.PathOutside):
        return messages.PATH_OUTSIDE.format(path=error.path, mount=error.mount)
    if isinstance(error, ws.PathForeign):
        return messages.PATH_FOREIGN.format(path=error.path, mount=error.mount)
    if isinstance(error, ws.NotFound):
        hint = messages.PATH_NOT_FOUND_HINT.format(suggestion=error.suggestion) if error.suggestion else ""
        return messages.PATH_NOT_FOUND.format(path=error.path) + hint
    if isinstance(error, ws.FileTooLarge):
        message = messages.FILE_TOO_LARGE.format(
            path=error.path, size=error.size_text(), limit=ws.human_size(error.limit)
        )
        if error.growing:
            return message
        return message + (messages.FILE_TOO_LARGE_RANGE if error.can_view_range else messages.FILE_TOO_LARGE_NONE)
    if isinstance(error, ws.NotText):
        return messages.FILE_NOT_TEXT.format(path=error.path, kind=error.kind, size=ws.human_size(error.size))
    if isinstance(error, ws.ImageTooLarge):
        return messages.IMAGE_TOO_LARGE.format(
            path=error.path, kind=error.kind, width=error.width, height=error.height,
            size=size_text(error.size), side=error.side, limit=size_text(error.limit),
        )  # fmt: skip
    if isinstance(error, ws.WriteTooLarge):
        size, limit = ws.human_size(error.size), ws.human_size(error.limit)
        return messages.WRITE_TOO_LARGE.format(path=error.path, size=size, limit=limit)
    if isinstance(error, ws.FileReadOnly):
        return messages.FILE_READ_ONLY.format(path=error.path, mode=oct(error.mode))
    if isinstance(error, ws.EncodingNotConfirmed):
        return encoding_not_confirmed(error)
    template = _SIMPLE.get(type(error))
    if template is None:  # a new kind of error without its own text yet: still one clear line
        return str(error)
    return template.format_map(vars(error))


def encoding_not_confirmed(error: ws.EncodingNotConfirmed) -> str:
    template = messages.ENCODING_GUESS_NEW_TEXT if error.encodable else messages.ENCODING_GUESS_CANNOT_HOLD
    text = template.format(path=error.path or "the file", encoding=error.encoding, char=error.char)
    return text + messages.ENCODING_CONFIRM.format(glob=error.glob or "PATH", encoding=error.encoding)


_SIMPLE: dict[type[ws.WorkspaceError], str] = {
    ws.PathEscapes: messages.PATH_ESCAPES,
    ws.PathHidden: messages.PATH_HIDDEN,
    ws.PathProtected: messages.PATH_READ_ONLY,
    ws.PathChanged: messages.PATH_CHANGED,
    ws.IsDirectory: messages.PATH_IS_DIRECTORY,
    ws.SpecialFile: messages.PATH_SPECIAL,
    ws.AlreadyExists: messages.PATH_EXISTS,
    ws.ParentNotDirectory: messages.PARENT_NOT_DIRECTORY,
    ws.ReadError: messages.IO_READ,
    ws.WriteError: messages.IO_WRITE,
    ws.FileChanged: messages.FILE_CHANGED,
}
