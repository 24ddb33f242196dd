"""Run a user's check command in the workspace and read what pytest said."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from pydantic import BaseModel

OUTPUT_TAIL = 6000


class CheckResult(BaseModel):
    command: str
    passed: bool
    exit_code: int | None
    output: str  # the last OUTPUT_TAIL characters of stdout and stderr


def run_check(command: str, workdir: Path, timeout: float) -> CheckResult:
    """Run `command` through the shell in `workdir`; a timeout is a failure with a clear message."""
    try:
        done = subprocess.run(
            command, shell=True, cwd=workdir, capture_output=True, text=True, timeout=timeout, errors="replace"
        )
    except subprocess.TimeoutExpired:
        return CheckResult(command=command, passed=False, exit_code=None, output=f"timed out after {timeout:g}s")
    output = (done.stdout + done.stderr)[-OUTPUT_TAIL:]
    return CheckResult(command=command, passed=done.returncode == 0, exit_code=done.returncode, output=output)


def pytest_counts(output: str) -> dict[str, int]:
    """Counts from pytest's closing line (`3 passed, 1 failed in 0.1s`)."""
    counts: dict[str, int] = {}
    for number, word in re.findall(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed)", output):
        counts[word.rstrip("s") if word.startswith("error") else word] = int(number)
    return counts
