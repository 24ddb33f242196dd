"""Command behaviour beyond the message texts: matching tiers, strict mode, undo safety, line model."""

from __future__ import annotations

from pathlib import Path

import pytest

from editor_agent import Editor, Workspace, tool_by_type

from ..conftest import VERSIONS


def test_phantom_line_absent(root, call):
    (root / "f.txt").write_text("a\nb\n")
    assert call(command="view", path="f.txt").content.endswith("     1\ta\n     2\tb\n")
    assert call(command="view", path="f.txt", view_range=[2, -1]).content.endswith("     2\tb\n")
    result = call(command="insert", path="f.txt", insert_line=3, insert_text="X")
    assert result.is_error and "[0, 2]. Use 2 to insert after the last line." in result.content
    clamped = call(command="view", path="f.txt", view_range=[1, 10])
    assert not clamped.is_error and "only 2 lines" in clamped.content


def test_multiline_multiple_matches_report_real_lines(root, call):
    (root / "f.txt").write_text("x = 1\ny = 2\n\nx = 1\ny = 2\n")
    result = call(command="str_replace", path="f.txt", old_str="x = 1\ny = 2", new_str="z")
    assert result.is_error and "in lines [1, 4]" in result.content
    assert (root / "f.txt").read_text() == "x = 1\ny = 2\n\nx = 1\ny = 2\n"


def test_overlapping_matches_are_not_unique(root, call):
    (root / "f.txt").write_text("aaa\n")
    result = call(command="str_replace", path="f.txt", old_str="aa", new_str="b")
    assert result.is_error and "Multiple occurrences" in result.content


def test_empty_old_str_on_empty_file_writes_new_str(root, call):
    (root / "f.txt").write_bytes(b"")
    result = call(command="str_replace", path="f.txt", old_str="", new_str="HELLO")
    assert not result.is_error and (root / "f.txt").read_bytes() == b"HELLO"


@pytest.mark.parametrize(
    ("content", "old", "new", "expected", "tier"),
    [
        ("a = 1   \nb = 2\n", "a = 1\nb = 2", "a = 3\nb = 4", "a = 3\nb = 4\n", "trailing whitespace"),
        ("s = \u2018x\u2019 \u2014 y\n", "s = 'x' - y", "s = 'z'", "s = 'z'\n", "typographic"),
        (
            "class A:\n    def m(self):\n        return 1\n",
            "def m(self):\n    return 1",
            "def m(self):\n    return 2\n\ndef k(self):\n    pass",
            "class A:\n    def m(self):\n        return 2\n\n    def k(self):\n        pass\n",
            "indentation",
        ),
    ],
)
def test_tolerant_tiers_name_themselves_and_keep_other_bytes(root, make_editor, content, old, new, expected, tier):
    (root / "f.py").write_text("# head\t\r\n" + content)
    result = make_editor().run({"command": "str_replace", "path": "f.py", "old_str": old, "new_str": new})
    assert not result.is_error, result.content
    assert tier in result.content
    assert (root / "f.py").read_bytes() == ("# head\t\r\n" + expected.replace("\n", "\n")).encode()


def test_strict_mode_disables_tiers(root, make_editor):
    (root / "f.py").write_text("a = 1   \nb = 2\n")
    result = make_editor(strict=True).run(
        {"command": "str_replace", "path": "f.py", "old_str": "a = 1\nb = 2", "new_str": "x"}
    )
    assert result.is_error and "did not appear verbatim" in result.content
    assert (root / "f.py").read_text() == "a = 1   \nb = 2\n"


def test_ambiguous_tier_match_is_refused(root, call):
    (root / "f.py").write_text("a = 1  \nb\na = 1 \n")
    result = call(command="str_replace", path="f.py", old_str="a = 1\n", new_str="x\n")
    assert result.is_error


@pytest.mark.parametrize("version", VERSIONS[:2])
def test_undo_after_create_removes_file(root, make_editor, version):
    editor = make_editor(version)
    assert not editor.run({"command": "create", "path": "n.txt", "file_text": "x"}).is_error
    result = editor.run({"command": "undo_edit", "path": "n.txt"})
    assert not result.is_error and "removed" in result.content
    assert not (root / "n.txt").exists()


