"""Editor details that peers' suites found: unreadable directories, empty inserts and replacements,
paths in another platform's form, and the "already applied" hint."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from editor_agent import Editor

NOBODY = 65534


def _as_nobody(editor: Editor, tool_input: dict[str, object]) -> dict[str, object]:
    """Run one call in a child process that has given up root, so permissions apply as for any user.

    The workspace was opened (as root) before the fork: the child walks it from that descriptor.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            os.close(read_end)
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            result = editor.run(tool_input)
            os.write(write_end, json.dumps(result.model_dump()).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return json.loads(data)


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="dropping to another user needs root")


@needs_root
def test_view_of_an_unreadable_directory_is_an_error_naming_the_reason(root: Path, editor: Editor) -> None:
    (root / "locked" / "inner").mkdir(parents=True)
    (root / "locked" / "a.txt").write_text("a\n")
    os.chmod(root / "locked", 0o000)
    result = _as_nobody(editor, {"command": "view", "path": "/repo/locked"})
    assert result["is_error"] is True
    assert result["content"] == "Could not read /repo/locked: Permission denied."


@needs_root
def test_view_names_a_subdirectory_that_cannot_be_read(root: Path, editor: Editor) -> None:
    (root / "locked").mkdir()
    (root / "locked" / "a.txt").write_text("a\n")
    (root / "open").mkdir()
    (root / "open" / "b.txt").write_text("b\n")
    os.chmod(root / "locked", 0o000)
    result = _as_nobody(editor, {"command": "view", "path": "/repo"})
    assert result["is_error"] is False
    assert result["content"] == (
        "Here's the files and directories up to 2 levels deep in /repo, excluding hidden items:\n"
        "/repo\n/repo/locked/ (cannot be read: Permission denied)\n/repo/open/\n/repo/open/b.txt\n"
    )


def test_insert_of_empty_text_after_an_unterminated_last_line_inserts_an_empty_line(root: Path, call) -> None:
    (root / "f.txt").write_bytes(b"a\nb\nc")
    result = call(command="insert", path="f.txt", insert_line=3, insert_text="")
    assert not result.is_error, result.content
    assert (root / "f.txt").read_bytes() == b"a\nb\nc\n\n"
    assert result.content.endswith(
        "     3\tc\n     4\t\nReview the changes and make sure they are as expected "
        "(correct indentation, no duplicate lines, etc). Edit the file again if necessary."
    )
    view = call(command="view", path="f.txt")
    assert view.content.endswith("     3\tc\n     4\t\n")


def test_insert_of_empty_text_after_a_terminated_last_line_inserts_an_empty_line(root: Path, call) -> None:
    (root / "f.txt").write_bytes(b"a\nb\n")
    result = call(command="insert", path="f.txt", insert_line=2, new_str="")
    assert not result.is_error, result.content
    assert (root / "f.txt").read_bytes() == b"a\nb\n\n"


@pytest.mark.parametrize("new", ["HELLO", "HELLO\n", "line 1\r\nline 2"])
def test_empty_old_str_on_an_empty_file_writes_new_str_exactly(root: Path, call, new: str) -> None:
    (root / "f.txt").write_bytes(b"")
    result = call(command="str_replace", path="f.txt", old_str="", new_str=new)
    assert not result.is_error, result.content
    assert (root / "f.txt").read_bytes() == new.encode()
    assert result.content.startswith("The file /repo/f.txt has been edited.")


def test_empty_old_str_on_a_file_with_text_is_still_refused(root: Path, call) -> None:
    (root / "f.txt").write_bytes(b"x\n")
    result = call(command="str_replace", path="f.txt", old_str="", new_str="HELLO")
    assert result.is_error and "`old_str` is empty" in result.content
    assert (root / "f.txt").read_bytes() == b"x\n"


def test_empty_old_str_and_new_str_on_an_empty_file_change_nothing(root: Path, call) -> None:
    (root / "f.txt").write_bytes(b"")
    result = call(command="str_replace", path="f.txt", old_str="", new_str="")
    assert result.is_error and "identical" in result.content


@pytest.mark.parametrize("path", ["C:\\foo.txt", "C:/foo.txt", "c:\\dir\\foo.txt", "\\\\server\\share\\foo.txt"])
def test_create_refuses_a_path_in_another_platforms_form(root: Path, call, path: str) -> None:
    result = call(command="create", path=path, file_text="x\n")
    assert result.is_error
    assert result.content == (
        f"The path {path} is a Windows path; paths here use forward slashes and start at /repo "
        "(e.g. /repo/file.py) or are relative to it."
    )
    assert list(root.iterdir()) == []


def test_a_name_with_a_colon_is_still_a_path(root: Path, call) -> None:
    result = call(command="create", path="/repo/C:notes.txt", file_text="x\n")
    assert not result.is_error, result.content
    assert (root / "C:notes.txt").read_text() == "x\n"


def test_already_present_hint_not_given_for_an_unfixed_line(root: Path, call) -> None:
    (root / "f.py").write_text("total = price * qty  # TODO: apply discount\n")
    result = call(
        command="str_replace", path="f.py", old_str="total = price * qty # TODO: apply discount",
        new_str="total = price * qty",
    )  # fmt: skip
    assert result.is_error
    assert "already appears" not in result.content


def test_already_present_hint_given_when_the_result_is_there(root: Path, call) -> None:
    (root / "f.py").write_text("a = 1\ntotal = price * qty\nb = 2\n")
    result = call(
        command="str_replace", path="f.py", old_str="total = price * qty # TODO: apply discount",
        new_str="total = price * qty",
    )  # fmt: skip
    assert result.is_error
    assert "`new_str` already appears in the file at line 2" in result.content


def test_already_present_hint_for_a_mid_line_edit_already_made(root: Path, call) -> None:
    (root / "f.py").write_text("r = compute(x, y, z)\n")
    result = call(command="str_replace", path="f.py", old_str="compute(x, y)", new_str="compute(x, y, z)")
    assert result.is_error
    assert "`new_str` already appears in the file at line 1" in result.content
