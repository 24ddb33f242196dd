"""A line range of a plain UTF-8 file, found by streaming its bytes: no decode of the whole file.

A ranged `view` of a large file shows ten lines; decoding all of it first allocates (and faults in)
the file's size twice. Here the file is read in pieces that are checked as they pass (the same
checks `TextFile.decode` would make) and only the range's bytes are kept. Whenever the file is not
plain (a byte-order mark, a NUL, a carriage return, invalid UTF-8) or the range is not inside it,
`scan` gives up with None and the caller takes the general path, so every answer, message and
error stays that path's. `plain_utf8` is the same rule for bytes already read (an exact str_replace).
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from dataclasses import dataclass

from .textfile import BYTE_ORDER_MARKS

CHUNK = 1 << 16  # small enough to come from the heap's reused memory, not freshly mapped pages


@dataclass(frozen=True)
class Window:
    """Lines `first`.. of a file: `head` is the range's first bytes (all of them when `whole`)."""

    head: bytes
    whole: bool
    lines: int  # lines in the whole range (the line model of textfile.count_lines)
    total: int | None  # lines in the file, when counted
    pieces: tuple[bytes, ...] = ()  # the whole file, when asked for


def _line_start(chunk: bytes, newlines: int, start: int = 0) -> int:
    """Offset just after the `newlines`-th line break at or after `start` (the chunk has that many)."""
    for _ in range(newlines):
        start = chunk.index(b"\n", start) + 1
    return start


def plain_utf8(data: bytes) -> bool:
    """Whether `data` is non-empty UTF-8 without a byte-order mark, NUL or carriage return.

    Such bytes decode (as `TextFile.decode` would) to text that needs no line-ending mapping.
    """
    if not data or data.startswith(BYTE_ORDER_MARKS) or b"\x00" in data or b"\r" in data:
        return False
    if data.isascii():
        return True
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for start in range(0, len(data), CHUNK):  # no whole-file `str`, ASCII or not
            decoder.decode(view[start : start + CHUNK])
        decoder.decode(b"", True)
    except UnicodeDecodeError:
        return False
    return True


def scan(read: Callable[[int], bytes], first: int, last: int, limit: int, keep_all: bool = False) -> Window | None:
    """Lines `first`..`last` (-1: to the end) of the file `read` yields, for a view of at most `limit`
    characters; None if it is not plain UTF-8 text or `first` is not a line in it.

    The range's first 4 * (limit + 1) bytes are kept: more than `limit` characters, whatever they
    are. The file's lines are counted only when the range is longer than `limit` bytes (a clipped
    view names the total). With `keep_all`, the window holds every piece read.
    """
    keep, count_over = 4 * (limit + 1), limit
    chunks: list[bytes] | None = [] if keep_all else None
    if first < 1 or (last != -1 and last < first):
        return None
    decoder: codecs.IncrementalDecoder | None = None
    skip = first - 1  # line breaks still to pass before the range starts
    take = -1 if last == -1 else last - first + 1  # line breaks that end the range (-1: none)
    started = closed = counting = False
    head: list[bytes] = []
    kept = size = range_size = range_breaks = after_breaks = 0
    ends_with_break = False
    while chunk := read(CHUNK):
        if chunks is not None:
            chunks.append(chunk)
        if not size and chunk.startswith(BYTE_ORDER_MARKS):
            return None
        size += len(chunk)
        if b"\x00" in chunk or b"\r" in chunk:
            return None
        if not chunk.isascii() or (decoder is not None and decoder.getstate()[0]):
            decoder = decoder or codecs.getincrementaldecoder("utf-8")()
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                return None
        ends_with_break = chunk.endswith(b"\n")
        offset = 0
        if not started:
            breaks = chunk.count(b"\n")
            if breaks < skip:
                skip -= breaks
                continue
            offset, started = _line_start(chunk, skip), True
        if not closed:
            end = len(chunk)
            if take != -1:
                breaks = chunk.count(b"\n", offset)
                if breaks < take:
                    take -= breaks
                else:
                    end, closed = _line_start(chunk, take, offset), True
            piece = chunk[offset:end] if offset or end < len(chunk) else chunk
            range_size += len(piece)
            range_breaks += piece.count(b"\n")
            if kept < keep:
                head.append(piece[: keep - kept])
                kept += len(head[-1])
            counting = closed and range_size > count_over
            if closed and counting:
                after_breaks += chunk.count(b"\n", end)
        elif counting:
            after_breaks += chunk.count(b"\n")
    if decoder is not None:
        try:
            decoder.decode(b"", True)
        except UnicodeDecodeError:
            return None
    if not started or not range_size:  # `first` is past the last line: the general path words the error
        return None
    lines = range_breaks + (0 if closed or ends_with_break else 1)
    total = None
    if not closed or range_size > count_over:
        total = first - 1 + range_breaks + after_breaks + (0 if ends_with_break else 1)
    return Window(b"".join(head), kept == range_size, lines, total, tuple(chunks or ()))
