"""What `view` and the failure escalation show: numbered lines clipped to a limit, listings, the guessed-encoding note.

Pure text from what the workspace read; nothing here touches the filesystem.
"""

from __future__ import annotations

from ..errors import ToolError
from ..workspace.listing import Listing
from ..workspace.textfile import TextFile, count_lines, line_offset, number_lines, split_lines
from . import texts as messages
from .matching import describe_lines
from .outline import outline


def numbered(normalized: str, first: int, start: int, end: int, limit: int) -> tuple[str, bool]:
    """The lines in normalized[start:end] (from line `first`), numbered; clipped with a note on paging.

    Returns the text and whether it was clipped.
    """
    if end - start <= limit:
        return number_lines(split_lines(normalized[start:end]), first), False
    segment = normalized[start : start + limit + 1]
    cut = segment.rfind("\n")
    if cut < 0:  # the first line alone is longer than the limit: show its beginning
        length = normalized.find("\n", start)
        length = (len(normalized) if length < 0 else length) - start
        note = messages.CLIPPED_LINE.format(line=first, length=length, shown=limit)
        return number_lines([normalized[start : start + limit]], first) + "\n" + note, True
    lines = segment[:cut].split("\n")
    shown_last = first + len(lines) - 1
    total = count_lines(normalized)
    last = total if end == len(normalized) else normalized.count("\n", 0, end)
    note = messages.CLIPPED.format(
        lines=describe_lines(first, shown_last),
        total=total,
        next_first=shown_last + 1,
        next_last=min(last, shown_last + len(lines)),
    )
    return number_lines(lines, first) + "\n" + note, True


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
