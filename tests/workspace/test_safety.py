"""Nothing outside the workspace is ever read, listed or written (PEERS.md §10 cases 11-13, 15)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from editor_agent import Editor, Policy, Workspace, tool_by_type
from editor_agent.workspace.errors import WorkspaceError


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    path = tmp_path / "outside"
    path.mkdir()
    (path / "secret.txt").write_text("secret\n")
    return path


def test_symlink_to_outside_file_refused(root, outside, call):
    (root / "link.txt").symlink_to(outside / "secret.txt")
    for tool_input in (
        {"command": "view", "path": "link.txt"},
        {"command": "str_replace", "path": "link.txt", "old_str": "secret", "new_str": "x"},
        {"command": "insert", "path": "link.txt", "insert_line": 0, "insert_text": "x"},
    ):
        result = call(**tool_input)
        assert result.is_error and "escapes the workspace" in result.content
    assert (outside / "secret.txt").read_text() == "secret\n"


def test_symlinked_parent_directory_refused(root, outside, call):
    (root / "dirlink").symlink_to(outside)
    result = call(command="view", path="/repo/dirlink/secret.txt")
    assert result.is_error and "escapes the workspace" in result.content
    result = call(command="create", path="/repo/dirlink/new.txt", file_text="x")
    assert result.is_error and not (outside / "new.txt").exists()


def test_dangling_symlink_out_refused_for_create(root, outside, call):
    (root / "new").symlink_to(outside / "new")
    result = call(command="create", path="new", file_text="x")
    assert result.is_error and "escapes the workspace" in result.content
    assert not (outside / "new").exists()


def test_symlink_inside_workspace_is_followed(root, call):
    (root / "real.txt").write_text("a\n")
    (root / "alias.txt").symlink_to(root / "real.txt")
    assert not call(command="str_replace", path="alias.txt", old_str="a", new_str="b").is_error
    assert (root / "real.txt").read_text() == "b\n"


def test_symlink_to_hidden_path_is_hidden(root, call):
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]\n")
    (root / "cfg").symlink_to(root / ".git" / "config")
    result = call(command="view", path="cfg")
    assert result.is_error and "hidden by the workspace policy" in result.content


@pytest.mark.parametrize("path", ["/etc/passwd", "../x", "/repo/../etc/passwd", "a/../../x", "/repository/x", "/"])
def test_paths_outside_mount_refused(call, path):
    result = call(command="view", path=path)
    assert result.is_error and "outside the workspace" in result.content


def test_fifo_does_not_block(root, call):
    os.mkfifo(root / "pipe")
    result = call(command="view", path="pipe")
    assert result.is_error and "named pipe" in result.content


def test_socket_refused(root, call):
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(root / "sock"))
        result = call(command="view", path="sock")
        assert result.is_error and "socket" in result.content
    finally:
        server.close()


def test_device_via_symlink_refused(root, call):
    (root / "zero").symlink_to("/dev/zero")
    result = call(command="view", path="zero")
    assert result.is_error and "escapes the workspace" in result.content


def test_device_refused():
    # A device inside the workspace (a link to one is refused before: it leads outside). /dev itself
    # serves as the workspace: making a device node needs privileges a test run may not have.
    editor = Editor(Workspace("/dev"), tool_by_type("text_editor_20250728"))
    for command in ({"command": "view", "path": "null"}, {"command": "str_replace", "path": "null", "old_str": "a"}):
        result = editor.run(command)
        assert result.is_error and "character device" in result.content, result.content


def test_shell_metacharacters_listed_literally(root, call, tmp_path):
    for name in ["x;touch pwned;", "it's dir", "$(id)", "a b"]:
        (root / name).mkdir()
    (root / "a b" / "c d.txt").write_text("x\n")
    result = call(command="view", path="/repo")
    assert not result.is_error
    for name in ["x;touch pwned;/", "it's dir/", "$(id)/", "a b/", "a b/c d.txt"]:
        assert f"/repo/{name}\n" in result.content
    assert not list(tmp_path.rglob("pwned"))


def test_directory_listing_hides_and_counts(root, call):
    (root / ".git").mkdir()
    (root / ".env").write_text("K=1\n")
    (root / "src" / ".cache").mkdir(parents=True)
    (root / "src" / "m.py").write_text("pass\n")
    result = call(command="view", path="/repo")
    assert result.content.splitlines()[1:4] == ["/repo", "/repo/src/", "/repo/src/m.py"]
    assert "3 hidden items" in result.content


def test_view_hidden_directory_itself(root, call):
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "ci.yml").write_text("on: push\n")
    result = call(command="view", path="/repo/.github")
    assert not result.is_error and "/repo/.github/workflows/ci.yml" in result.content


def test_binary_refused_for_view_and_edit(root, call):
    data = b"abc\x00def\n"
    (root / "b.dat").write_bytes(data)
    for tool_input in (
        {"command": "view", "path": "b.dat"},
        {"command": "str_replace", "path": "b.dat", "old_str": "abc", "new_str": "x"},
    ):
        result = call(**tool_input)
        assert result.is_error and "not a text file" in result.content
    assert (root / "b.dat").read_bytes() == data


def test_oversized_file_refused(root, make_editor):
    (root / "big.log").write_bytes(b"x\n" * 600_000)
    editor = make_editor(policy=Policy(max_file_bytes=1_000_000))
    result = editor.run({"command": "view", "path": "big.log"})
    assert result.is_error and "too large (1.1 MiB; the limit is 976.6 KiB)" in result.content


def test_read_only_policy_patterns(root, call):
    (root / "app" / ".vscode").mkdir(parents=True)
    (root / "app" / ".vscode" / "tasks.json").write_text("{}\n")
    result = call(command="str_replace", path="app/.vscode/tasks.json", old_str="{}", new_str="[]")
    assert result.is_error and "protected by the workspace policy (pattern `.vscode`)" in result.content
    assert not call(command="view", path="app/.vscode/tasks.json").is_error


def test_key_files_are_hidden_not_just_protected(root, call):
    (root / "keys").mkdir()
    (root / "keys" / "server.pem").write_text("KEY\n")
    result = call(command="view", path="keys/server.pem")
    assert result.is_error and "hidden by the workspace policy (pattern `*.pem`)" in result.content


def test_custom_policy(root, make_editor):
    (root / "build").mkdir()
    (root / "build" / "out.txt").write_text("x\n")
    (root / ".envrc").write_text("x\n")
    (root / ".env").write_text("x\n")
    editor = make_editor(policy=Policy(hidden=("build/*",), read_only=()))
    result = editor.run({"command": "view", "path": "build/out.txt"})
    assert result.is_error and "hidden by the workspace policy (pattern `build/*`)" in result.content, result.content
    # The given lists replace the defaults: .envrc (protected by default) is writable, .env (hidden) visible.
    result = editor.run({"command": "str_replace", "path": ".envrc", "old_str": "x", "new_str": "y"})
    assert not result.is_error, result.content
    assert (root / ".envrc").read_text() == "y\n"
    assert not editor.run({"command": "view", "path": ".env"}).is_error
    default = make_editor()
    assert default.run({"command": "str_replace", "path": ".envrc", "old_str": "y", "new_str": "z"}).is_error
    assert default.run({"command": "view", "path": ".env"}).is_error


segments = st.sampled_from(["..", ".", "a", "b", "link", "out", "", "/", "repo", "~", "%2e%2e", "a\\..", "\x00"])


@settings(max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(segments, min_size=1, max_size=8), absolute=st.booleans())
def test_no_generated_path_escapes(tmp_path_factory, parts, absolute):
    base = tmp_path_factory.mktemp("prop")
    root = base / "ws"
    (root / "a" / "b").mkdir(parents=True)
    (base / "out").mkdir(exist_ok=True)
    (root / "link").symlink_to(base / "out")
    (root / "a" / "link").symlink_to(root / "a" / "b")
    workspace = Workspace(root)
    path = ("/repo/" if absolute else "") + "/".join(parts)
    try:
        target = workspace.resolve(path)
    except WorkspaceError:
        return
    real = Path(os.path.realpath(target.real))
    assert real == root.resolve() or root.resolve() in real.parents
    editor = Editor(workspace, tool_by_type("text_editor_20250728"))
    editor.run({"command": "create", "path": path, "file_text": "x"})
    assert list((base / "out").iterdir()) == []


def test_workspace_errors_carry_facts_and_read_as_one_line(root: Path) -> None:
    import pickle

    from editor_agent.workspace.errors import FileTooLarge, PathHidden, PathOutside

    workspace = Workspace(root, policy=Policy(max_file_bytes=10))
    with pytest.raises(PathOutside) as outside:
        workspace.resolve("../x")
    assert (outside.value.path, outside.value.mount) == ("../x", "/repo")
    assert str(outside.value) == "../x is outside the workspace (paths are inside /repo or relative to it)"
    with pytest.raises(PathHidden) as hidden:
        workspace.resolve("/repo/.env")
    assert hidden.value.pattern == ".env" and str(hidden.value).startswith("/repo/.env is hidden")
    (root / "big.txt").write_bytes(b"x" * 20)
    with pytest.raises(FileTooLarge) as large:
        workspace.read(workspace.resolve("big.txt"))
    assert (large.value.size, large.value.limit) == (20, 10)
    assert str(large.value) == "/repo/big.txt is too large (20 bytes; the limit is 10 bytes)"
    again = pickle.loads(pickle.dumps(large.value))
    assert isinstance(again, FileTooLarge) and str(again) == str(large.value)
