"""Promise 3: no lost update. Real processes edit one file at once; every edit reported done is there.

Two editor-agent processes insert tagged lines into one file as fast as they can; a person's
process appends lines in place. An edit that races another is refused ("changed on disk"), never
written over it: every line whose insert was reported successful must be in the final file.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

EDITS = 300
WORKER = textwrap.dedent(
    """
    import json, sys
    from editor_agent import Editor, Workspace, tool_by_type
    root, tag, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    editor = Editor(Workspace(root), tool_by_type("text_editor_20250728"))
    print("ready", flush=True)
    sys.stdin.readline()
    done = []
    for i in range(count):
        line = f"{tag}-{i}"
        result = editor.run({"command": "insert", "path": "/repo/shared.txt", "insert_line": 1, "insert_text": line})
        if not result.is_error:
            done.append(line)
        elif "changed on disk" not in result.content:
            raise SystemExit(result.content)
    if len(sys.argv) > 4:
        open(sys.argv[4], "w").close()  # tells a person's process beside this one to stop
    print(json.dumps(done), flush=True)
    """
)
APPENDER = textwrap.dedent(
    """
    import json, os, sys
    path, stop = sys.argv[1], sys.argv[2]
    print("ready", flush=True)
    sys.stdin.readline()
    written = []
    while not os.path.exists(stop):
        with open(path, "a") as handle:
            handle.write(f"person-{len(written)}\\n")
        written.append(f"person-{len(written)}")
    print(json.dumps(written), flush=True)
    """
)


def _race(root: Path, *workers: list[str]) -> list[str]:
    """Start the workers, let them go at once, and return every line they report as written."""
    processes = [
        subprocess.Popen([sys.executable, "-c", *w], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for w in workers
    ]
    for process in processes:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    reported: list[str] = []
    for process in processes:
        out, _ = process.communicate(timeout=300)
        assert process.returncode == 0, out
        reported += json.loads(out.strip().splitlines()[-1])
    return reported


def test_two_editor_agent_processes_lose_nothing(root: Path):
    (root / "shared.txt").write_text("head\n")
    reported = _race(root, [WORKER, str(root), "a", str(EDITS)], [WORKER, str(root), "b", str(EDITS)])
    lines = set((root / "shared.txt").read_text().splitlines())
    lost = [line for line in reported if line not in lines]
    assert reported and lost == [], f"{len(lost)} of {len(reported)} edits reported done were lost"


def test_a_person_appending_in_place_loses_nothing(root: Path):
    (root / "shared.txt").write_text("head\n")
    stop = str(root.parent / "stop")
    reported = _race(root, [WORKER, str(root), "a", str(EDITS), stop], [APPENDER, str(root / "shared.txt"), stop])
    lines = set((root / "shared.txt").read_text().splitlines())
    appended = [line for line in reported if line.startswith("person-")]
    lost = [line for line in reported if line not in lines]
    assert len(appended) > EDITS and lost == [], f"{len(lost)} of {len(reported)} lines were lost"
