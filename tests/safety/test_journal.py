"""The undo journal: a run's edits can be undone exactly, even after a crash, never over someone's changes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from editor_agent import Editor, Workspace, tool_by_type
from editor_agent.safety.journal import Journal, runs, undo_run
from editor_agent.workspace.confined import Tree


def session(root: Path, run_id: str = "20260101-000000-aaaa") -> Editor:
    return Editor(Workspace(root), tool_by_type("text_editor_20250728"), journal=Journal(root, run_id))


def test_undo_restores_edits_and_removes_created_files(root: Path):
    (root / "a.py").write_bytes(b"one\r\ntwo\r\n")
    os.chmod(root / "a.py", 0o755)
    editor = session(root)
    editor.run({"command": "str_replace", "path": "a.py", "old_str": "one", "new_str": "ONE"})
    editor.run({"command": "insert", "path": "a.py", "insert_line": 2, "insert_text": "three"})
    editor.run({"command": "create", "path": "pkg/new.py", "file_text": "x\n"})
    (root / "user.txt").write_text("the user's own file\n")
    report = undo_run(root)
    assert report.restored == ["a.py"] and report.removed == ["pkg/new.py"] and report.conflicts == []
    assert (root / "a.py").read_bytes() == b"one\r\ntwo\r\n"
    assert oct((root / "a.py").stat().st_mode & 0o777) == "0o755"
    assert not (root / "pkg").exists() and report.removed_directories == ["pkg"]
    assert (root / "user.txt").read_text() == "the user's own file\n"
    with pytest.raises(ValueError, match="no run to undo"):
        undo_run(root)


def test_undo_removes_only_the_directories_the_run_made_and_only_while_empty(root: Path):
    (root / "src").mkdir()
    editor = session(root)
    editor.run({"command": "create", "path": "src/a/b/new.py", "file_text": "x\n"})
    editor.run({"command": "create", "path": "src/a/c/other.py", "file_text": "y\n"})
    (root / "src" / "a" / "c" / "notes.txt").write_text("someone's file\n")  # put there after the run
    report = undo_run(root)
    assert report.removed == ["src/a/b/new.py", "src/a/c/other.py"]
    assert report.removed_directories == ["src/a/b"]
    assert (root / "src" / "a" / "c" / "notes.txt").is_file() and (root / "src").is_dir()


def test_undo_leaves_files_changed_afterwards(root: Path):
    (root / "a.py").write_text("one\n")
    (root / "b.py").write_text("bee\n")
    editor = session(root)
    editor.run({"command": "str_replace", "path": "a.py", "old_str": "one", "new_str": "ONE"})
    editor.run({"command": "str_replace", "path": "b.py", "old_str": "bee", "new_str": "BEE"})
    (root / "b.py").write_text("BEE\nand the user's line\n")
    report = undo_run(root)
    assert report.restored == ["a.py"] and report.conflicts == ["b.py"]
    assert (root / "b.py").read_text() == "BEE\nand the user's line\n"
    forced = undo_run(root, report.run_id, force=True)
    assert forced.restored == ["b.py"] and (root / "b.py").read_text() == "bee\n"


def test_undo_picks_the_last_run(root: Path):
    (root / "a.py").write_text("0\n")
    session(root, "20260101-000000-aaaa").run(
        {"command": "str_replace", "path": "a.py", "old_str": "0", "new_str": "1"}
    )
    session(root, "20260102-000000-bbbb").run(
        {"command": "str_replace", "path": "a.py", "old_str": "1", "new_str": "2"}
    )
    assert runs(root) == ["20260101-000000-aaaa", "20260102-000000-bbbb"]
    assert undo_run(root).run_id == "20260102-000000-bbbb"
    assert (root / "a.py").read_text() == "1\n"
    assert undo_run(root).run_id == "20260101-000000-aaaa"
    assert (root / "a.py").read_text() == "0\n"


def test_journal_written_before_the_file(root: Path, monkeypatch: pytest.MonkeyPatch):
    (root / "a.py").write_text("one\n")
    editor = session(root)

    swap = Tree._swap

    def crash(directory: int, name: str, temporary: str, expect: object) -> None:
        if expect is None:  # the journal's own blob: written as usual
            return swap(directory, name, temporary, expect)
        raise SystemExit("killed between the journal and the write")

    monkeypatch.setattr(Tree, "_swap", staticmethod(crash))  # the one place a file is put in place
    with pytest.raises(SystemExit):
        editor.run({"command": "str_replace", "path": "a.py", "old_str": "one", "new_str": "ONE"})
    monkeypatch.undo()
    assert (root / "a.py").read_text() == "one\n"
    report = undo_run(root)
    assert report.unchanged == ["a.py"] and report.conflicts == []


def test_torn_last_journal_line_is_ignored(root: Path):
    (root / "a.py").write_text("one\n")
    editor = session(root)
    editor.run({"command": "str_replace", "path": "a.py", "old_str": "one", "new_str": "ONE"})
    journal = root / ".editor-agent" / "undo" / "20260101-000000-aaaa" / "journal.jsonl"
    with open(journal, "a") as handle:
        handle.write('{"path": "a.py", "wro')
    assert undo_run(root).restored == ["a.py"]


def test_a_create_that_fails_records_no_directories(root: Path):
    (root / "a").write_text("a file where a directory would go\n")
    editor = session(root)
    assert editor.run({"command": "create", "path": "a/b/c.py", "file_text": "x\n"}).is_error
    assert editor.journal is not None
    editor.journal.close()
    (root / "a").unlink()
    (root / "a" / "b").mkdir(parents=True)  # the user's own, made later
    report = undo_run(root)
    assert report.removed_directories == [] and (root / "a" / "b").is_dir()


def test_the_diff_of_a_run_applies_with_git_apply_in_the_workspace(root: Path, tmp_path: Path):
    """The summary's diff names files relative to the workspace (not `a/repo/...`), as `git apply` wants."""
    import shutil
    import subprocess

    (root / "pkg").mkdir()
    (root / "pkg" / "shop.py").write_text("def price(total):\n    return total\n")
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    editor = Editor(Workspace(root), tool_by_type("text_editor_20250728"))
    editor.run(
        {
            "command": "str_replace",
            "path": "/repo/pkg/shop.py",
            "old_str": "return total",
            "new_str": "return total * 2",
        }
    )
    editor.run({"command": "create", "path": "/repo/pkg/new.py", "file_text": "x = 1\n"})
    diff = editor.changes.diff()
    assert "+++ b/pkg/shop.py" in diff and "+++ b/pkg/new.py" in diff
    subprocess.run(["git", "apply", "-"], input=diff, text=True, cwd=copy, check=True, capture_output=True)
    assert (copy / "pkg" / "shop.py").read_bytes() == (root / "pkg" / "shop.py").read_bytes()
    assert (copy / "pkg" / "new.py").read_text() == "x = 1\n"
