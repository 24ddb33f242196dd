"""Lost updates when several processes write one file at once: editor-agent against a plain writer.

Two scenarios, each run for editor-agent's Editor and for a plain "read, change, rename over"
writer (what an editor without checks does), with real processes started together:

- two writers: two processes each insert N tagged lines into one file;
- a person appending: one writer inserts N lines while another process appends lines in place
  (`open(path, "a")`, one line at a time) until the writer is done.

A lost update is a line whose write was reported done but is not in the final file. Refused
edits ("changed on disk") are counted separately: they are the safe outcome.

    python benchmarks/concurrency_bench.py             # 2,000 edits per writer, 3 rounds
    python benchmarks/concurrency_bench.py --edits 500 --rounds 1 --json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

WRITER = textwrap.dedent(
    """
    import json, os, sys
    root, tag, count, kind, stop = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
    path = os.path.join(root, "shared.txt")
    if kind == "editor-agent":
        from editor_agent import Editor, Workspace, tool_by_type
        editor = Editor(Workspace(root), tool_by_type("text_editor_20250728"))
    print("ready", flush=True)
    sys.stdin.readline()
    done, refused = [], 0
    for i in range(count):
        line = f"{tag}-{i}"
        if kind == "editor-agent":
            result = editor.run({"command": "insert", "path": "/repo/shared.txt", "insert_line": 1,
                                 "insert_text": line})
            if result.is_error:
                refused += 1
                continue
        else:
            with open(path) as handle:
                lines = handle.read().split("\\n")
            lines.insert(1, line)
            with open(f"{path}.{tag}.tmp", "w") as handle:
                handle.write("\\n".join(lines))
            os.replace(f"{path}.{tag}.tmp", path)
        done.append(line)
    if stop != "-":
        open(stop, "w").close()
    print(json.dumps({"done": done, "refused": refused}), flush=True)
    """
)
APPENDER = textwrap.dedent(
    """
    import json, os, sys
    path, stop = sys.argv[1], sys.argv[2]
    print("ready", flush=True)
    sys.stdin.readline()
    done = []
    while not os.path.exists(stop):
        with open(path, "a") as handle:
            handle.write(f"person-{len(done)}\\n")
        done.append(f"person-{len(done)}")
    print(json.dumps({"done": done, "refused": 0}), flush=True)
    """
)


def race(workers: list[list[str]]) -> list[dict[str, object]]:
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
    outcomes = []
    for process in processes:
        out, _ = process.communicate(timeout=1800)
        if process.returncode != 0:
            raise SystemExit(f"a worker failed: {out}")
        outcomes.append(json.loads(out.strip().splitlines()[-1]))
    return outcomes


def scenario(kind: str, name: str, edits: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "ws"
        root.mkdir()
        (root / "shared.txt").write_text("head\n")
        stop = str(Path(scratch) / "stop")
        if name == "two writers":
            workers = [[WRITER, str(root), tag, str(edits), kind, "-"] for tag in ("a", "b")]
        else:
            workers = [[WRITER, str(root), "a", str(edits), kind, stop], [APPENDER, str(root / "shared.txt"), stop]]
        outcomes = race(workers)
        present = set((root / "shared.txt").read_text().splitlines())
    done = [line for outcome in outcomes for line in outcome["done"]]  # type: ignore[attr-defined]
    refused = sum(int(outcome["refused"]) for outcome in outcomes)  # type: ignore[call-overload]
    lost = [line for line in done if line not in present]
    return {"writer": kind, "scenario": name, "reported_done": len(done), "refused": refused, "lost": len(lost)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--edits", type=int, default=2000, help="inserts per writer (default 2000)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    for _ in range(args.rounds):
        for name in ("two writers", "a person appending"):
            for kind in ("plain", "editor-agent"):
                rows.append(scenario(kind, name, args.edits))
    if args.json:
        print(json.dumps(rows))
        return
    print(f"{'scenario':<20} {'writer':<13} {'writes done':>12} {'refused':>8} {'lost':>6}")
    for row in rows:
        print(f"{row['scenario']:<20} {row['writer']:<13} {row['reported_done']:>12} {row['refused']:>8} "
              f"{row['lost']:>6}")  # fmt: skip


if __name__ == "__main__":
    main()
