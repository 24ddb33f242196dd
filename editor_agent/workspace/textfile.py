"""Lossless text form of a file: decode, keep every byte's meaning, encode back exactly.

The editor works on `str`, but a file is bytes. `TextFile` remembers how the bytes were
spelled (encoding, byte-order mark, line endings, final newline) so that writing the text
back produces the original bytes everywhere the edit did not touch.

The line model used by every command lives here too: a file has N lines, where N is the
number of line breaks plus one if the file ends in a non-empty unterminated line. There is
no phantom empty line after a final newline.
"""

from __future__ import annotations

import codecs
import operator
import threading
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, AnyStr, cast

from .errors import EncodingNotConfirmed

# Byte-order marks we recognise, longest first so UTF-32 wins over UTF-16.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
BYTE_ORDER_MARKS = tuple(bom for bom, _ in _BOMS)

# Control characters that almost never appear in text (tab, LF, FF, CR and ESC excluded).
_BINARY_CONTROLS = bytes(set(range(0x20)) - {0x08, 0x09, 0x0A, 0x0C, 0x0D, 0x1B})

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"%PDF-", "PDF document"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"\x7fELF", "ELF executable"),
    (b"\x1f\x8b", "gzip archive"),
)

_LINE_CHUNK = 1 << 16
# Codecs in which one character is always one byte, so text offsets are byte offsets.
_SINGLE_BYTE_PREFIXES = ("latin", "iso8859", "iso-8859", "cp125", "windows-125", "mac-", "koi8", "ascii")


class NotTextError(ValueError):
    """The bytes are not a text file the editor can safely round-trip."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def _refuse_binary(data: bytes) -> None:
    """Raise NotTextError when a sample is full of control characters that text almost never has."""
    sample = data[:8192]
    if sum(sample.count(c) for c in _BINARY_CONTROLS) > len(sample) // 20:
        raise NotTextError(describe_binary(data))


def describe_binary(data: bytes) -> str:
    """Name what a binary file probably is, for the model's error message."""
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            return kind
    return "binary data"


_NON_LATIN_SCRIPTS = ("Cyrillic", "Greek", "Arabic", "Hebrew", "Thai", "CJK", "Hangul", "Hiragana", "Katakana",
                      "Armenian", "Georgian", "Devanagari")  # fmt: skip

# A detection is trusted only when the detector recognised a language in clean text (short texts
# never get there: any code page reads "# Комментарий" as something) and no other reading of the
# bytes comes close on both measures.
_MAX_CHAOS = 0.1
_MIN_COHERENCE = 0.2
_RIVAL_CHAOS = 0.1
_RIVAL_COHERENCE = 0.15


def _round_trips(data: bytes, encoding: str | None) -> bool:
    if not encoding:
        return False
    try:
        return data.decode(encoding).encode(encoding) == data
    except (UnicodeError, LookupError):
        return False


def _detect(data: bytes) -> tuple[str, bool]:
    """The encoding of non-UTF-8 bytes and whether the detection is sure; always one that round-trips.

    A sure detection is taken as it is. Otherwise the guess is the detector's when it found another
    script than Latin (Cyrillic, Greek, ...), else Windows-1252, the usual one (short Latin-script
    texts fit several code pages equally well: French in cp1250 reads "Trčs"), else latin-1.
    """
    guess = None
    try:
        from charset_normalizer import from_bytes

        matches = list(from_bytes(data))
        best = matches[0] if matches else None
        if best is not None and _sure(best, matches[1:]) and _round_trips(data, best.encoding):
            return best.encoding, True
        if best is not None and any(s in a for a in best.alphabets for s in _NON_LATIN_SCRIPTS):
            guess = best.encoding
    except Exception:  # detection is a nicety; cp1252 and latin-1 below always work
        guess = None
    for encoding in (guess, "cp1252"):
        if _round_trips(data, encoding):
            return str(encoding), False
    return "latin-1", False  # maps every byte to one code point: always lossless


def _sure(best: Any, others: list[Any]) -> bool:
    """Whether the detector's best reading is clean, in a recognised language, and has no close rival."""
    if best.chaos > _MAX_CHAOS or best.coherence < _MIN_COHERENCE or not best.languages:
        return False
    rivals = [
        other
        for other in others
        if other.chaos <= best.chaos + _RIVAL_CHAOS and other.coherence >= best.coherence - _RIVAL_COHERENCE
    ]
    return all(str(other) == str(best) for other in rivals)


def _is_wide_unicode(encoding: str) -> bool:
    return codecs.lookup(encoding).name.startswith(("utf-16", "utf-32"))


def _added_text(old: str, new: str) -> str:
    """What `new` adds over the `old` it replaces: `new` without the start and end the two share."""
    limit = min(len(old), len(new))
    head = 0
    while head < limit and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < limit - head and old[len(old) - 1 - tail] == new[len(new) - 1 - tail]:
        tail += 1
    return new[head : len(new) - tail]


