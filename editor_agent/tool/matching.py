"""Finding `old_str` in a file: exact matching, tolerant tiers, and hints for a failed match.

Everything here works on normalized text (LF line breaks) and returns offsets into it; the
editor maps them back to the original bytes, so a tolerant match never rewrites anything
outside the matched lines.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from ..workspace.textfile import count_lines, get_lines, number_lines
from . import texts as messages

_MAX_REPORTED = 5
_MAX_SCANNED = 1000
_CLOSEST_MAX_LINES = 50_000
_LINE_NUMBER_PREFIX = re.compile(r"^\s*\d+\t")
_UNICODE_PLAIN = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"',
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
        "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u2009": " ", "\u200a": " ", "\u3000": " ",
        "\u2026": "...",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Match:
    """Where to replace (offsets in normalized text), with what, and how it was found."""

    start: int
    end: int
    replacement: str
    note: str = ""


def occurrences(text: str, needle: str, limit: int = _MAX_SCANNED) -> list[int]:
    """Start offsets of `needle` in `text`, overlapping ones included, at most `limit`."""
    found: list[int] = []
    position = text.find(needle)
    while position >= 0 and len(found) < limit:
        found.append(position)
        position = text.find(needle, position + 1)
    return found


def line_numbers(text: str, offsets: list[int]) -> list[int]:
    """1-based line numbers of sorted offsets, counting newlines incrementally."""
    numbers: list[int] = []
    line, previous = 1, 0
    for offset in offsets:
        line += text.count("\n", previous, offset)
        previous = offset
        numbers.append(line)
    return numbers


def describe_lines(first: int, last: int) -> str:
    return f"line {first}" if first == last else f"lines {first}-{last}"


def multiple_matches_error(text: str, old: str, offsets: list[int], shown_old: str) -> str:
    """The reference's message, with the real starting line of every match and one line of context."""
    numbers = line_numbers(text, offsets)
    message = messages.MULTIPLE.format(old_str=shown_old, lines=numbers)
    for number in numbers[:_MAX_REPORTED]:
        message += messages.MULTIPLE_CONTEXT.format(line=number, text=get_lines(text, number, number)[0])
    if len(numbers) > _MAX_REPORTED:
        message += messages.MULTIPLE_MORE.format(count=len(numbers) - _MAX_REPORTED)
    return message + messages.MULTIPLE_ADVICE


# --- tolerant tiers ------------------------------------------------------------------


