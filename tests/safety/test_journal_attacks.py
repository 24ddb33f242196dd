"""Promise 2: an undo journal cannot be turned into a weapon, and never restores wrong bytes.

A journal is data from a directory a repository or a model can influence: these tests plant
crafted journals, damage blobs and swap the state directory for a link, and check that undo
refuses before touching anything, with a message that says which run, which file and why.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from editor_agent import Editor, Workspace, tool_by_type
from editor_agent.safety.journal import Journal, UndoError, undo_run
from editor_agent.safety.statedir import StateError

from ..conftest import FIX, KEY, RunCli

RUN = "20260101-000000-000000000-aaaa"


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """Files outside the workspace a hostile journal would like to overwrite or delete."""
    outside = tmp_path / "outside"
    (outside / "dir").mkdir(parents=True)
    (outside / "secret.txt").write_text("keep me\n")
    return outside


def plant(root: Path, run_id: str, records: list[dict[str, object]], blobs: dict[str, bytes] | None = None) -> None:
    """A journal as a repository could commit it: plain JSON lines, no seal."""
    directory = root / ".editor-agent" / "undo" / run_id
    (directory / "blobs").mkdir(parents=True)
    (directory / "journal.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    for name, data in (blobs or {}).items():
        (directory / "blobs" / name).write_bytes(data)


def test_committed_journal_is_refused_by_the_cli(root: Path, victim: Path, run_cli: RunCli):
    digest = "0" * 64
    plant(root, "99999999-999999-999999999-zzzz", [
        {"path": str(victim / "secret.txt"), "original": digest},
        {"path": str(victim / "secret.txt"), "wrote": "x"},
        {"path": "../outside/secret.txt", "original": None},
        {"made_directory": "../outside/dir"},
    ], {digest: b"pwned\n"})  # fmt: skip
    done = run_cli("undo", "--workspace", str(root))
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "not sealed by editor-agent" in done.stderr, done.stderr
    assert (victim / "secret.txt").read_text() == "keep me\n" and (victim / "dir").is_dir()
    forced = run_cli("undo", "--workspace", str(root), "--force", "--run", "99999999-999999-999999999-zzzz")
    assert forced.returncode == 1 and (victim / "secret.txt").read_text() == "keep me\n"


@pytest.mark.parametrize("path", ["/etc/passwd", "../outside/secret.txt", "a/../../outside/secret.txt", "./a", ""])
def test_sealed_journal_with_a_path_outside_is_refused(root: Path, victim: Path, path: str):
    journal = Journal(root, RUN)
    journal.before_write(path, None, "f" * 64)  # as if the tool itself had been fooled into writing it
    journal.close()
    with pytest.raises(UndoError, match="not a path inside the workspace"):
        undo_run(root, RUN, force=True)
    assert (victim / "secret.txt").read_text() == "keep me\n"


@pytest.mark.parametrize("path", [".git/hooks/pre-commit", ".editor-agent/undo/x", "link/secret.txt"])
def test_sealed_journal_path_hidden_or_through_a_link_is_refused(root: Path, victim: Path, path: str):
    (root / ".git" / "hooks").mkdir(parents=True)
    (root / ".git" / "hooks" / "pre-commit").write_text("#!/bin/sh\n")
    os.symlink(victim, root / "link")
    journal = Journal(root, RUN)
    journal.before_write(path, None, "f" * 64)
    journal.close()
    with pytest.raises(UndoError, match="hidden by the workspace policy|escapes the workspace"):
        undo_run(root, RUN, force=True)
    assert (root / ".git" / "hooks" / "pre-commit").read_text() == "#!/bin/sh\n"
    assert (victim / "secret.txt").read_text() == "keep me\n"


@pytest.mark.parametrize("run_id", ["../../x", "/tmp/x", "a/b", ".."])
def test_run_ids_are_checked(root: Path, run_id: str):
    with pytest.raises(UndoError, match="is not a run id"):
        undo_run(root, run_id)
    with pytest.raises(UndoError, match="is not a run id"):
        Journal(root, run_id)


def test_state_directory_that_is_a_link_is_refused(root: Path, victim: Path):
    os.symlink(victim, root / ".editor-agent")
    with pytest.raises(StateError, match="symbolic link"):
        Journal(root, RUN)
    assert sorted(p.name for p in victim.iterdir()) == ["dir", "secret.txt"]
    with pytest.raises(UndoError, match="symbolic link"):
        undo_run(root)


def test_state_subdirectory_that_is_a_link_is_not_followed(root: Path, victim: Path):
    (root / ".editor-agent").mkdir()
    os.symlink(victim, root / ".editor-agent" / "undo")
    with pytest.raises(OSError):
        Journal(root, RUN)
    assert sorted(p.name for p in victim.iterdir()) == ["dir", "secret.txt"]


def big(size: int) -> bytes:
    line = b"0123456789abcdef" * 4 + b"\n"
    return (line * (size // len(line) + 1))[:size]


def edited(root: Path, run_id: str = RUN) -> Editor:
    return Editor(Workspace(root), tool_by_type("text_editor_20250728"), journal=Journal(root, run_id))


def test_truncated_blob_is_refused_and_nothing_restored(root: Path):
    original = big(10 * 1024 * 1024 - 100)
    (root / "big.txt").write_bytes(original)
    (root / "small.txt").write_text("one\n")
    editor = edited(root)
    assert not editor.run({"command": "str_replace", "path": "small.txt", "old_str": "one", "new_str": "ONE"}).is_error
    assert not editor.run({"command": "insert", "path": "big.txt", "insert_line": 0, "insert_text": "top"}).is_error
    editor.journal.close()  # type: ignore[union-attr]
    blobs = root / ".editor-agent" / "undo" / RUN / "blobs"
    blob = next(p for p in blobs.iterdir() if p.stat().st_size > 1024)
    with open(blob, "r+b") as handle:  # a kill -9 or a full disk in the middle of the blob write
        handle.truncate(2 * 1024 * 1024)
    with pytest.raises(UndoError, match=r"saved copy of big\.txt .* is damaged"):
        undo_run(root, force=True)
    assert (root / "big.txt").read_bytes() == b"top\n" + original
    assert (root / "small.txt").read_text() == "ONE\n"  # all or nothing: not even the small file


def test_torn_blob_is_rewritten_by_the_next_run(root: Path):
    original = big(3 * 1024 * 1024)
    (root / "big.txt").write_bytes(original)
    editor = edited(root)
    editor.run({"command": "insert", "path": "big.txt", "insert_line": 0, "insert_text": "top"})
    editor.journal.close()  # type: ignore[union-attr]
    assert undo_run(root).restored == ["big.txt"]
    blobs = root / ".editor-agent" / "undo" / RUN / "blobs"
    blob = next(blobs.iterdir())
    os.makedirs(root / ".editor-agent" / "undo" / "20260101-000001-000000000-bbbb" / "blobs")
    torn = root / ".editor-agent" / "undo" / "20260101-000001-000000000-bbbb" / "blobs" / blob.name
    torn.write_bytes(original[:1000])  # left by a run killed while writing the same original
    second = edited(root, "20260101-000001-000000000-bbbb")
    second.run({"command": "insert", "path": "big.txt", "insert_line": 0, "insert_text": "again"})
    second.journal.close()  # type: ignore[union-attr]
    assert torn.read_bytes() == original
    assert undo_run(root).restored == ["big.txt"] and (root / "big.txt").read_bytes() == original


def test_state_dir_outside_the_workspace(root: Path, tmp_path: Path, run_cli: RunCli):
    (root / "a.txt").write_text("one\n")
    state = tmp_path / "state"
    editor = Editor(Workspace(root), tool_by_type("text_editor_20250728"), journal=Journal(root, RUN, state))
    editor.run({"command": "str_replace", "path": "a.txt", "old_str": "one", "new_str": "ONE"})
    editor.journal.close()  # type: ignore[union-attr]
    assert sorted(p.name for p in root.iterdir()) == ["a.txt"]
    assert oct(os.stat(state).st_mode & 0o777) == "0o700"
    blob = next((state / "undo" / RUN / "blobs").iterdir())
    assert oct(blob.stat().st_mode & 0o777) == "0o600"
    assert oct((state / "undo" / RUN / "journal.jsonl").stat().st_mode & 0o777) == "0o600"
    with pytest.raises(UndoError):
        undo_run(root)  # not in the workspace's own state directory
    done = run_cli("undo", "--workspace", str(root), "--state-dir", str(state))
    assert done.returncode == 0, done.stderr
    assert (root / "a.txt").read_text() == "one\n"


def test_a_read_only_run_with_a_state_dir_writes_nothing_in_the_workspace(tmp_path: Path, run_cli: RunCli):
    from editor_agent.testing import MessagesServer, Script

    repo = tmp_path / "checkout"
    repo.mkdir()
    (repo / "shop.py").write_text("def apply_discount(total, percent):\n    return total - total * percent\n")
    before = {p.name: p.read_bytes() for p in repo.iterdir()}
    state = tmp_path / "state"
    with MessagesServer(Script.model_validate({"turns": FIX}), api_key=KEY) as server:
        env = {"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": server.url}
        done = run_cli("run", "--workspace", str(repo), "--read-only", "--state-dir", str(state),
                            "--model", "claude-opus-4-5", "--json", "Fix it", env=env)  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    assert {p.name: p.read_bytes() for p in repo.iterdir()} == before  # no .editor-agent/, no edit
    transcripts = list((state / "runs").iterdir())
    assert len(transcripts) == 1 and not (state / "undo").exists()


def test_a_key_that_cannot_be_made_is_one_clear_error(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocker))
    with pytest.raises(StateError, match="cannot (read|make) the undo journal's key .*XDG_STATE_HOME"):
        Journal(root, RUN)


def test_a_short_key_left_by_a_crash_is_replaced_whole(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state-home"))
    key = tmp_path / "state-home" / "editor-agent" / "seal.key"
    key.parent.mkdir(parents=True)
    key.write_bytes(b"")  # a crash between creating the key file and writing it
    (root / "a.txt").write_text("one\n")
    editor = edited(root)
    editor.run({"command": "str_replace", "path": "a.txt", "old_str": "one", "new_str": "ONE"})
    editor.journal.close()  # type: ignore[union-attr]
    assert len(key.read_bytes()) == 32 and oct(key.stat().st_mode & 0o777) == "0o600"
    assert undo_run(root).restored == ["a.txt"]


def test_a_state_dir_inside_the_workspace_is_hidden_from_the_model(root: Path):
    """`--state-dir` may name any directory, even one in the workspace: the model must not read or
    rewrite the journal, blobs or transcripts there either."""
    import anthropic

    from editor_agent import RunOptions
    from editor_agent.agent.session import Session

    state = root / "my-state"
    journal = Journal(root, RUN, state)
    options = RunOptions(workspace=root, model="claude-opus-4-5", state_dir=state, transcript=root.parent / "t.jsonl")
    client = anthropic.Anthropic(api_key="unused", base_url="http://127.0.0.1:9")  # no request is made
    with Session.open(options, journal=journal, client=client) as session:
        for call in ({"command": "view", "path": "/repo/my-state/undo"},
                     {"command": "create", "path": "/repo/my-state/undo/x", "file_text": "x"}):  # fmt: skip
            result = session.editor.run(call)
            assert result.is_error and "hidden by the workspace policy" in str(result.content), result.content
        listing = session.editor.run({"command": "view", "path": "/repo"})
        assert "my-state" not in str(listing.content)
    journal.close()
