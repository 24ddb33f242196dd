"""A person editing beside the agent: stale views are never written over, changes are reported as diffs."""

from __future__ import annotations

import time
from pathlib import Path

from editor_agent import Editor, Workspace, tool_by_type
from editor_agent.workspace.watch import WorkspaceWatcher


def make(root: Path, **options) -> Editor:
    return Editor(Workspace(root), tool_by_type("text_editor_20250124"), **options)


def wait_for(predicate, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_str_replace_rebases_when_still_unique(root: Path):
    (root / "f.py").write_text("a = 1\nb = 2\n")
    editor = make(root, track_changes=True)
    editor.run({"command": "view", "path": "f.py"})
    (root / "f.py").write_text("# added by a person\na = 1\nb = 2\n")
    result = editor.run({"command": "str_replace", "path": "f.py", "old_str": "b = 2", "new_str": "b = 3"})
    assert not result.is_error
    assert "changed by someone else since you last saw it" in result.content
    assert "+# added by a person" in result.content
    assert (root / "f.py").read_text() == "# added by a person\na = 1\nb = 3\n"


def test_str_replace_not_found_after_outside_change_shows_diff(root: Path):
    (root / "f.py").write_text("a = 1\nb = 2\n")
    editor = make(root, track_changes=True)
    editor.run({"command": "view", "path": "f.py"})
    (root / "f.py").write_text("a = 1\nb = 5\n")
    result = editor.run({"command": "str_replace", "path": "f.py", "old_str": "b = 2", "new_str": "b = 3"})
    assert result.is_error
    assert "-b = 2" in result.content and "+b = 5" in result.content
    assert (root / "f.py").read_text() == "a = 1\nb = 5\n"


def test_insert_refused_on_stale_view(root: Path):
    (root / "f.py").write_text("a\nb\n")
    editor = make(root, track_changes=True)
    editor.run({"command": "view", "path": "f.py"})
    (root / "f.py").write_text("z\na\nb\n")
    result = editor.run({"command": "insert", "path": "f.py", "insert_line": 1, "new_str": "X"})
    assert result.is_error and "No insertion was performed" in result.content and "+z" in result.content
    assert (root / "f.py").read_text() == "z\na\nb\n"
    editor.run({"command": "view", "path": "f.py"})  # seen again: now the insert goes through
    assert not editor.run({"command": "insert", "path": "f.py", "insert_line": 1, "new_str": "X"}).is_error


def test_own_edits_are_not_outside_changes(root: Path):
    (root / "f.py").write_text("a\n")
    editor = make(root, track_changes=True)
    editor.run({"command": "view", "path": "f.py"})
    assert not editor.run({"command": "str_replace", "path": "f.py", "old_str": "a", "new_str": "b"}).is_error
    result = editor.run({"command": "insert", "path": "f.py", "insert_line": 1, "new_str": "c"})
    assert not result.is_error and "someone else" not in result.content


def test_undo_after_outside_change_refuses(root: Path):
    (root / "f.py").write_text("a\n")
    editor = make(root, track_changes=True)
    editor.run({"command": "str_replace", "path": "f.py", "old_str": "a", "new_str": "b"})
    (root / "f.py").write_text("b\nperson\n")
    assert editor.run({"command": "undo_edit", "path": "f.py"}).is_error
    assert (root / "f.py").read_text() == "b\nperson\n"


def test_watcher_reports_changes_to_seen_files_in_the_next_result(root: Path):
    (root / "a.py").write_text("one\n")
    (root / "b.py").write_text("two\n")
    with WorkspaceWatcher(root) as watcher:
        editor = make(root, watcher=watcher)
        editor.run({"command": "view", "path": "a.py"})
        editor.run({"command": "str_replace", "path": "a.py", "old_str": "one", "new_str": "ONE"})
        time.sleep(0.3)  # let the observer deliver the events of our own write
        quiet = editor.run({"command": "view", "path": "b.py"})
        assert "outside the agent" not in quiet.content
        (root / "a.py").write_text("ONE\nperson was here\n")
        assert wait_for(lambda: (root / "a.py") in watcher.pending())
        time.sleep(0.2)
        noted = editor.run({"command": "view", "path": "b.py"})
        assert "Note: /repo/a.py was changed outside the agent" in noted.content
        assert "+person was here" in noted.content
        again = editor.run({"command": "view", "path": "b.py"})
        assert "outside the agent" not in again.content  # said once
        (root / "a.py").unlink()
        assert wait_for(lambda: not (root / "a.py").exists())
        time.sleep(0.3)
        gone = editor.run({"command": "view", "path": "b.py"})
        assert "a.py was deleted outside the agent" in gone.content


def test_watcher_ignores_unseen_files_and_git(root: Path):
    (root / ".git").mkdir()
    (root / "b.py").write_text("two\n")
    with WorkspaceWatcher(root) as watcher:
        (root / ".git" / "index").write_text("x")
        (root / "unseen.py").write_text("x\n")
        assert wait_for(lambda: (root / "unseen.py") in watcher.pending())
        time.sleep(0.2)
        assert not any(".git" in p.parts for p in watcher.pending())
        editor = make(root, watcher=watcher)
        assert "outside the agent" not in editor.run({"command": "view", "path": "b.py"}).content


def test_outside_note_never_reads_through_a_link_out(tmp_path: Path):
    root, outside = tmp_path / "ws", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("secret\n")
    (root / "a.txt").write_text("hello\n")
    (root / "b.txt").write_text("b\n")
    with WorkspaceWatcher(root) as watcher:
        editor = Editor(Workspace(root), tool_by_type("text_editor_20250728"), watcher=watcher)
        editor.run({"command": "view", "path": "a.txt"})
        (root / "a.txt").unlink()
        (root / "a.txt").symlink_to(outside / "secret.txt")
        deadline = time.monotonic() + 5
        while root / "a.txt" not in watcher.pending() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        result = editor.run({"command": "view", "path": "b.txt"})
    assert "secret" not in result.content
    assert "a.txt was deleted outside the agent" in result.content
