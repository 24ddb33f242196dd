"""Benchmark of `editor-agent batch` against a rate-limited local Messages API.

N small Python files without docstrings in a temporary git repository, one `doc` task per file.
The local server answers each conversation with a `str_replace` adding a docstring to that
conversation's file, then `end_turn` (two requests a task), and answers 429 above
`rate_limit_per_minute` requests in any 60 seconds. It prints:

- throughput: requests answered per minute over the whole run, as a fraction of the limit;
- tasks failed (the batch's own verdict);
- lost edits: files that should have a docstring after the merge but do not.

    python benchmarks/batch_bench.py                      # 100 tasks, 120 requests/min: about 2 minutes
    python benchmarks/batch_bench.py --tasks 20 --rpm 600 # a quicker run
    python benchmarks/batch_bench.py --mode reactive      # no --rpm: only the shared 429 backoff

`paced` passes the server's limit to the batch as `--rpm`; `reactive` does not, so the workers
learn the limit only from 429s. The server's window is a sliding 60 seconds, which admits a whole
minute's requests at once: a reactive run shorter than a few minutes can exceed 100% of the
nominal rate, so for it the time is also compared with the fastest the window allows.
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from editor_agent.cli.batch import add_batch_parser, run_batch_command
from editor_agent.testing import MessagesServer

KEY = "sk-batch-bench"
TOOL = "str_replace_based_edit_tool"
MODEL = "claude-opus-4-5"
FILE = re.compile(r"/repo/(mod_(\d+)\.py)")


def make_repo(root: Path, count: int) -> None:
    root.mkdir(parents=True)
    for number in range(count):
        (root / f"mod_{number:03d}.py").write_text(f"def f_{number:03d}(x):\n    return x + {number}\n")
    tasks = "".join(f"  - {{name: doc-{n:03d}, job: doc, paths: [mod_{n:03d}.py]}}\n" for n in range(count))
    (root.parent / "tasks.yaml").write_text(f"model: {MODEL}\ntasks:\n{tasks}")
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "start"]):
        subprocess.run(["git", "-c", "user.name=b", "-c", "user.email=b@b", *command], cwd=root, check=True)


def respond(body: dict[str, Any]) -> dict[str, Any]:
    """First reply: add a module docstring to this conversation's file; second: done."""
    first = body["messages"][0]["content"]
    text = first if isinstance(first, str) else first[0]["text"]
    match = FILE.search(text)
    assert match is not None, "a doc task names its file"
    if sum(m["role"] == "assistant" for m in body["messages"]) == 0:
        number = match.group(2)
        docstring = f'"""Module {number}: adds {int(number)} to its argument."""'
        edit = {"command": "str_replace", "path": match.group(0), "old_str": f"def f_{number}(x):",
                "new_str": f"{docstring}\n\n\ndef f_{number}(x):"}  # fmt: skip
        return {"content": [{"type": "tool_use", "name": TOOL, "input": edit}]}
    return {"content": [{"type": "text", "text": "Documented."}], "stop_reason": "end_turn"}


def lost_edits(root: Path, count: int) -> list[str]:
    missing = []
    for number in range(count):
        path = root / f"mod_{number:03d}.py"
        if ast.get_docstring(ast.parse(path.read_text())) is None:
            missing.append(path.name)
    return missing


def run(count: int, rpm: int, jobs: int, paced: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="batch-bench-") as temporary:
        root = Path(temporary) / "repo"
        make_repo(root, count)
        with MessagesServer(responder=respond, api_key=KEY, rate_limit_per_minute=rpm) as server:
            os.environ.update(ANTHROPIC_API_KEY=KEY, ANTHROPIC_BASE_URL=server.url)
            parser = argparse.ArgumentParser(prog="editor-agent")
            add_batch_parser(parser.add_subparsers(dest="command"))
            argv = ["batch", str(root.parent / "tasks.yaml"), "--workspace", str(root), "--jobs", str(jobs), "--json",
                    "--quiet", *(["--rpm", str(rpm)] if paced else [])]  # fmt: skip
            out = io.StringIO()
            started = time.monotonic()
            code = run_batch_command(parser.parse_args(argv), out)
            elapsed = time.monotonic() - started
            requests = server.requests
            violations = server.violations
        report = json.loads(out.getvalue())
        answered = sum(r.status == 200 for r in requests)
        return {
            "exit_code": code,
            "elapsed": elapsed,
            "answered": answered,
            "rate_limited": sum(r.status == 429 for r in requests),
            "failed": report["totals"]["failed"] + report["totals"]["not_run"],
            "errors": [f"{t['name']}: {t['error']}" for t in report["tasks"] if t["status"] != "succeeded"],
            "lost": lost_edits(root, count),
            "violations": violations,
        }


def show(mode: str, figures: dict[str, Any], count: int, rpm: int, jobs: int) -> None:
    elapsed, answered = figures["elapsed"], figures["answered"]
    per_minute = answered / elapsed * 60
    print(f"\n{mode}: {count} doc tasks, --jobs {jobs}, server limit {rpm} requests/min"
          + (f", --rpm {rpm}" if mode == "paced" else ", no --rpm"))  # fmt: skip
    print(f"  elapsed {elapsed:.1f} s · {answered} requests answered · {figures['rate_limited']} answered 429")
    print(f"  throughput: {per_minute:.1f} requests/min = {per_minute / rpm:.1%} of the limit (target >= 90%)")
    if mode == "reactive":
        fastest = 60.0 * ((answered - 1) // rpm)
        if fastest:
            print(f"  the sliding window lets {answered} requests through in {fastest:.0f} s at best: "
                  f"{fastest / elapsed:.1%} of that pace")  # fmt: skip
    print(f"  tasks failed: {figures['failed']} (target 0) · exit code {figures['exit_code']}")
    for error in figures["errors"][:5]:
        print(f"    {error}")
    print(f"  lost edits: {len(figures['lost'])} of {count} files lack their docstring after the merge (target 0)")
    if figures["violations"]:
        print(f"  server violations: {figures['violations'][:3]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=100, help="doc tasks, one file each (default 100)")
    parser.add_argument("--rpm", type=int, default=120, help="the server's requests-per-minute limit (default 120)")
    parser.add_argument("--jobs", type=int, default=8, help="tasks at once (default 8)")
    parser.add_argument("--mode", choices=["paced", "reactive", "both"], default="paced")
    args = parser.parse_args()
    os.environ.update(GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    modes = ["paced", "reactive"] if args.mode == "both" else [args.mode]
    ok = True
    for mode in modes:
        figures = run(args.tasks, args.rpm, args.jobs, paced=mode == "paced")
        show(mode, figures, args.tasks, args.rpm, args.jobs)
        ok = ok and not figures["failed"] and not figures["lost"] and not figures["violations"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
