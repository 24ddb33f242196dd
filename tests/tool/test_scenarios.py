"""Editor golden cases as directories: `tests/tool/scenarios/NNN_name/` holds the workspace before (`input/`),
the tool calls (`calls.jsonl`, one input a line), the results the model reads (`results.txt`) and the
workspace after (`expected/`, byte for byte). Each runs through `editor-agent exec` with the tool
version in `tool.txt` (default text_editor_20250728). `.gitattributes` keeps the files' bytes (CRLF,
BOM, no final newline) exactly as committed.

To add one: make the directory with `input/` and `calls.jsonl`, run this test once with
`EDITOR_AGENT_WRITE_SCENARIOS=1` to write `results.txt` and `expected/`, and read both before committing.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

SCENARIOS = Path(__file__).parent / "scenarios"


def tree(root: Path) -> dict[str, bytes | None]:
    """Every file (bytes) and directory (None) under `root`, by relative path."""
    return {
        path.relative_to(root).as_posix(): (None if path.is_dir() else path.read_bytes())
        for path in sorted(root.rglob("*"))
    }


def results_text(lines: str) -> str:
    results = [json.loads(line) for line in lines.splitlines()]
    return "".join(
        f"--- call {number} ({'error' if result['is_error'] else 'ok'})\n{result['content']}\n"
        for number, result in enumerate(results, 1)
    )


@pytest.mark.parametrize("scenario", sorted(p.name for p in SCENARIOS.iterdir() if p.is_dir()))
def test_scenario(scenario: str, tmp_path: Path, run_cli) -> None:
    case = SCENARIOS / scenario
    work = tmp_path / "ws"
    shutil.copytree(case / "input", work)
    tool = (case / "tool.txt").read_text().strip() if (case / "tool.txt").exists() else "text_editor_20250728"
    calls = (case / "calls.jsonl").read_text()
    done = run_cli("exec", "--workspace", str(work), "--tool", tool, stdin=calls)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == len(calls.splitlines())
    if os.environ.get("EDITOR_AGENT_WRITE_SCENARIOS"):
        (case / "results.txt").write_text(results_text(done.stdout))
        shutil.rmtree(case / "expected", ignore_errors=True)
        shutil.copytree(work, case / "expected")
    assert results_text(done.stdout) == (case / "results.txt").read_text()
    assert tree(work) == tree(case / "expected")
