"""An exact `str_replace` in a plain UTF-8 file is done on the bytes; its results must be the general path's exactly.

The reference is the same editor with the byte path switched off. Files cover ASCII and multi-byte
UTF-8, no final newline, and the files the byte path must hand back (BOM, CRLF, lone CR, NUL,
invalid UTF-8, a legacy code page, empty); edits cover unique, repeated, overlapping, missing,
empty, blank and unchanged `old_str`, edits at the first and last lines, and text that cannot be
written. Undo after each edit checks the history the byte path leaves.
"""

from __future__ import annotations

import random
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from editor_agent import Editor, Policy, Workspace, tool_by_type
from editor_agent.tool import replacing
from editor_agent.workspace.textfile import number_lines

WORDS = ("alpha", "x = 1", "    return None", "", "é", "日本語", "🙂 ok", "tab\there", "aaa", "ß" * 3, "alpha beta")


class Switch:
    """Counts the edits the byte path made; `off` makes the editor take the general path."""

    def __init__(self) -> None:
        self.off = False
        self.taken = 0
        self.real = replacing.exact_edit

    def __call__(self, data: bytes, old_str: str, new_str: str | None) -> replacing.Edit | None:
        if self.off:
            return None
        edit = self.real(data, old_str, new_str)
        self.taken += edit is not None
        return edit


@pytest.fixture
def switch(monkeypatch: pytest.MonkeyPatch) -> Iterator[Switch]:
    switch = Switch()
    monkeypatch.setattr(replacing, "exact_edit", switch)
    yield switch


def generate(rng: random.Random) -> bytes:
    count = rng.choice((1, 2, 3, 7, 12, 40))
    lines = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 5))) for _ in range(count)]
    text = "\n".join(lines) + ("\n" if rng.random() < 0.7 else "")
    data = text.encode("utf-8")
    spoil = rng.random()
    if spoil < 0.05:
        return b"\xef\xbb\xbf" + data
    if spoil < 0.10:
        return data.replace(b"\n", b"\r\n")
    if spoil < 0.13:
        return data.replace(b"\n", b"\r", 1)
    if spoil < 0.16:
        return data + b"\x00"
    if spoil < 0.19:
        return data + b"\xff"
    if spoil < 0.22:
        return "café naïve déjà vu\n".encode("cp1252") * rng.randint(1, 5)
    if spoil < 0.24:
        return b""
    return data


def edits(rng: random.Random, data: bytes) -> list[tuple[str, str | None]]:
    text = data.decode("utf-8", "replace").replace("\r\n", "\n")
    lines = text.split("\n")
    picks: list[tuple[str, str | None]] = []
    for _ in range(6):
        start = rng.randrange(len(text) + 1)
        old = text[start : start + rng.randint(1, 30)]
        picks.append((old, rng.choice(("", "new", "é\n🙂", "line\nline\n", old + "!"))))
    picks += [
        (lines[0], "first"),
        (lines[-1] or "zzz", "last\n"),
        (rng.choice(lines), None),
        ("aa", "b"),  # overlapping matches in "aaa"
        ("not in the file", "x"),
        ("", "x"),
        ("   ", "x"),
        ("alpha", "alpha"),
        ("alpha", "a\r\nb"),
        ("alpha", "\ud800"),
        ("\ud800", "x"),
    ]
    return picks


def run(editor: Editor, root: Path, data: bytes, command: dict[str, Any]) -> tuple[Any, bool, bytes, Any, bytes]:
    (root / "f.txt").write_bytes(data)
    result = editor.run(command)
    written = (root / "f.txt").read_bytes()
    undo = editor.run({"command": "undo_edit", "path": "/repo/f.txt"})
    return result.content, result.is_error, written, (undo.content, undo.is_error), (root / "f.txt").read_bytes()


@pytest.mark.parametrize("tool", ["text_editor_20250728", "text_editor_20250124"])
def test_byte_path_equals_general_path(tmp_path: Path, switch: Switch, tool: str) -> None:
    roots = [tmp_path / "bytes", tmp_path / "general"]
    for root in roots:
        root.mkdir()
    fast, general = (Editor(Workspace(root, policy=Policy()), tool_by_type(tool)) for root in roots)
    rng = random.Random(tool)
    cases = 0
    for _ in range(120):
        data = generate(rng)
        for old, new in edits(rng, data):
            command = {"command": "str_replace", "path": "/repo/f.txt", "old_str": old}
            if new is not None:
                command["new_str"] = new
            switch.off = False
            got = run(fast, roots[0], data, command)
            switch.off = True
            expected = run(general, roots[1], data, command)
            assert got == expected, (data, command)
            cases += 1
    assert switch.taken > cases // 5  # the byte path did take a good share of the edits


@pytest.mark.parametrize(
    "data",
    [b"\xef\xbb\xbfa = 1\n", b"a = 1\r\n", b"a = 1\rb\n", b"a = 1\x00\n", b"a = 1\xff\n", "a = é\n".encode("cp1252")],
)
def test_files_that_are_not_plain_utf8_take_the_general_path(tmp_path: Path, switch: Switch, data: bytes) -> None:
    (tmp_path / "f.txt").write_bytes(data)
    Editor(Workspace(tmp_path, policy=Policy()), tool_by_type("text_editor_20250728")).run(
        {"command": "str_replace", "path": "/repo/f.txt", "old_str": "a = 1", "new_str": "a = 2"}
    )
    assert switch.taken == 0
    assert replacing.exact_edit(data, "a", "b") is None


def test_tracked_files_and_set_encodings_take_the_general_path(tmp_path: Path, switch: Switch) -> None:
    command = {"command": "str_replace", "path": "/repo/f.txt", "old_str": "a = 1", "new_str": "a = 2"}
    tracked = Editor(Workspace(tmp_path, policy=Policy()), tool_by_type("text_editor_20250728"), track_changes=True)
    encoded = Editor(
        Workspace(tmp_path, policy=Policy(encodings=(("*.txt", "utf-8"),))), tool_by_type("text_editor_20250728")
    )
    for editor in (tracked, encoded):
        (tmp_path / "f.txt").write_bytes(b"a = 1\n")
        assert not editor.run(command).is_error
        assert (tmp_path / "f.txt").read_bytes() == b"a = 2\n"
    assert switch.taken == 0


@pytest.mark.parametrize("line", ["value = compute(item, key='k')  # step", "valeur = calculé(élément)  # étape 日本"])
def test_byte_path_memory_stays_near_the_file_size(tmp_path: Path, line: str) -> None:
    data = "".join(f"{line} {n}\n" for n in range(40_000)).encode("utf-8")
    (tmp_path / "f.txt").write_bytes(data)
    editor = Editor(Workspace(tmp_path, policy=Policy()), tool_by_type("text_editor_20250728"))
    number_lines(["x"], 40_000)  # the process-wide cache of line-number prefixes, filled once for all files
    tracemalloc.start()
    try:
        result = editor.run({"command": "str_replace", "path": "/repo/f.txt", "old_str": f"{line} 20000\n",
                             "new_str": "changed\n"})  # fmt: skip
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert not result.is_error
    assert "20001\tchanged" in result.content
    assert peak < 1.3 * len(data)  # the bytes read, and no decoded copy of them