def _unfaithful(text: str, encoding: str) -> UnicodeEncodeError | None:
    """The first character of `text` that the encoding writes as bytes that read back as something else."""
    for index, char in enumerate(text):
        if not char.isascii() and char.encode(encoding).decode(encoding) != char:
            return UnicodeEncodeError(encoding, text, index, index + 1, "does not read back as written")
    return None


@dataclass
class TextFile:
    """Decoded text (original line endings kept) plus how to turn it back into bytes.

    `assumed` marks an encoding that is only a guess (a legacy code page neither set for the path
    nor detected for sure): its text may be shown, but new non-ASCII text is not written in it.
    """

    text: str
    encoding: str = "utf-8"
    bom: bytes = b""
    byte_length: int = field(default=-1, compare=False)  # bytes after the BOM, when known
    assumed: bool = field(default=False, compare=False)

    @property
    def one_byte_per_char(self) -> bool:
        """Whether text offsets map 1:1 to byte offsets (after the BOM): ASCII UTF-8 or single-byte codecs."""
        if len(self.text) != self.byte_length:
            return False
        name = codecs.lookup(self.encoding).name
        return name == "utf-8" or name.startswith(_SINGLE_BYTE_PREFIXES)

    def splice(self, data: bytes, start: int, end: int, replacement: str) -> list[bytes | memoryview]:
        """The bytes of `text[:start] + replacement + text[end:]`, as pieces (no copy of the rest when possible).

        Raises UnicodeEncodeError if the file's encoding cannot hold the replacement, or would write
        bytes that read back as other text; EncodingNotConfirmed if the encoding is a guess and the
        replacement adds non-ASCII text.
        """
        added = _added_text(self.text[start:end], replacement) if self.assumed and not replacement.isascii() else ""
        try:
            middle = replacement.encode(self.encoding)
        except UnicodeEncodeError as exc:
            if added:
                raise EncodingNotConfirmed("", self.encoding, exc.object[exc.start : exc.end], False) from None
            raise
        if added and not added.isascii():
            raise EncodingNotConfirmed("", self.encoding, next(c for c in added if not c.isascii()), True)
        if self.encoding != "utf-8" and not replacement.isascii():
            unfaithful = _unfaithful(replacement, self.encoding)
            if unfaithful is not None:
                raise unfaithful
        if self.one_byte_per_char:
            offset = len(self.bom)
            view = memoryview(data)
            return [view[: offset + start], middle, view[offset + end :]]
        pieces: list[bytes | memoryview] = [
            self.bom,
            self.text[:start].encode(self.encoding),
            middle,
            self.text[end:].encode(self.encoding),
        ]
        if not self.bom and self.encoding != "utf-8":  # a multi-byte code page: check the joined bytes read back
            intended = self.text[:start] + replacement + self.text[end:]
            if b"".join(pieces).decode(self.encoding, "replace") != intended:
                raise UnicodeEncodeError(self.encoding, replacement, 0, len(replacement), "does not read back")
        return pieces

    @classmethod
    def decode(cls, data: bytes, encoding: str | None = None) -> TextFile:
        """The text of `data`: by its byte-order mark, else in `encoding` (set for the path) if given,
        else UTF-8, else a legacy code page (sure, or `assumed`). Raises NotTextError for binary data."""
        for bom, bom_encoding in _BOMS:
            if data.startswith(bom):
                try:
                    return cls(data[len(bom) :].decode(bom_encoding), bom_encoding, bom, len(data) - len(bom))
                except UnicodeDecodeError as exc:
                    raise NotTextError(f"invalid {bom_encoding} text after a byte-order mark") from exc
        if encoding is not None:
            return cls._decode_as(data, encoding)
        if b"\x00" in data:
            raise NotTextError(describe_binary(data))
        try:
            return cls(data.decode("utf-8"), byte_length=len(data))
        except UnicodeDecodeError:
            pass
        _refuse_binary(data)
        detected, sure = _detect(data)
        return cls(data.decode(detected), detected, byte_length=len(data), assumed=not sure)

    @classmethod
    def _decode_as(cls, data: bytes, encoding: str) -> TextFile:
        """The text in the encoding set for the path, which must read the bytes back exactly."""
        try:
            wide = _is_wide_unicode(encoding)
        except LookupError:
            raise NotTextError(f"{encoding!r}, the encoding set for it, is not an encoding") from None
        if not wide:
            if b"\x00" in data:
                raise NotTextError(describe_binary(data))
            _refuse_binary(data)
        if not _round_trips(data, encoding):
            raise NotTextError(f"not valid {encoding} text, the encoding set for it")
        return cls(data.decode(encoding), encoding, byte_length=len(data))

    def encode(self, text: str | None = None) -> bytes:
        """Bytes for `text` (default: this file's text) in this file's encoding and BOM.

        Raises UnicodeEncodeError if they would not read back as `text`.
        """
        text = self.text if text is None else text
        data = text.encode(self.encoding)
        if self.encoding != "utf-8" and not text.isascii():
            unfaithful = _unfaithful(text, self.encoding)
            if unfaithful is not None:
                raise unfaithful
        return self.bom + data

    # --- line endings -------------------------------------------------------------

    @cached_property
    def crlf_count(self) -> int:
        return self.text.count("\r\n") if "\r" in self.text else 0  # the "\r" scan is ten times cheaper

    @cached_property
    def normalized(self) -> str:
        """The text with every CRLF turned into LF: what the model sees and matches against."""
        return self.text.replace("\r\n", "\n") if self.crlf_count else self.text

    @cached_property
    def eol(self) -> str:
        """The line ending to use for new lines: the file's majority (LF on a tie or no lines)."""
        crlf = self.crlf_count
        return "\r\n" if crlf and crlf * 2 > self.text.count("\n") else "\n"

    def to_original_offset(self, normalized_offset: int) -> int:
        """Map an offset in `normalized` to the same place in `text`."""
        if not self.crlf_count:
            return normalized_offset
        # Every CRLF before the place adds one character in the original text.
        norm = self.normalized
        lf_before = norm.count("\n", 0, normalized_offset)
        if self.crlf_count == self.text.count("\n"):
            return normalized_offset + lf_before
        # Mixed endings: walk the original line by line (rare, so plainness beats speed).
        original, seen = 0, 0
        while seen < lf_before:
            original = self.text.index("\n", original) + 1
            seen += 1
        line_start_norm = norm.rfind("\n", 0, normalized_offset) + 1
        return original + (normalized_offset - line_start_norm)


