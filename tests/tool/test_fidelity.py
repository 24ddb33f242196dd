"""Bytes outside the edit stay exactly as they were (PEERS.md §10 cases 1-5, 14, 16, 20)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from editor_agent import Editor, Workspace, tool_by_type
from editor_agent.workspace.confined import Tree


def write(root: Path, name: str, data: bytes) -> Path:
    path = root / name
    path.write_bytes(data)
    return path


def test_crlf_single_line_edit_keeps_crlf(root, call):
    path = write(root, "f.txt", b"one\r\ntwo\r\nthree\r\n")
    result = call(command="str_replace", path="f.txt", old_str="two", new_str="TWO")
    assert not result.is_error, result.content
    assert path.read_bytes() == b"one\r\nTWO\r\nthree\r\n"


def test_crlf_multiline_old_str_sent_with_lf(root, call):
    path = write(root, "f.txt", b"one\r\ntwo\r\nthree\r\n")
    result = call(command="str_replace", path="f.txt", old_str="one\ntwo", new_str="ONE\nTWO\nTWO2")
    assert not result.is_error, result.content
    assert path.read_bytes() == b"ONE\r\nTWO\r\nTWO2\r\nthree\r\n"


def test_mixed_endings_keep_untouched_lines(root, call):
    path = write(root, "f.txt", b"a\r\nb\nc\r\nd\r\n")
    result = call(command="str_replace", path="f.txt", old_str="b\nc", new_str="B\nC")
    assert not result.is_error, result.content
    assert path.read_bytes() == b"a\r\nB\r\nC\r\nd\r\n"
    result = call(command="str_replace", path="f.txt", old_str="d", new_str="D")
    assert path.read_bytes() == b"a\r\nB\r\nC\r\nD\r\n"


def test_tabs_outside_edit_untouched(root, call):
    path = write(root, "Makefile", b"all:\n\techo hi\nX = 1\n")
    assert not call(command="str_replace", path="Makefile", old_str="X = 1", new_str="X = 2").is_error
    assert path.read_bytes() == b"all:\n\techo hi\nX = 2\n"


def test_tab_indented_edit(root, call):
    path = write(root, "m.go", b"func f() int {\n\treturn 1\n}\n")
    assert not call(command="str_replace", path="m.go", old_str="\treturn 1", new_str="\treturn 2").is_error
    assert path.read_bytes() == b"func f() int {\n\treturn 2\n}\n"


def test_insert_after_unterminated_last_line(root, call):
    path = write(root, "f.txt", b"a\nb\nc")
    assert not call(command="insert", path="f.txt", insert_line=3, insert_text="X").is_error
    assert path.read_bytes() == b"a\nb\nc\nX"


def test_insert_text_with_trailing_newline_adds_no_blank_line(root, call):
    path = write(root, "f.txt", b"a\nb\n")
    assert not call(command="insert", path="f.txt", insert_line=1, insert_text="X\n").is_error
    assert path.read_bytes() == b"a\nX\nb\n"


def test_insert_into_empty_file(root, call):
    path = write(root, "f.txt", b"")
    assert not call(command="insert", path="f.txt", insert_line=0, insert_text="first").is_error
    assert path.read_bytes() == b"first\n"


def test_insert_crlf_file_uses_crlf(root, call):
    path = write(root, "f.txt", b"a\r\nb\r\n")
    assert not call(command="insert", path="f.txt", insert_line=2, insert_text="c\nd").is_error
    assert path.read_bytes() == b"a\r\nb\r\nc\r\nd\r\n"


def test_delete_with_empty_new_str(root, call):
    path = write(root, "f.txt", b"keep\ndrop\nkeep2\n")
    assert not call(command="str_replace", path="f.txt", old_str="drop\n", new_str="").is_error
    assert path.read_bytes() == b"keep\nkeep2\n"


def test_delete_without_newline_keeps_the_line_break(root, call):
    # Documented choice: old_str is replaced verbatim, so the line's break stays (an empty line remains).
    path = write(root, "f.txt", b"keep\ndrop\nkeep2\n")
    assert not call(command="str_replace", path="f.txt", old_str="drop").is_error
    assert path.read_bytes() == b"keep\n\nkeep2\n"


@pytest.mark.parametrize(
    ("data", "encoding_name"),
    [
        ("café crème\nsecond\n".encode("latin-1"), "latin-1"),
        ("Привет мир, как дела у тебя сегодня?\nsecond\n".encode("cp1251"), "cp1251"),
        (b"\xef\xbb\xbfusing System;\nsecond\n", "utf-8 BOM"),
        ("\ufeffline one\nsecond\n".encode("utf-16-le"), "utf-16 BOM"),
    ],
)
def test_encodings_round_trip(root, call, data, encoding_name):
    path = write(root, "f.txt", data)
    view = call(command="view", path="f.txt")
    assert not view.is_error, view.content
    assert "\ufeff" not in view.content
    assert not call(command="str_replace", path="f.txt", old_str="second", new_str="SECOND").is_error
    codec = "utf-16-le" if "16" in encoding_name else "ascii"
    assert path.read_bytes() == data.replace("second".encode(codec), "SECOND".encode(codec))


def test_cp1251_view_shows_cyrillic(root, call):
    write(root, "f.txt", "Привет мир, как дела у тебя сегодня?\nsecond\n".encode("cp1251"))
    assert "Привет мир" in call(command="view", path="f.txt").content


def test_character_not_in_legacy_encoding_is_refused(root, call):
    data = "café crème au lait\nsecond\n".encode("latin-1")
    path = write(root, "f.txt", data)
    result = call(command="str_replace", path="f.txt", old_str="second", new_str="二")
    assert result.is_error
    assert "cannot hold the character" in result.content
    assert path.read_bytes() == data


def test_mode_is_kept(root, call):
    path = write(root, "run.sh", b"#!/bin/sh\necho hi\n")
    os.chmod(path, 0o755)
    assert not call(command="insert", path="run.sh", insert_line=1, insert_text="set -e").is_error
    assert stat.S_IMODE(path.stat().st_mode) == 0o755


def test_read_only_file_is_refused_and_intact(root, call):
    path = write(root, "ro.txt", b"a\n")
    os.chmod(path, 0o444)
    result = call(command="str_replace", path="ro.txt", old_str="a", new_str="b")
    assert result.is_error and "read-only" in result.content
    assert path.read_bytes() == b"a\n"


def test_dollar_and_backslash_written_literally(root, call):
    path = write(root, "f.txt", b"price\n")
    new = "cost: $& \\1 \\n $1"
    assert not call(command="str_replace", path="f.txt", old_str="price", new_str=new).is_error
    assert path.read_bytes() == (new + "\n").encode()


def test_no_temporary_files_left(root, call):
    path = write(root, "f.txt", b"a\n")
    assert not call(command="str_replace", path="f.txt", old_str="a", new_str="b").is_error
    assert not call(command="insert", path="f.txt", insert_line=0, insert_text="z").is_error
    assert path.read_bytes() == b"z\nb\n"
    assert sorted(p.name for p in root.iterdir()) == ["f.txt"]


def test_failed_rename_leaves_original_and_no_temporary(root, call, monkeypatch):
    path = write(root, "f.txt", b"a\n")

    def broken_swap(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Tree, "_swap", staticmethod(broken_swap))  # the one place a file is put in place
    result = call(command="str_replace", path="f.txt", old_str="a", new_str="b")
    assert result.is_error and "No space left on device" in result.content
    assert path.read_bytes() == b"a\n"
    assert sorted(p.name for p in root.iterdir()) == ["f.txt"]


def test_create_keeps_crlf_content(root, call):
    assert not call(command="create", path="w.bat", file_text="@echo off\r\necho hi\r\n").is_error
    assert (root / "w.bat").read_bytes() == b"@echo off\r\necho hi\r\n"


def test_hardlink_is_noted(root, call):
    path = write(root, "a.txt", b"x\n")
    os.link(path, root / "b.txt")
    result = call(command="str_replace", path="a.txt", old_str="x", new_str="y")
    assert not result.is_error
    assert "2 hard links" in result.content
    assert (root / "b.txt").read_bytes() == b"x\n"


def test_setuid_and_setgid_bits_are_kept(tmp_path: Path):
    path = tmp_path / "tool.sh"
    path.write_text("echo a\n")
    os.chmod(path, 0o6755)
    editor = Editor(Workspace(tmp_path), tool_by_type("text_editor_20250728"))
    assert not editor.run({"command": "str_replace", "path": "tool.sh", "old_str": "a", "new_str": "b"}).is_error
    assert stat.S_IMODE(path.stat().st_mode) == 0o6755