def test_undo_refuses_after_outside_change(root, make_editor):
    editor = make_editor("text_editor_20250124")
    (root / "f.txt").write_text("one\n")
    editor.run({"command": "str_replace", "path": "f.txt", "old_str": "one", "new_str": "two"})
    (root / "f.txt").write_text("two\nuser line\n")
    result = editor.run({"command": "undo_edit", "path": "f.txt"})
    assert result.is_error and "changed by someone else" in result.content
    assert (root / "f.txt").read_text() == "two\nuser line\n"


def test_undo_stack_is_bounded(root, make_editor):
    editor = make_editor("text_editor_20250124")
    editor.history = type(editor.history)(depth=10)
    (root / "f.txt").write_text("0\n")
    for i in range(11):
        assert not editor.run(
            {"command": "str_replace", "path": "f.txt", "old_str": f"{i}\n", "new_str": f"{i + 1}\n"}
        ).is_error
    for _ in range(10):
        assert not editor.run({"command": "undo_edit", "path": "f.txt"}).is_error
    result = editor.run({"command": "undo_edit", "path": "f.txt"})
    assert result.is_error and "No edit history" in result.content
    assert (root / "f.txt").read_text() == "1\n"


def test_undo_edit_unsupported_on_new_versions(root, make_editor):
    (root / "f.txt").write_text("a\n")
    result = make_editor("text_editor_20250429").run({"command": "undo_edit", "path": "f.txt"})
    assert result.is_error and "text_editor_20250429 has no undo_edit" in result.content


def test_insert_accepts_new_str_and_insert_text_on_every_version(root, make_editor):
    for version in VERSIONS:
        (root / "f.txt").write_text("a\n")
        editor = make_editor(version)
        assert not editor.run({"command": "insert", "path": "f.txt", "insert_line": 1, "new_str": "b"}).is_error
        assert not editor.run({"command": "insert", "path": "f.txt", "insert_line": 2, "insert_text": "c"}).is_error
        assert (root / "f.txt").read_text() == "a\nb\nc\n"


def test_write_refused_when_file_changed_since_read(root, editor, monkeypatch):
    path: Path = root / "f.txt"
    path.write_text("one\ntwo\n")
    real_replace = editor.workspace.replace

    def meddle(target, data, before):
        path.write_text("one\ntwo\nsomeone else\n")
        return real_replace(target, data, before)

    monkeypatch.setattr(editor.workspace, "replace", meddle)
    result = editor.run({"command": "str_replace", "path": "f.txt", "old_str": "two", "new_str": "2"})
    assert result.is_error and "changed on disk" in result.content
    assert path.read_text() == "one\ntwo\nsomeone else\n"


def test_large_file_view_range_and_edit(root, make_editor):
    from editor_agent import Policy

    lines = [f"line {i} of the big file" for i in range(1, 200_001)]
    (root / "big.txt").write_text("\n".join(lines) + "\n")
    editor = make_editor(policy=Policy(max_file_bytes=50_000_000))
    view = editor.run({"command": "view", "path": "big.txt", "view_range": [150_000, 150_002]})
    assert view.content.splitlines()[1:] == [f"{n:6}\t{lines[n - 1]}" for n in (150_000, 150_001, 150_002)]
    edit = editor.run({"command": "str_replace", "path": "big.txt", "old_str": "line 199999 of", "new_str": "LINE"})
    assert not edit.is_error and "199999\tLINE the big file" in edit.content


def test_read_only_workspace_refuses_every_write(root, make_editor):
    from editor_agent import Policy

    (root / "f.txt").write_text("a\n")
    editor = make_editor("text_editor_20250124", policy=Policy(read_only_workspace=True))
    assert not editor.run({"command": "view", "path": "f.txt"}).is_error
    for tool_input in (
        {"command": "create", "path": "g.txt", "file_text": "x"},
        {"command": "str_replace", "path": "f.txt", "old_str": "a", "new_str": "b"},
        {"command": "insert", "path": "f.txt", "insert_line": 0, "new_str": "z"},
    ):
        result = editor.run(tool_input)
        assert result.is_error and "The workspace is read-only" in result.content
    assert (root / "f.txt").read_text() == "a\n" and not (root / "g.txt").exists()


