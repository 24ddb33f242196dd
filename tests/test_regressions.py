"""Each test pins a bug found in review: the reproduction, and the behaviour it must have now."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

from editor_agent import Editor, Workspace, tool_by_type
from editor_agent.agent.reply import read_streamed_reply
from editor_agent.agent.session import new_run_id
from editor_agent.jobs.doc import same_code
from editor_agent.jobs.fix import fix_spec
from editor_agent.workspace.watch import WorkspaceWatcher

from .conftest import RunCli


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


def test_lone_surrogate_is_an_error_result_and_exec_goes_on(tmp_path: Path, run_cli: RunCli):
    lines = [
        json.dumps({"command": "create", "path": "a.txt", "file_text": "smile \ud83d"}),
        json.dumps({"command": "create", "path": "b.txt", "file_text": "fine\n"}),
    ]
    done = run_cli("exec", "--workspace", str(tmp_path), "--model", "claude-opus-4-5", stdin="\n".join(lines) + "\n")
    assert done.returncode == 0, done.stderr
    first, second = (json.loads(line) for line in done.stdout.splitlines())
    assert first["is_error"] and "cannot hold the character" in first["content"]
    assert not second["is_error"] and (tmp_path / "b.txt").read_text() == "fine\n"
    assert not (tmp_path / "a.txt").exists()


def test_run_ids_sort_in_creation_order_within_a_second():
    ids = [new_run_id() for _ in range(200)]
    assert ids == sorted(ids) and len(set(ids)) == 200


def test_latin_1_french_is_shown_as_written(tmp_path: Path):
    text = "# Salut, ça va? Très bien. Et toi? déjà vu\nsecond\n"
    (tmp_path / "f.py").write_bytes(text.encode("latin-1"))
    editor = Editor(Workspace(tmp_path), tool_by_type("text_editor_20250728"))
    assert "ça va? Très bien" in editor.run({"command": "view", "path": "f.py"}).content
    result = editor.run({"command": "str_replace", "path": "f.py", "old_str": "Très bien", "new_str": "Très bon"})
    assert not result.is_error
    assert (tmp_path / "f.py").read_bytes() == text.replace("Très bien", "Très bon").encode("latin-1")


def test_fix_keeps_a_leading_dot_in_the_path(tmp_path: Path):
    (tmp_path / ".config").mkdir()
    (tmp_path / ".config" / "settings.py").write_text("x = 1\n")
    spec = fix_spec(tmp_path, "/repo", ".config/settings.py", "x is wrong", None, 1)
    assert "/repo/.config/settings.py" in spec.task
    assert fix_spec(tmp_path, "/repo", "./.config/settings.py", "x", None, 1).task == spec.task.replace(
        "x is wrong", "x"
    )


def test_doc_guard_accepts_a_docstring_that_replaces_a_stub_body():
    assert same_code(b"def f():\n    ...\n", b'def f():\n    """Do f."""\n')
    assert same_code(b"class A:\n    pass\n", b'class A:\n    """An A."""\n')
    assert not same_code(b"def f():\n    ...\n", b'def f():\n    """Do f."""\n    return 1\n')


def test_setuid_and_setgid_bits_are_kept(tmp_path: Path):
    path = tmp_path / "tool.sh"
    path.write_text("echo a\n")
    os.chmod(path, 0o6755)
    editor = Editor(Workspace(tmp_path), tool_by_type("text_editor_20250728"))
    assert not editor.run({"command": "str_replace", "path": "tool.sh", "old_str": "a", "new_str": "b"}).is_error
    assert stat.S_IMODE(path.stat().st_mode) == 0o6755


def test_clipped_view_with_an_empty_first_line(tmp_path: Path):
    (tmp_path / "f.txt").write_text("\n" + "x" * 100 + "\nend\n")
    editor = Editor(Workspace(tmp_path), tool_by_type("text_editor_20250728"), max_characters=50)
    content = editor.run({"command": "view", "path": "f.txt"}).content
    assert "has 0 characters" not in content
    assert content.splitlines()[1] == "     1\t" and "view_range` (e.g. [2," in content


def test_tool_input_given_whole_at_block_start_is_kept():
    events = [
        {"type": "message_start", "message": {"id": "m", "role": "assistant", "content": [], "usage": {}}},
        {"type": "content_block_start", "index": 0,
         "content_block": {"type": "tool_use", "id": "t1", "name": "x", "input": {"command": "view", "path": "/r"}}},
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 3}},
        {"type": "message_stop"},
    ]  # fmt: skip
    wire = "".join(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n" for event in events).encode()
    message = read_streamed_reply([wire])
    assert message["content"][0]["input"] == {"command": "view", "path": "/r"}
    assert message["stop_reason"] == "tool_use" and message["usage"]["output_tokens"] == 3


def test_a_tool_call_after_pause_turn(tmp_path: Path):
    from editor_agent.agent.session import Session
    from editor_agent.agent.settings import RunOptions
    from editor_agent.api.connection import Connection
    from editor_agent.testing import MessagesServer, Script

    (tmp_path / "a.py").write_text("x = 1\n")
    view = {
        "type": "tool_use",
        "name": "str_replace_based_edit_tool",
        "input": {"command": "view", "path": "/repo/a.py"},
    }
    turns = [
        {"content": [{"type": "text", "text": "Thinking it over"}], "stop_reason": "pause_turn"},
        {"content": [view]},
        {"content": [{"type": "text", "text": "Done."}], "stop_reason": "end_turn"},
    ]
    with MessagesServer(Script.model_validate({"turns": turns}), api_key="k") as server:
        options = RunOptions(workspace=tmp_path, model="claude-opus-4-5", transcript=tmp_path / "t.jsonl",
                             connection=Connection(base_url=server.url, api_key="k"))  # fmt: skip
        with Session.open(options) as session:
            result = session.loop.run("look")
        assert server.violations == []
    assert result.status == "completed", result.error


def test_tool_use_stop_without_a_tool_call(tmp_path: Path):
    from editor_agent.agent.session import Session
    from editor_agent.agent.settings import RunOptions
    from editor_agent.api.connection import Connection
    from editor_agent.testing import MessagesServer, Script

    turns = [{"content": [{"type": "text", "text": "hmm"}], "stop_reason": "tool_use"}]
    with MessagesServer(Script.model_validate({"turns": turns}), api_key="k") as server:
        options = RunOptions(workspace=tmp_path, model="claude-opus-4-5", transcript=tmp_path / "t.jsonl",
                             connection=Connection(base_url=server.url, api_key="k"))  # fmt: skip
        with Session.open(options) as session:
            result = session.loop.run("look")
    assert result.status == "error" and "sent no tool call" in result.error


def test_unreachable_base_url_is_reported_quickly(tmp_path: Path, run_cli: RunCli):
    started = time.monotonic()
    done = run_cli("run", "x", "--workspace", str(tmp_path), "--model", "claude-opus-4-5", "--base-url",
                "http://127.0.0.1:9", "--max-retries", "0", env={"ANTHROPIC_API_KEY": "k"})  # fmt: skip
    assert done.returncode == 1 and "could not reach http://127.0.0.1:9" in done.stderr
    assert time.monotonic() - started < 30


def test_bad_numbers_and_missing_files_exit_2(tmp_path: Path, run_cli: RunCli):
    (tmp_path / "a.py").write_text("x\n")
    env = {"ANTHROPIC_API_KEY": "k"}
    for args in (
        ["fix", "a.py", "bug", "--rounds", "0"],
        ["run", "x", "--max-retries", "-1"],
        ["run", "x", "--max-turns", "0"],
        ["run", "--resume", str(tmp_path / "nope.jsonl")],
        ["doc", "nothere.py"],
        ["run", "x", "--isolate", "--commit"],
    ):
        done = run_cli(*args, "--workspace", str(tmp_path), "--model", "claude-opus-4-5", env=env)
        assert done.returncode == 2, (args, done.stderr)
        assert "Traceback" not in done.stderr and "validation error" not in done.stderr
    assert run_cli("replay", str(tmp_path / "none.jsonl"), "--workspace", str(tmp_path)).returncode == 2
    assert run_cli("exec", "--workspace", str(tmp_path), "--tool", "text_editor_20250728",
                "--max-characters", "-1").returncode == 2  # fmt: skip


def test_demo_refuses_a_workspace_with_files(tmp_path: Path, run_cli: RunCli):
    (tmp_path / "README.md").write_text("my own readme\n")
    done = run_cli("demo", "--workspace", str(tmp_path))
    assert done.returncode == 2 and "is not empty" in done.stderr
    assert (tmp_path / "README.md").read_text() == "my own readme\n"


def test_demo_honours_limits(tmp_path: Path, run_cli: RunCli):
    done = run_cli("demo", "--workspace", str(tmp_path / "d"), "--max-turns", "1", "--json")
    assert done.returncode == 1 and json.loads(done.stdout)["status"] == "max_turns"


def test_replay_uses_the_recorded_mount(tmp_path: Path, run_cli: RunCli):
    from editor_agent.agent.session import Session
    from editor_agent.agent.settings import RunOptions
    from editor_agent.api.connection import Connection
    from editor_agent.testing import MessagesServer, Script

    work, copy = tmp_path / "work", tmp_path / "copy"
    work.mkdir()
    copy.mkdir()
    for root in (work, copy):
        (root / "a.py").write_text("x = 1\n")
    view = {
        "type": "tool_use",
        "name": "str_replace_based_edit_tool",
        "input": {"command": "view", "path": "/src/a.py"},
    }
    turns = [{"content": [view]}, {"content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn"}]
    with MessagesServer(Script.model_validate({"turns": turns}), api_key="k") as server:
        connection = Connection(base_url=server.url, api_key="k")
        options = RunOptions(workspace=work, model="claude-opus-4-5", mount="/src", max_characters=5000,
                             transcript=tmp_path / "t.jsonl", connection=connection)  # fmt: skip
        with Session.open(options) as session:
            assert session.loop.run("look").status == "completed"
    done = run_cli("replay", str(tmp_path / "t.jsonl"), "--workspace", str(copy))
    assert done.returncode == 0 and "1 tool calls replayed, 0 differ" in done.stdout
