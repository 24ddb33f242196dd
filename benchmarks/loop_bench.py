"""Benchmark the agent loop on a 30-turn scripted session against the local Messages API server.

Prints (a) the harness's own time per turn: the wall time of each turn minus the time the server
spent answering it (so SDK request building, HTTP, SSE parsing, tool execution and transcript
writing all count as ours), as a median over the turns of several runs; the server runs in a
child process so the two do not share the GIL. And (b) the input tokens billed at full price with
prompt caching on, against the same session with caching off, plus the input cost with cache
writes (1.25x) and reads (0.1x) weighed in.

    python benchmarks/loop_bench.py            # 5 runs of 30 turns
    python benchmarks/loop_bench.py --runs 2   # quicker
    python benchmarks/loop_bench.py --json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import tempfile
import time
from multiprocessing.connection import Connection as Connection_
from pathlib import Path
from typing import Any

from editor_agent.agent.progress import Progress
from editor_agent.agent.session import Session
from editor_agent.agent.settings import RunOptions, RunSettings
from editor_agent.api.connection import Connection
from editor_agent.testing import MessagesServer, Script

TURNS = 30
KEY = "bench-key"
TOOL = "str_replace_based_edit_tool"
MODEL = "claude-opus-4-5"


def source_file(lines: int = 300) -> str:
    return "".join(f"def function_{i}(value):\n    return value * {i}  # step {i}\n\n" for i in range(lines // 3))


def session() -> list[dict[str, Any]]:
    """29 tool turns (views, ranged views, edits, inserts) and a final answer."""
    turns: list[dict[str, Any]] = []
    for i in range(TURNS - 1):
        kind = i % 4
        if kind == 0:
            call = {"command": "view", "path": "/repo/module.py"}
        elif kind == 1:
            call = {"command": "view", "path": "/repo/module.py", "view_range": [3 * i + 1, 3 * i + 12]}
        elif kind == 2:
            old, new = f"    return value * {i}  # step {i}\n", f"    return value * {i} + 1\n"
            call = {"command": "str_replace", "path": "/repo/module.py", "old_str": old, "new_str": new}
        else:
            call = {"command": "insert", "path": "/repo/module.py", "insert_line": 3 * i, "insert_text": f"# note {i}"}
        thought = {"type": "text", "text": f"Step {i}: looking at function {i} and deciding what to change next."}
        turns.append({"content": [thought, {"type": "tool_use", "name": TOOL, "input": call}]})
    turns.append({"content": [{"type": "text", "text": "All steps are done."}], "stop_reason": "end_turn"})
    return turns


class _Clock(Progress):
    """Wall and CPU time at the start of every turn (the CPU clock counts this process only)."""

    def __init__(self) -> None:
        self.starts: list[float] = []
        self.cpu: list[float] = []

    def turn(self, number: int) -> None:
        self.starts.append(time.perf_counter())
        self.cpu.append(time.process_time())


def _serve(script: list[dict[str, Any]], channel: Connection_) -> None:
    """Child process: the server runs apart from the harness, so they do not share the GIL."""
    with MessagesServer(Script.model_validate({"turns": script}), api_key=KEY) as server:
        channel.send(server.url)
        channel.recv()  # the harness is done
        channel.send(([r.seconds for r in server.requests], server.violations))


def one_run(cache: bool) -> tuple[list[float], dict[str, int], list[str]]:
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.Process(target=_serve, args=(session(), child), daemon=True)
    process.start()
    try:
        url = parent.recv()
        with tempfile.TemporaryDirectory() as scratch:
            repo = Path(scratch) / "repo"
            repo.mkdir()
            (repo / "module.py").write_text(source_file())
            os.environ["ANTHROPIC_API_KEY"] = KEY
            clock = _Clock()
            options = RunOptions(
                workspace=repo,
                model=MODEL,
                settings=RunSettings(cache=cache, max_turns=TURNS + 1),
                connection=Connection(base_url=url),
                transcript=Path(scratch) / "run.jsonl",
            )
            with Session.open(options, progress=clock) as run:
                result = run.loop.run("Work through the steps.")
            ended, ended_cpu = time.perf_counter(), time.process_time()
        parent.send("done")
        served, violations = parent.recv()
    finally:
        process.join(timeout=10)
    assert result.status == "completed", result.error
    bounds, cpu = [*clock.starts, ended], [*clock.cpu, ended_cpu]
    harness = [bounds[i + 1] - bounds[i] - served[i] for i in range(len(served))]
    one_run.cpu = [cpu[i + 1] - cpu[i] for i in range(len(served))]  # type: ignore[attr-defined]
    return harness, result.usage.model_dump(), violations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    one_run(cache=True)  # warm up: imports, first connection
    per_turn: list[float] = []
    edit_turns: list[float] = []  # the str_replace and insert turns: they also write and fsync the file
    cpu_per_turn: list[float] = []
    cached: dict[str, int] = {}
    uncached: dict[str, int] = {}
    problems: list[str] = []
    for _ in range(args.runs):
        harness, cached, violations = one_run(cache=True)
        per_turn += harness
        edit_turns += [seconds for i, seconds in enumerate(harness[: TURNS - 1]) if i % 4 >= 2]
        cpu_per_turn += one_run.cpu  # type: ignore[attr-defined]
        problems += violations
        _, uncached, violations = one_run(cache=False)
        problems += violations
    median_ms = statistics.median(per_turn) * 1000
    share = cached["input_tokens"] / uncached["input_tokens"]
    weighted = (
        cached["input_tokens"] + 1.25 * cached["cache_creation_input_tokens"] + 0.1 * cached["cache_read_input_tokens"]
    ) / uncached["input_tokens"]
    figures = {
        "turns_per_run": TURNS,
        "runs": args.runs,
        "harness_ms_per_turn_median": round(median_ms, 2),
        "harness_ms_per_turn_p90": round(statistics.quantiles(per_turn, n=10)[-1] * 1000, 2),
        "harness_ms_per_edit_turn_median": round(statistics.median(edit_turns) * 1000, 2),
        "harness_cpu_ms_per_turn_median": round(statistics.median(cpu_per_turn) * 1000, 2),
        "input_tokens_full_price_cached": cached["input_tokens"],
        "input_tokens_full_price_uncached": uncached["input_tokens"],
        "full_price_share": round(share, 4),
        "input_cost_share": round(weighted, 4),
        "cache_read_tokens": cached["cache_read_input_tokens"],
        "cache_write_tokens": cached["cache_creation_input_tokens"],
        "validator_violations": len(problems),
    }
    if args.json:
        print(json.dumps(figures))
        return
    print(f"{TURNS}-turn scripted session, {args.runs} runs, model {MODEL}, local Messages API server")
    print(f"(a) harness time per turn (wall minus server): median {median_ms:.2f} ms, "
          f"p90 {figures['harness_ms_per_turn_p90']:.2f} ms   target < 5 ms")  # fmt: skip
    print(f"    turns that edit the file (str_replace, insert: write, fsync, rename): "
          f"median {figures['harness_ms_per_edit_turn_median']:.2f} ms")  # fmt: skip
    print(f"    CPU time of the harness process per turn: median {figures['harness_cpu_ms_per_turn_median']:.2f} ms "
          "(the same work without waiting on disk or network)")  # fmt: skip
    print(f"(b) input tokens at full price: {cached['input_tokens']} with caching, "
          f"{uncached['input_tokens']} without = {share:.1%}   target <= 25%")  # fmt: skip
    print(f"    with caching: {cached['cache_read_input_tokens']} cache-read tokens (billed at 0.1x), "
          f"{cached['cache_creation_input_tokens']} cache-write tokens (1.25x); input cost with caching "
          f"= {weighted:.1%} of the input cost without")  # fmt: skip
    print(f"    requests rejected by the server's validator: {len(problems)}")


if __name__ == "__main__":
    main()
