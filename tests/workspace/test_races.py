"""Promise 1 under attack: another process swaps a workspace directory with a link to an outside
directory (renameat2 RENAME_EXCHANGE, in a loop) while edits run. Nothing outside is read or written."""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from editor_agent.tool.editor import Editor
from editor_agent.tool.versions import load_tools_file, tool_by_type
from editor_agent.workspace.sandbox import Workspace

from ..conftest import RunCli

SECRET = "OUTSIDE-SECRET"
RACER = textwrap.dedent(
    """
    import ctypes, os, sys
    libc = ctypes.CDLL(None, use_errno=True)
    a, b = (os.fsencode(p) for p in sys.argv[1:3])
    print("ready", flush=True)
    while True:
        libc.renameat2(-100, a, -100, b, 2)  # AT_FDCWD, RENAME_EXCHANGE
    """
)


def _has_exchange(tmp_path: Path) -> bool:
    libc = ctypes.CDLL(None, use_errno=True)
    if not hasattr(libc, "renameat2"):
        return False
    (tmp_path / "x").mkdir(parents=True)
    os.symlink("x", tmp_path / "y")
    return libc.renameat2(-100, os.fsencode(tmp_path / "x"), -100, os.fsencode(tmp_path / "y"), 2) == 0


@pytest.fixture
def raced(tmp_path: Path):
    """A workspace whose `sub/` trades places with a link to an outside directory, all the time."""
    if not _has_exchange(tmp_path / "probe"):
        raise RuntimeError("this kernel lacks renameat2(RENAME_EXCHANGE); the race cannot be staged")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "f.txt").write_text(f"value = 1\n# {SECRET}\n")
    root = tmp_path / "ws"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "f.txt").write_text("value = 1\n")
    os.symlink(outside, root / "link")
    racer = subprocess.Popen(
        [sys.executable, "-c", RACER, str(root / "sub"), str(root / "link")], stdout=subprocess.PIPE, text=True
    )
    assert racer.stdout is not None and racer.stdout.readline().strip() == "ready"
    try:
        yield root, outside
    finally:
        racer.kill()
        racer.wait()


def test_edits_never_touch_an_outside_directory_swapped_in(raced, tmp_path):
    root, outside = raced
    tool = tool_by_type("text_editor_20250728", load_tools_file(None))
    editor = Editor(Workspace(root), tool)
    before = {p.name: p.read_bytes() for p in outside.iterdir()}
    results = []
    deadline = time.monotonic() + 60
    for i in range(1500):
        if time.monotonic() > deadline:
            break
        value, other = (1, 2) if i % 2 == 0 else (2, 1)
        for path in ("/repo/sub/f.txt", "/repo/link/f.txt"):
            results.append(
                editor.run({"command": "str_replace", "path": path, "old_str": f"value = {value}",
                            "new_str": f"value = {other}"})
            )  # fmt: skip
        results.append(editor.run({"command": "create", "path": f"/repo/sub/new-{i}.txt", "file_text": "x\n"}))
        results.append(editor.run({"command": "view", "path": "/repo/sub/f.txt"}))
        results.append(editor.run({"command": "view", "path": "/repo/sub"}))
    after = {p.name: p.read_bytes() for p in outside.iterdir()}
    assert after == before, "a file outside the workspace was written or created"
    leaked = [r for r in results if SECRET in str(r.content)]
    assert not leaked, f"{len(leaked)} results showed an outside file: {leaked[0]}"
    assert any(not r.is_error for r in results)  # the race did not simply stop all work


def test_exec_answers_every_line_during_the_race(raced, run_cli: RunCli):
    root, outside = raced
    lines = []
    for i in range(300):
        lines.append({"command": "create", "path": f"/repo/sub/n{i}.txt", "file_text": "x\n"})
        lines.append({"command": "view", "path": "/repo/link/f.txt"})
        lines.append({"command": "str_replace", "path": "/repo/sub/f.txt", "old_str": "value", "new_str": "value"})
    done = run_cli("exec", "--workspace", str(root), "--tool", "text_editor_20250728",
                   stdin="".join(json.dumps(line) + "\n" for line in lines))  # fmt: skip
    assert done.returncode == 0, done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(results) == len(lines)
    assert not any(SECRET in str(r["content"]) for r in results)
    assert sorted(p.name for p in outside.iterdir()) == ["f.txt"]