def test_approval_hook_sees_the_edit_and_can_refuse(root, make_editor):
    from editor_agent.tool.editor import Proposal

    (root / "f.txt").write_text("keep\n")
    seen: list[Proposal] = []

    def approve(proposal: Proposal) -> str | None:
        seen.append(proposal)
        return "no edits to f.txt today" if proposal.path.endswith("f.txt") else None

    editor = make_editor(approve=approve)
    refused = editor.run({"command": "str_replace", "path": "f.txt", "old_str": "keep", "new_str": "drop"})
    assert refused.is_error and "not approved" in refused.content and "no edits to f.txt today" in refused.content
    assert (root / "f.txt").read_text() == "keep\n"
    assert seen[0] == Proposal("str_replace", "/repo/f.txt", b"keep\n", b"drop\n")
    assert not editor.run({"command": "create", "path": "g.txt", "file_text": "new\n"}).is_error
    assert seen[1] == Proposal("create", "/repo/g.txt", None, b"new\n")


def test_writes_over_the_size_limit_are_refused(root, make_editor):
    from editor_agent import Policy

    editor = make_editor(policy=Policy(max_file_bytes=100))
    result = editor.run({"command": "create", "path": "big.txt", "file_text": "x" * 101})
    assert result.is_error and "would be 101 bytes, over the limit of 100 bytes" in result.content
    assert not (root / "big.txt").exists()


def test_repeated_failures_on_a_large_file_get_an_outline(root, make_editor):
    source = "".join(f"def function_{i}(x):\n    return x + {i}\n\n" for i in range(150))
    (root / "big.py").write_text(source)
    editor = make_editor()
    results = [
        editor.run({"command": "str_replace", "path": "big.py", "old_str": f"nothing {i}", "new_str": "x"})
        for i in range(3)
    ]
    assert "failed attempt" not in results[1].content
    assert "This is failed attempt 3 in a row on /repo/big.py" in results[2].content
    assert "  lines 1-2: def function_0" in results[2].content
    ok = editor.run({"command": "str_replace", "path": "big.py", "old_str": "return x + 7\n", "new_str": "return 7\n"})
    assert not ok.is_error
    again = editor.run({"command": "str_replace", "path": "big.py", "old_str": "nothing", "new_str": "x"})
    assert "failed attempt" not in again.content  # the count starts over after a success


def test_clipped_view_of_python_ends_with_an_outline(root, make_editor):
    source = "".join(f"class Thing{i}:\n    def method(self):\n        return {i}\n\n" for i in range(400))
    (root / "many.py").write_text(source)
    content = make_editor().run({"command": "view", "path": "many.py"}).content
    assert "<response clipped>" in content
    assert "The file's definitions, to pick a `view_range` from:" in content
    assert "  lines 1-3: class Thing0" in content and "  lines 2-3: def method" in content


def test_oversized_file_can_be_viewed_by_range_only(root, make_editor):
    from editor_agent import Policy

    (root / "big.log").write_text("".join(f"entry {i}\n" for i in range(1, 2001)))
    editor = make_editor(policy=Policy(max_file_bytes=1000, max_view_bytes=100_000))
    whole = editor.run({"command": "view", "path": "big.log"})
    assert whole.is_error and "parts of it can be viewed with `view_range`" in whole.content
    part = editor.run({"command": "view", "path": "big.log", "view_range": [1500, 1501]})
    assert not part.is_error and part.content.endswith("  1500\tentry 1500\n  1501\tentry 1501\n")
    edit = editor.run({"command": "insert", "path": "big.log", "insert_line": 1, "insert_text": "x"})
    assert edit.is_error and "too large" in edit.content
    tiny = make_editor(policy=Policy(max_file_bytes=1000, max_view_bytes=1000))
    refused = tiny.run({"command": "view", "path": "big.log", "view_range": [1, 2]})
    assert refused.is_error and "It cannot be viewed or edited with this tool." in refused.content


def test_no_outline_for_huge_files(root, make_editor):
    from editor_agent import Policy
    from editor_agent.tool.outline import MAX_CHARACTERS

    line = "def f(): pass\n"
    (root / "huge.py").write_text(line * (MAX_CHARACTERS // len(line) + 10))
    content = make_editor(policy=Policy(max_file_bytes=4 * MAX_CHARACTERS)).run({"command": "view", "path": "huge.py"})
    assert "<response clipped>" in content.content and "definitions" not in content.content


def test_clipped_view_with_an_empty_first_line(tmp_path: Path):
    (tmp_path / "f.txt").write_text("\n" + "x" * 100 + "\nend\n")
    editor = Editor(Workspace(tmp_path), tool_by_type("text_editor_20250728"), max_characters=50)
    content = editor.run({"command": "view", "path": "f.txt"}).content
    assert "has 0 characters" not in content
    assert content.splitlines()[1] == "     1\t" and "view_range` (e.g. [2," in content
