"""An exact `str_replace` in a plain UTF-8 file, done on its bytes: no decode of the whole file.

On a large file, decoding it to `str` costs as much as finding the edit, and the text is then
thrown away. A plain UTF-8 file (no byte-order mark, NUL or carriage return) does not need it:
UTF-8 is self-synchronising, so a byte match of a whole encoded `old_str` starts and ends on
character boundaries and is exactly a character match; the bytes are spliced, and only the lines
around the edit are decoded for the snippet. Whenever anything else could happen (no match or
several, an empty or blank `old_str`, text that does not encode, a file that is not plain UTF-8),
`exact_edit` gives None and the caller takes the general path, so every answer and message stays
that path's.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ToolError
from ..workspace.errors import EncodingNotConfirmed
from ..workspace.rawlines import plain_utf8
from ..workspace.sandbox import Snapshot, Target
from ..workspace.textfile import lines_back, lines_forward, number_lines, split_lines
from . import texts as messages

SNIPPET_LINES = 4  # lines shown above and below an edit


@dataclass(frozen=True)
class Edit:
    """The file's new content (pieces, the unchanged parts not copied) and the result's numbered snippet."""

    pieces: list[bytes | memoryview]
    snippet: str


def exact_edit(data: bytes, old_str: str, new_str: str | None) -> Edit | None:
    """`old_str` replaced by `new_str` where it occurs exactly once in the plain UTF-8 file `data`;
    None when the general path must decide (and word) what happens."""
    new = new_str or ""
    if not old_str.strip() or old_str == new or "\r" in old_str or "\r" in new:
        return None
    try:
        needle, middle = old_str.encode("utf-8"), new.encode("utf-8")
    except UnicodeEncodeError:
        return None
    start = data.find(needle)
    if start < 0 or data.find(needle, start + 1) >= 0 or not plain_utf8(data):
        return None
    end = start + len(needle)
    view = memoryview(data)
    # The general path's snippet: from 4 lines above the edit to 4 lines below its last line.
    line = data.count(b"\n", 0, start) + 1
    first = lines_back(data, start, SNIPPET_LINES)
    last = lines_forward(data, end, SNIPPET_LINES + 1)
    chunk = data[first:start].decode("utf-8") + new + data[end:last].decode("utf-8")
    snippet = number_lines(split_lines(chunk), max(1, line - SNIPPET_LINES))
    return Edit([view[:start], middle, view[end:]], snippet)


def splice(target: Target, before: Snapshot, start: int, end: int, replacement: str) -> list[bytes | memoryview]:
    """The general path's splice of the decoded file: `text[:start] + replacement + text[end:]` in its encoding,
    or a ToolError when that encoding cannot hold the replacement (or it is only a guess)."""
    try:
        return before.text.splice(before.data, start, end, replacement)
    except EncodingNotConfirmed as exc:
        raise exc.at(target.display, target.relative) from None
    except UnicodeEncodeError as exc:
        char = exc.object[exc.start : exc.end]
        raise ToolError(
            messages.CANNOT_ENCODE.format(path=target.display, encoding=before.text.encoding, char=char)
        ) from None