# --- the line model, on normalized text ----------------------------------------------


def count_lines(text: str) -> int:
    """Number of lines: line breaks, plus one for a non-empty unterminated last line."""
    if not text:
        return 0
    return text.count("\n") + (0 if text.endswith("\n") else 1)


def line_offset(text: str, line: int, from_line: int = 1, from_offset: int = 0) -> int:
    """Offset where 1-based `line` starts (len(text) past the last line), without splitting.

    Counting can start from a known place: `from_offset` must be where `from_line` starts.
    """
    wanted = line - from_line  # newlines to skip
    position = from_offset
    size = len(text)
    if wanted <= 0:
        return position
    while position < size:
        end = min(position + _LINE_CHUNK, size)
        in_chunk = text.count("\n", position, end)
        if in_chunk < wanted:
            wanted -= in_chunk
            position = end
            continue
        for _ in range(wanted):
            position = text.index("\n", position) + 1
        return position
    return size


def _newline(text: AnyStr) -> AnyStr:
    return cast(AnyStr, "\n" if isinstance(text, str) else b"\n")


def lines_back(text: AnyStr, offset: int, count: int) -> int:
    """Start of the line `count` lines above the one containing `offset` (0 if there are fewer); text or bytes."""
    newline = _newline(text)
    start = text.rfind(newline, 0, offset) + 1
    for _ in range(count):
        if start == 0:
            break
        start = text.rfind(newline, 0, start - 1) + 1
    return start


def lines_forward(text: AnyStr, offset: int, count: int) -> int:
    """Just after the `count`-th line break at or after `offset` (len(text) if there are fewer); text or bytes."""
    newline = _newline(text)
    for _ in range(count):
        found = text.find(newline, offset)
        if found < 0:
            return len(text)
        offset = found + 1
    return offset


def split_lines(chunk: str) -> list[str]:
    """The lines of a chunk of normalized text that starts at a line start, without their breaks."""
    if not chunk:
        return []
    if chunk.endswith("\n"):
        chunk = chunk[:-1]
    return chunk.split("\n")


def get_lines(text: str, first: int, last: int) -> list[str]:
    """Lines `first`..`last` (1-based, inclusive) of normalized text, without their breaks."""
    if last < first:
        return []
    start = line_offset(text, first)
    end = line_offset(text, last + 1, first, start)
    return split_lines(text[start:end]) if end > start else []


_PREFIX_CAP = 1 << 17  # ~7 MiB of prefixes at most; numbers past it are formatted each time
_prefixes: list[str] = []
_prefixes_lock = threading.Lock()


def _line_prefixes(first: int, count: int) -> list[str]:
    """The `cat -n` prefixes of lines first..first+count-1; formatting numbers was most of a view's time."""
    global _prefixes
    last = first + count
    if last > len(_prefixes) and len(_prefixes) < _PREFIX_CAP:
        with _prefixes_lock:  # a new, longer list replaces the old one whole: readers never see half of it
            size = len(_prefixes)
            if last > size:
                wanted = min(max(last, 2 * size, 1024), _PREFIX_CAP)
                _prefixes = _prefixes + [f"{number:6}\t" for number in range(size, wanted)]
    table = _prefixes
    if last <= len(table):
        return table[first:last]
    return table[first:] + [f"{number:6}\t" for number in range(max(first, len(table)), last)]


def number_lines(lines: list[str], first: int) -> str:
    """`cat -n` style: the line number right-aligned in six columns, a tab, the line."""
    return "\n".join(map(operator.add, _line_prefixes(first, len(lines)), lines))