def _leading(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _line_starts(lines: list[str]) -> list[int]:
    starts, offset = [], 0
    for line in lines:
        starts.append(offset)
        offset += len(line) + 1
    return starts


def _windows(file_keys: list[str], old_keys: list[str]) -> list[int]:
    """Start indices where `old_keys` equals a run of `file_keys`."""
    size = len(old_keys)
    return [
        i
        for i in range(len(file_keys) - size + 1)
        if file_keys[i] == old_keys[0] and file_keys[i : i + size] == old_keys
    ]


def _indent_delta(file_lines: list[str], old_lines: list[str]) -> tuple[str, str] | None:
    """A uniform indentation change (added, removed) turning `old_lines` into `file_lines`."""
    delta: tuple[str, str] | None = None
    for file_line, old_line in zip(file_lines, old_lines, strict=True):
        if not file_line.strip() and not old_line.strip():
            continue
        if file_line.strip() != old_line.strip():
            return None
        have, want = _leading(old_line), _leading(file_line)
        if want.endswith(have):
            this = (want[: len(want) - len(have)], "")
        elif have.endswith(want):
            this = ("", have[: len(have) - len(want)])
        else:
            return None
        if delta is None:
            delta = this
        elif delta != this:
            return None
    return delta if delta and delta != ("", "") else None


def _describe_indent(added: str, removed: str) -> str:
    """'4 more spaces', '1 fewer tab' or a repr for mixed whitespace."""
    prefix = added or removed
    direction = "more" if added else "fewer"
    for char, word in ((" ", "space"), ("\t", "tab")):
        if prefix == char * len(prefix):
            return f"{len(prefix)} {direction} {word}{'s' if len(prefix) != 1 else ''} of indentation"
    return f"{direction} indentation ({prefix!r})"


def _reindent(text: str, added: str, removed: str) -> str:
    lines = text.split("\n")
    out = []
    for line in lines:
        if not line.strip():
            out.append(line)
        elif removed and line.startswith(removed):
            out.append(added + line[len(removed) :])
        else:
            out.append(added + line)
    return "\n".join(out)


def find_tolerant(text: str, old: str, new: str) -> Match | None:
    """A unique whole-line match under a tolerant comparison, or None. Never ambiguous."""
    eats_newline = old.endswith("\n")
    old_lines = (old[:-1] if eats_newline else old).split("\n")
    file_lines = text.split("\n")
    if text.endswith("\n"):
        file_lines.pop()
    if len(old_lines) > len(file_lines):
        return None
    starts = _line_starts(file_lines)

    def span(index: int) -> tuple[int, int]:
        last = index + len(old_lines) - 1
        end = starts[last] + len(file_lines[last])
        if eats_newline and end < len(text):
            end += 1
        return starts[index], end

    tiers: list[tuple[str, Callable[[str], str]]] = [
        (messages.TIER_TRAILING, str.rstrip),
        (messages.TIER_UNICODE, lambda line: line.translate(_UNICODE_PLAIN).rstrip()),
    ]
    for tier, key in tiers:
        hits = _windows([key(line) for line in file_lines], [key(line) for line in old_lines])
        if len(hits) == 1:
            first = hits[0] + 1
            start, end = span(hits[0])
            note = messages.TIER_NOTE.format(lines=describe_lines(first, first + len(old_lines) - 1), tier=tier)
            return Match(start, end, new, note)
        if len(hits) > 1:
            return None
    stripped = _windows([line.strip() for line in file_lines], [line.strip() for line in old_lines])
    candidates = [
        (index, delta)
        for index in stripped
        if (delta := _indent_delta(file_lines[index : index + len(old_lines)], old_lines)) is not None
    ]
    if len(candidates) == 1:
        index, (added, removed) = candidates[0]
        start, end = span(index)
        tier = messages.TIER_INDENT.format(delta=_describe_indent(added, removed))
        note = messages.TIER_NOTE.format(lines=describe_lines(index + 1, index + len(old_lines)), tier=tier)
        return Match(start, end, _reindent(new, added, removed), note)
    return None


# --- hints for a failed match ------------------------------------------------------


def _closest(text: str, old: str) -> str:
    file_lines = text.split("\n")
    if text.endswith("\n"):
        file_lines.pop()
    old_lines = old.rstrip("\n").split("\n")
    if not file_lines or len(file_lines) > _CLOSEST_MAX_LINES:
        return ""
    size = len(old_lines)
    votes: Counter[int] = Counter()
    stripped_index: dict[str, list[int]] = {}
    for index, line in enumerate(file_lines):
        if line.strip():
            stripped_index.setdefault(line.strip(), []).append(index)
    for offset, line in enumerate(old_lines):
        for index in stripped_index.get(line.strip(), [])[:50]:
            votes[index - offset] += 1
    if not votes:
        anchor = next((line.strip() for line in old_lines if line.strip()), "")
        close = difflib.get_close_matches(anchor, list(stripped_index), n=3, cutoff=0.6)
        for candidate in close:
            for index in stripped_index[candidate][:10]:
                offset = next(i for i, line in enumerate(old_lines) if line.strip())
                votes[index - offset] += 1
    best_score, best_start = 0.0, -1
    for start, _ in votes.most_common(5):
        start = max(0, min(start, len(file_lines) - size))
        window = "\n".join(file_lines[start : start + size])
        score = difflib.SequenceMatcher(None, window, old.rstrip("\n"), autojunk=False).ratio()
        if score > best_score:
            best_score, best_start = score, start
    if best_start < 0 or best_score < 0.5:
        return ""
    first, last = best_start + 1, min(best_start + size, len(file_lines))
    snippet = number_lines(file_lines[first - 1 : last], first)
    return messages.HINT_CLOSEST.format(first=first, last=last, score=int(best_score * 100), snippet=snippet)


def _whitespace_hint(text: str, old: str) -> str:
    """Say where the file indents with tabs and `old` with spaces (or the other way round)."""
    if count_lines(text) > _CLOSEST_MAX_LINES:
        return ""
    file_lines = text.split("\n")
    by_content: dict[str, int] = {}
    for index, line in enumerate(file_lines):
        if line.strip():
            by_content.setdefault(line.strip(), index)
    for old_line in old.split("\n"):
        found = by_content.get(old_line.strip()) if old_line.strip() else None
        if found is None:
            continue
        index = found
        file_indent, old_indent = _leading(file_lines[index]), _leading(old_line)
        if "\t" in file_indent and "\t" not in old_indent and old_indent:
            return messages.HINT_TABS.format(line=index + 1)
        if "\t" in old_indent and "\t" not in file_indent:
            return messages.HINT_SPACES.format(line=index + 1)
    return ""


def _squash(text: str) -> str:
    return "".join(text.split())


def _applied_at(text: str, old: str, new: str, near: int = 8) -> int | None:
    """Where the edit's result `new` stands in `text`, or None.

    When `new` is part of `old` (an edit that deletes text), finding it proves nothing while the
    rest of `old` still surrounds it (the unfixed line, with `old` mistyped): such places do not count.
    """
    inside = old.find(new)
    rest_before = _squash(old[:inside])[-near:] if inside >= 0 else ""
    rest_after = _squash(old[inside + len(new) :])[:near] if inside >= 0 else ""
    for position in occurrences(text, new):
        end = position + len(new)
        if rest_before and _squash(text[max(0, position - len(old) - 64) : position]).endswith(rest_before):
            continue
        if rest_after and _squash(text[end : end + len(old) + 64]).startswith(rest_after):
            continue
        return position
    return None


def not_found_hints(text: str, old: str, new: str, has_crlf: bool) -> str:
    """Specific advice for the model's next try after `old` was not found in `text`."""
    hints = ""
    first_line = old.split("\n", 1)[0]
    prefix = _LINE_NUMBER_PREFIX.match(first_line)
    if prefix:
        hints += messages.HINT_LINE_NUMBERS.format(prefix=prefix.group(0).replace("\t", "\\t"))
    if "\\n" in old and "\n" not in old and old.replace("\\n", "\n").replace("\\t", "\t") in text:
        hints += messages.HINT_ESCAPED_NEWLINES
    hints += _whitespace_hint(text, old)
    if len(new.strip()) >= 10 or "\n" in new.strip():
        position = _applied_at(text, old, new)
        if position is not None:
            hints += messages.HINT_ALREADY_PRESENT.format(line=text.count("\n", 0, position) + 1)
    if not prefix:
        hints += _closest(text, old)
    if has_crlf:
        hints += messages.HINT_CRLF
    return hints
