"""Every message of every command, pinned per tool version (update with `pytest --snapshot-update`)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from editor_agent import Editor, Policy, Workspace, tool_by_type

from ..conftest import VERSIONS

FILES: dict[str, bytes] = {
    "a.py": b"def f():\n\treturn 1\n\nx = 1\ny = 2\nx = 1\n",
    "pair.txt": b"x = 1\ny = 2\n\nx = 1\ny = 2\n",
    "crlf.txt": b"one\r\ntwo\r\nthree\r\n",
    "nofinal.txt": b"a\nb\nc",
    "empty.txt": b"",
    "indent.py": b"class A:\n    def m(self):\n        return 1\n\n    def n(self):\n        return 2\n",
    "quotes.txt": "print(\u201chello\u201d)  \nother\n".encode(),
    "long.txt": b"".join(b"line %d xxxxxxxxxxxxxxxxxxxx\n" % i for i in range(1, 701)),
    "wide.min.js": b"var a=" + b"1+" * 9000 + b"1;\n",
    "blob.bin": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "big.log": b"x" * 40000 + b"\n",
    "ro.txt": b"read only\n",
    ".env": b"SECRET=1\n",
    "src/m.py": b"pass\n",
    "src/.cache/c": b"",
    "src/deep/er/file.txt": b"deep\n",
    "src/deep/er/ru.txt": "# Комментарий\nx = 1\n".encode("cp1251"),  # too short to tell its encoding
    "dir with space/it's.txt": b"q\n",
}

CALLS: list[dict[str, Any]] = [
    # view
    {"command": "view", "path": "/repo"},
    {"command": "view", "path": "/repo/src"},
    {"command": "view", "path": "/repo/a.py"},
    {"command": "view", "path": "a.py", "view_range": [2, 3]},
    {"command": "view", "path": "a.py", "view_range": [5, -1]},
    {"command": "view", "path": "a.py", "view_range": [0, 2]},
    {"command": "view", "path": "a.py", "view_range": [3, 2]},
    {"command": "view", "path": "a.py", "view_range": [2, 99]},
    {"command": "view", "path": "a.py", "view_range": [7, -1]},
    {"command": "view", "path": "a.py", "view_range": [1]},
    {"command": "view", "path": "a.py", "view_range": ["1", "2"]},
    {"command": "view", "path": "/repo", "view_range": [1, 2]},
    {"command": "view", "path": "/repo/empty.txt"},
    {"command": "view", "path": "/repo/long.txt"},
    {"command": "view", "path": "/repo/wide.min.js"},
    {"command": "view", "path": "/repo/crlf.txt"},
    {"command": "view", "path": "/repo/blob.bin"},
    {"command": "view", "path": "/repo/big.log"},
    {"command": "view", "path": "/repo/missing.py"},
    {"command": "view", "path": "/repo/a"},
    {"command": "view", "path": "/etc/passwd"},
    {"command": "view", "path": "../outside"},
    {"command": "view", "path": "/repo/.git/config"},
    {"command": "view", "path": ""},
    {"command": "view", "path": "/repo/dir with space"},
    {"command": "view", "path": "/repo/src/deep/er/ru.txt"},
    {"command": "insert", "path": "/repo/src/deep/er/ru.txt", "insert_line": 1, "insert_text": "# Привет"},
    {"command": "str_replace", "path": "/repo/src/deep/er/ru.txt", "old_str": "x = 1", "new_str": "x = 2"},
    # create
    {"command": "create", "path": "/repo/new.py", "file_text": "print('hi')\n"},
    {"command": "create", "path": "/repo/new.py", "file_text": "again\n"},
    {"command": "create", "path": "/repo/pkg/sub/mod.py", "file_text": ""},
    {"command": "create", "path": "/repo/src", "file_text": "x"},
    {"command": "create", "path": "/repo/a.py/child.py", "file_text": "x"},
    {"command": "create", "path": "/repo/.env.local", "file_text": "x"},
    {"command": "create", "path": "/repo/.vscode/settings.json", "file_text": "x"},
    {"command": "create", "path": "/repo/x.py"},
    # str_replace
    {"command": "str_replace", "path": "/repo/a.py", "old_str": "y = 2", "new_str": "y = 20\nz = 30"},
    {"command": "str_replace", "path": "/repo/a.py", "old_str": "x = 1", "new_str": "x = 2"},
    {"command": "str_replace", "path": "/repo/pair.txt", "old_str": "x = 1\ny = 2", "new_str": "q"},
    {"command": "str_replace", "path": "/repo/a.py", "old_str": "", "new_str": "HELLO"},
    {"command": "str_replace", "path": "/repo/empty.txt", "old_str": "", "new_str": "HELLO"},
    {"command": "str_replace", "path": "/repo/a.py", "old_str": "  ", "new_str": "x"},
    {"command": "str_replace", "path": "/repo/a.py", "old_str": "def f():", "new_str": "def f():"},
    {"command": "str_replace", "path": "/repo/a.py", "old_str": "     2\treturn 1", "new_str": "return 3"},
    {"command": "str_replace", "path": "/repo/a.py", "old_str": "def f():\\n\\treturn 1", "new_str": "z"},
    {
        "command": "str_replace",
        "path": "/repo/a.py",
        "old_str": "def f():\n    return 1",
        "new_str": "def f():\n    return 5",
    },
    {"command": "str_replace", "path": "/repo/a.py", "old_str": "def g():\n\treturn 2", "new_str": "def f():"},
    {"command": "str_replace", "path": "/repo/crlf.txt", "old_str": "one\nTWO", "new_str": "1"},
    {"command": "str_replace", "path": "/repo/quotes.txt", "old_str": 'print("hello")', "new_str": 'print("bye")'},
    {
        "command": "str_replace",
        "path": "/repo/indent.py",
        "old_str": "def n(self):\n    return 2",
        "new_str": "def n(self):\n    return 3",
    },
    {"command": "str_replace", "path": "/repo/ro.txt", "old_str": "read", "new_str": "write"},
    {"command": "str_replace", "path": "/repo/.env", "old_str": "SECRET=1", "new_str": "SECRET=2"},
    {"command": "str_replace", "path": "/repo/src", "old_str": "a", "new_str": "b"},
    {"command": "str_replace", "path": "/repo/a.py", "new_str": "b"},
    {"command": "str_replace", "path": "/repo/a.py", "old_str": 5, "new_str": "b"},
    # insert
    {"command": "insert", "path": "/repo/nofinal.txt", "insert_line": 3, "insert_text": "X"},
    {"command": "insert", "path": "/repo/a.py", "insert_line": 0, "new_str": "# top\n"},
    {"command": "insert", "path": "/repo/a.py", "insert_line": 99, "insert_text": "X"},
    {"command": "insert", "path": "/repo/a.py", "insert_line": -1, "insert_text": "X"},
    {"command": "insert", "path": "/repo/a.py", "insert_line": 1},
    {"command": "insert", "path": "/repo/a.py", "insert_text": "X"},
    {"command": "insert", "path": "/repo/a.py", "insert_line": "2", "insert_text": "X"},
    {"command": "insert", "path": "/repo/a.py", "insert_line": 1, "insert_text": "A", "new_str": "B"},
    # undo_edit
    {"command": "undo_edit", "path": "/repo/a.py"},
    {"command": "undo_edit", "path": "/repo/a.py"},
    {"command": "undo_edit", "path": "/repo/new.py"},
    {"command": "undo_edit", "path": "/repo/never.py"},
    # malformed
    {"command": "delete", "path": "/repo/a.py"},
    {"path": "/repo/a.py"},
    {"command": "view", "path": "/repo/a.py", "bogus": True},
    ["not", "an", "object"],
]


@pytest.fixture
def populated(root: Path) -> Path:
    for name, data in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    os.chmod(root / "ro.txt", 0o444)
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]\n")
    return root


@pytest.mark.parametrize("version", VERSIONS)
def test_every_message(populated: Path, snapshot, version: str) -> None:
    editor = Editor(
        Workspace(populated, policy=Policy(max_file_bytes=32 * 1024)),
        tool_by_type(version),
        max_characters=1000,
    )
    transcript = []
    for call in CALLS:
        result = editor.run(call)
        transcript.append(f">>> {json.dumps(call)}\n<<< is_error={result.is_error}\n{result.content}\n")
    snapshot.snapshot_dir = Path(__file__).parent / "snapshots" / "messages"
    snapshot.assert_match("\n".join(transcript), f"{version}.txt")
