"""A ranged `view` of a plain UTF-8 file streams the file; its output must be the general path's, byte for byte.

The reference is `viewing.file_range` on the whole decoded file (the path every other file takes).
Files cover ASCII, multi-byte UTF-8 cut by chunk edges, no final newline, long lines, and the files
the streamed path must hand back (BOM, CRLF, lone CR, NUL, invalid UTF-8, empty).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from editor_agent import Editor, Policy, Workspace, tool_by_type
from editor_agent.errors import ToolError
from editor_agent.tool import viewing
from editor_agent.workspace import rawlines
from editor_agent.workspace.textfile import TextFile

TOOL = "text_editor_20250728"
WORDS = ("alpha", "x = 1", "    return None", "", "é", "日本語", "🙂 ok", "tab\there", "#" * 30, "ß" * 7)


def generate(seed: int) -> bytes:
    rng = random.Random(seed)
    count = rng.choice((1, 2, 3, 7, 40, 300))
    lines = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 6))) for _ in range(count)]
    if rng.random() < 0.2:
        lines[rng.randrange(count)] = "long " * rng.randint(20, 80)  # longer than the small view limits
    text = "\n".join(lines) + ("\n" if rng.random() < 0.7 else "")
    return text.encode("utf-8")


def ranges(lines: int) -> list[list[int]]:
    middle = max(1, lines // 2)
    return [[1, 1], [1, -1], [1, 3], [middle, middle + 2], [middle, -1], [lines, lines], [lines, -1],
            [lines, lines + 4], [max(1, lines - 1), lines + 40], [lines + 1, lines + 2], [lines + 1, -1],
            [0, 2], [-1, 3], [3, 2], [2, 1], [1, 2 * lines + 3]]  # fmt: skip


def reference(data: bytes, view_range: list[int], limit: int) -> tuple[str, bool]:
    try:
        return viewing.file_range("/repo/f.txt", TextFile.decode(data), "f.txt", view_range, limit), False
    except ToolError as error:
        return error.message, True


def editor(root: Path, limit: int, track: bool = False) -> Editor:
    return Editor(Workspace(root, policy=Policy()), tool_by_type(TOOL), output_limit=limit, track_changes=track)


@pytest.mark.parametrize("chunk", [1, 3, 7, 64, rawlines.CHUNK])
def test_streamed_range_equals_general_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    monkeypatch.setattr(rawlines, "CHUNK", chunk)
    streamed = 0
    seeds = 60 if chunk >= 7 else 15  # one- and three-byte pieces meet every boundary within a few files
    for seed in range(seeds):
        data = generate(seed)
        (tmp_path / "f.txt").write_bytes(data)
        lines = TextFile.decode(data).normalized.count("\n") + (0 if data.endswith(b"\n") else 1)
        for limit in (60, 400, 16000):
            ed = editor(tmp_path, limit, track=seed % 2 == 0)
            for view_range in ranges(lines):
                result = ed.run({"command": "view", "path": "/repo/f.txt", "view_range": view_range})
                expected, error = reference(data, view_range, limit)
                expected = ed._clip(expected) if error else expected  # error texts are clipped to the output limit
                assert (result.content, result.is_error) == (expected, error), (seed, limit, view_range)
                target = ed.workspace.resolve("/repo/f.txt")
                streamed += ed._plain_range(target, view_range) is not None
    assert (
        streamed > 1700 * seeds // 60
    )  # of 30 valid ranges a file, only those clipped inside a long first line go the general way


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xef\xbb\xbfbom\nx\n",
        b"a\r\nb\r\n",
        b"a\rb\nc\n",
        b"a\x00b\n",
        b"caf\xe9\nx\n",
        b"ok\n\xc3",
        b"\xff\xfea\x00",
    ],
    ids=["empty", "bom", "crlf", "lone-cr", "nul", "latin-1", "cut-utf8", "utf16"],
)
def test_files_that_are_not_plain_take_the_general_path(tmp_path: Path, data: bytes) -> None:
    (tmp_path / "f.txt").write_bytes(data)
    ed = editor(tmp_path, 16000)
    target = ed.workspace.resolve("/repo/f.txt")
    assert ed._plain_range(target, [1, 1]) is None
    result = ed.run({"command": "view", "path": "/repo/f.txt", "view_range": [1, 1]})
    if result.is_error and not data.startswith((b"\xff\xfe", b"a\x00")):  # refused as binary: no reference text
        assert (result.content, True) == reference(data, [1, 1], 16000)


def test_a_first_line_longer_than_what_is_kept_takes_the_general_path(tmp_path: Path) -> None:
    data = ("é" * 500 + "\nnext\n").encode()
    (tmp_path / "f.txt").write_bytes(data)
    ed = editor(tmp_path, 50)
    target = ed.workspace.resolve("/repo/f.txt")
    assert ed._plain_range(target, [1, 2]) is None
    result = ed.run({"command": "view", "path": "/repo/f.txt", "view_range": [1, 2]})
    assert result.content == reference(data, [1, 2], 50)[0]
    assert "Line 1 has 500 characters" in result.content


def test_streamed_range_remembers_what_the_model_saw(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_bytes(b"one\ntwo\nthree\n")
    ed = editor(tmp_path, 16000, track=True)
    assert not ed.run({"command": "view", "path": "/repo/f.txt", "view_range": [2, 2]}).is_error
    (tmp_path / "f.txt").write_bytes(b"one\nTWO\nthree\n")
    result = ed.run({"command": "str_replace", "path": "/repo/f.txt", "old_str": "three", "new_str": "3"})
    assert "-two" in result.content and "+TWO" in result.content  # the edit names what changed since the view


def test_a_file_over_the_view_limit_is_refused_as_before(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_bytes(b"x\n" * 100)
    ed = Editor(Workspace(tmp_path, policy=Policy(max_file_bytes=10, max_view_bytes=50)), tool_by_type(TOOL))
    result = ed.run({"command": "view", "path": "/repo/f.txt", "view_range": [1, 1]})
    assert result.is_error and "too large" in str(result.content)


@pytest.mark.parametrize("chunk", [1, 2, 3, 4, 5, rawlines.CHUNK])
def test_a_character_cut_by_a_chunk_edge_and_followed_by_ascii_is_invalid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(rawlines, "CHUNK", chunk)
    (tmp_path / "f.txt").write_bytes(b"ok\n\xc3abc\xa9\n")  # \xc3 starts a character; "a" cannot go on with it
    ed = editor(tmp_path, 16000)
    assert ed._plain_range(ed.workspace.resolve("/repo/f.txt"), [1, 1]) is None
    (tmp_path / "f.txt").write_bytes(b"ok\n\xc3\xa9abc\n")
    assert (
        ed._plain_range(ed.workspace.resolve("/repo/f.txt"), [2, 2])
        == "Here's the result of running `cat -n` on /repo/f.txt:\n     2\t\u00e9abc\n"
    )
