"""What `view` and the failure escalation show: numbered lines clipped to a limit, listings, the guessed-encoding note.

Pure text from what the workspace read; nothing here touches the filesystem.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable

from ..errors import ToolError
from ..workspace.listing import Listing
from ..workspace.rawlines import Window
from ..workspace.textfile import TextFile, count_lines, line_offset, number_lines, split_lines
from . import texts as messages
from .matching import describe_lines
from .outline import outline


class _Unknown(Exception):
    """A streamed range does not hold what a message needs: the caller reads the file whole."""


def numbered(normalized: str, first: int, start: int, end: int, limit: int) -> tuple[str, bool]:
    """The lines in normalized[start:end] (from line `first`), numbered; clipped with a note on paging.

    Returns the text and whether it was clipped.
    """
    whole = end - start <= limit
    head = normalized[start:end] if whole else normalized[start : start + limit + 1]

    def first_line_length() -> int:
        length = normalized.find("\n", start)
        return (len(normalized) if length < 0 else length) - start

    def lines() -> tuple[int, int]:
        total = count_lines(normalized)
        return total, total if end == len(normalized) else normalized.count("\n", 0, end)

    return _numbered(head, whole, first, limit, first_line_length, lines)


def _numbered(
    head: str,
    whole: bool,
    first: int,
    limit: int,
    first_line_length: Callable[[], int],
    lines: Callable[[], tuple[int, int]],
) -> tuple[str, bool]:
    """`numbered` from the range's beginning: `head` is all of it when `whole`, else more than `limit` characters.

    `lines` gives the file's line count and the range's last line number, asked only for a clipped view.
    """
    if whole and len(head) <= limit:
        return number_lines(split_lines(head), first), False
    segment = head[: limit + 1]
    cut = segment.rfind("\n")
    if cut < 0:  # the first line alone is longer than the limit: show its beginning
        note = messages.CLIPPED_LINE.format(line=first, length=first_line_length(), shown=limit)
        return number_lines([head[:limit]], first) + "\n" + note, True
    shown = segment[:cut].split("\n")
    shown_last = first + len(shown) - 1
    total, last = lines()
    note = messages.CLIPPED.format(
        lines=describe_lines(first, shown_last),
        total=total,
        next_first=shown_last + 1,
        next_last=min(last, shown_last + len(shown)),
    )
    return number_lines(shown, first) + "\n" + note, True


def whole_file(display: str, text: TextFile, glob: str, python: bool, limit: int) -> str:
    """`view` of a whole text file: numbered (clipped with an outline when long), or a note that it is empty."""
    normalized = text.normalized
    if not normalized:
        return messages.VIEW_EMPTY_FILE.format(path=display)
    body, clipped = numbered(normalized, 1, 0, len(normalized), limit)
    found = outline(normalized, python) if clipped else ""
    return (
        messages.VIEW_FILE.format(path=display, body=body)
        + (messages.OUTLINE.format(outline=found).lstrip("\n") + "\n" if found else "")
        + encoding_note(display, text, glob)
    )


def file_range(display: str, text: TextFile, glob: str, view_range: list[int], limit: int) -> str:
    """`view` of lines `first`..`last` (-1: to the end); a range past the end is clamped, with a note."""
    normalized = text.normalized
    first, last = view_range
    start = line_offset(normalized, first) if first >= 1 else 0
    if first < 1 or start >= len(normalized):
        valid = [1, count_lines(normalized)]
        raise ToolError(messages.VIEW_RANGE_FIRST.format(view_range=view_range, first=first, valid=valid))
    if last != -1 and last < first:
        raise ToolError(messages.VIEW_RANGE_ORDER.format(view_range=view_range, first=first, last=last))
    end = len(normalized) if last == -1 else line_offset(normalized, last + 1, first, start)
    note = ""
    if last != -1 and end == len(normalized):
        total = first - 1 + count_lines(normalized[start:])
        if last > total:
            note = messages.VIEW_RANGE_CLAMPED.format(lines=total, first=first)
    body, _ = numbered(normalized, first, start, end, limit)
    return messages.VIEW_FILE.format(path=display, body=body) + note + encoding_note(display, text, glob)


def plain_range(display: str, window: Window, view_range: list[int], limit: int) -> str | None:
    """`file_range` of a plain UTF-8 file from the streamed range alone; None when that is not enough."""
    first, last = view_range
    note = ""
    if last != -1 and window.total is not None and last > window.total:
        note = messages.VIEW_RANGE_CLAMPED.format(lines=window.total, first=first)
    head = codecs.getincrementaldecoder("utf-8")().decode(window.head, final=window.whole)

    def first_line_length() -> int:
        length = head.find("\n")
        if length < 0 and not window.whole:
            raise _Unknown
        return len(head) if length < 0 else length

    def lines() -> tuple[int, int]:
        assert window.total is not None  # counted for every range longer than the limit
        return window.total, first - 1 + window.lines

    try:
        body, _ = _numbered(head, window.whole, first, limit, first_line_length, lines)
    except _Unknown:
        return None
    return messages.VIEW_FILE.format(path=display, body=body) + note


def encoding_note(display: str, text: TextFile, glob: str) -> str:
    """For a view: that the encoding is a guess and how to confirm it (empty when it is not a guess)."""
    if not text.assumed:
        return ""
    return messages.ENCODING_GUESS_VIEW.format(path=display, encoding=text.encoding, glob=glob)


def directory(display: str, listing: Listing) -> str:
    """`view` of a directory: its entries two levels deep, with what was left out."""
    lines = []
    for entry in listing.entries:
        line = entry.display + ("/" if entry.directory else "")
        if entry.unreadable is not None:
            line += messages.VIEW_DIRECTORY_UNREADABLE.format(reason=entry.unreadable)
        lines.append(line)
    content = messages.VIEW_DIRECTORY.format(path=display, body="\n".join(lines))
    if listing.capped:
        content += messages.VIEW_DIRECTORY_CAPPED.format(count=len(listing.entries) - 1)
    if listing.hidden:
        content += messages.VIEW_HIDDEN_COUNT.format(count=listing.hidden, path=display)
    return content
