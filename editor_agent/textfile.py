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

# Byte-order marks we recognise, longest first so UTF-32 wins over UTF-16.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

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


def describe_binary(data: bytes) -> str:
    """Name what a binary file probably is, for the model's error message."""
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            return kind
    return "binary data"


_NON_LATIN_SCRIPTS = ("Cyrillic", "Greek", "Arabic", "Hebrew", "Thai", "CJK", "Hangul", "Hiragana", "Katakana",
                      "Armenian", "Georgian", "Devanagari")  # fmt: skip


def _legacy_encoding(data: bytes) -> str:
    """Best single-codec guess for non-UTF-8 bytes that still round-trips exactly.

    Short Latin-script texts fit several code pages equally well by the detector's measure
    (French in cp1250 reads "Trčs"), so Windows-1252, the usual one, is preferred for them;
    the detector's guess is taken when it found another script (Cyrillic, Greek, ...).
    """
    guess = None
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is not None and any(s in a for a in best.alphabets for s in _NON_LATIN_SCRIPTS):
            guess = best.encoding
    except Exception:  # detection is a nicety; cp1252 and latin-1 below always work
        guess = None
    for encoding in (guess, "cp1252"):
        if not encoding:
            continue
        try:
            if data.decode(encoding).encode(encoding) == data:
                return encoding
        except (UnicodeError, LookupError):
            continue
    return "latin-1"  # maps every byte to one code point: always lossless


@dataclass
class TextFile:
    """Decoded text (original line endings kept) plus how to turn it back into bytes."""

    text: str
    encoding: str = "utf-8"
    bom: bytes = b""
    byte_length: int = field(default=-1, compare=False)  # bytes after the BOM, when known

    @property
    def one_byte_per_char(self) -> bool:
        """Whether text offsets map 1:1 to byte offsets (after the BOM): ASCII UTF-8 or single-byte codecs."""
        if len(self.text) != self.byte_length:
            return False
        name = codecs.lookup(self.encoding).name
        return name == "utf-8" or name.startswith(_SINGLE_BYTE_PREFIXES)

    def splice(self, data: bytes, start: int, end: int, replacement: str) -> list[bytes | memoryview]:
        """The bytes of `text[:start] + replacement + text[end:]`, as pieces (no copy of the rest when possible).

        Raises UnicodeEncodeError if the file's encoding cannot hold the replacement.
        """
        middle = replacement.encode(self.encoding)
        if self.one_byte_per_char:
            offset = len(self.bom)
            view = memoryview(data)
            return [view[: offset + start], middle, view[offset + end :]]
        return [self.bom, self.text[:start].encode(self.encoding), middle, self.text[end:].encode(self.encoding)]

    @classmethod
    def decode(cls, data: bytes) -> TextFile:
        for bom, encoding in _BOMS:
            if data.startswith(bom):
                try:
                    return cls(data[len(bom) :].decode(encoding), encoding, bom, len(data) - len(bom))
                except UnicodeDecodeError as exc:
                    raise NotTextError(f"invalid {encoding} text after a byte-order mark") from exc
        if b"\x00" in data:
            raise NotTextError(describe_binary(data))
        try:
            return cls(data.decode("utf-8"), byte_length=len(data))
        except UnicodeDecodeError:
            pass
        sample = data[:8192]
        if sum(sample.count(c) for c in _BINARY_CONTROLS) > len(sample) // 20:
            raise NotTextError(describe_binary(data))
        encoding = _legacy_encoding(data)
        return cls(data.decode(encoding), encoding, byte_length=len(data))

    def encode(self, text: str | None = None) -> bytes:
        """Bytes for `text` (default: this file's text) in this file's encoding and BOM."""
        return self.bom + (self.text if text is None else text).encode(self.encoding)

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


def lines_back(text: str, offset: int, count: int) -> int:
    """Start of the line `count` lines above the one containing `offset` (0 if there are fewer)."""
    start = text.rfind("\n", 0, offset) + 1
    for _ in range(count):
        if start == 0:
            break
        start = text.rfind("\n", 0, start - 1) + 1
    return start


def lines_forward(text: str, offset: int, count: int) -> int:
    """Offset just after the `count`-th line break at or after `offset` (len(text) if there are fewer)."""
    for _ in range(count):
        found = text.find("\n", offset)
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
