"""Run a user's check command in the workspace and read what pytest said.

The check runs code the model may have written, so it gets no credential: the variables
editor-agent authenticates with are left out of its environment, and what it prints is redacted
before it reaches the model or the transcript. It runs in its own process group, and when it ends
or times out the whole group goes: a child it left in the background neither outlives it nor keeps
the run waiting for output.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO

from pydantic import BaseModel

from ..safety import redact

OUTPUT_TAIL = 6000
_POLL = 0.05  # the longest pause between looks at a running check


class CheckResult(BaseModel):
    command: str
    passed: bool
    exit_code: int | None
    output: str  # the last OUTPUT_TAIL characters of stdout and stderr, as they came, redacted


def check_environment() -> dict[str, str]:
    """The process environment without the credential variables or any variable holding a credential's value."""
    names, values = redact.variables(), set(redact.secrets())
    return {k: v for k, v in os.environ.items() if k not in names and v not in values}


def run_check(command: str, workdir: Path, timeout: float) -> CheckResult:
    """Run `command` through the shell in `workdir`; a timeout is a failure with a clear message."""
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            command,
            shell=True,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=check_environment(),
            start_new_session=True,
        )
        try:
            finished = _wait(process, timeout)
        finally:
            _kill_group(process.pid)  # the shell is not reaped yet, so its group id cannot have been reused
            exit_code = process.wait()
        text = _tail(output)
    if not finished:
        note = f"timed out after {timeout:g}s"
        return CheckResult(command=command, passed=False, exit_code=None, output=f"{note}\n{text}" if text else note)
    return CheckResult(command=command, passed=exit_code == 0, exit_code=exit_code, output=text)


def _wait(process: subprocess.Popen[bytes], timeout: float) -> bool:
    """Wait until the process exits, at most `timeout` seconds; where the system allows, leave it unreaped
    (a zombie still holds its process group id, so killing the group cannot reach a stranger)."""
    if not hasattr(os, "waitid"):  # macOS: reaped here, so a recycled group id is possible but unlikely
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True
    deadline, pause = time.monotonic() + timeout, 0.001
    while True:
        try:
            if os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return True
        except ChildProcessError:
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(pause, left))
        pause = min(pause * 2, _POLL)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _tail(output: IO[bytes]) -> str:
    """The redacted last OUTPUT_TAIL characters of the output (a value cut at the window's edge is dropped too)."""
    longest = max((len(v) for v in redact.secrets()), default=0)
    size = output.seek(0, os.SEEK_END)
    start = max(0, size - 4 * (OUTPUT_TAIL + longest))
    output.seek(start)
    text = output.read().decode("utf-8", errors="replace")
    window = text[-(OUTPUT_TAIL + longest) :]
    cut = start > 0 or len(window) < len(text)
    text = redact.redact(window)
    return (text[longest:] if cut else text)[-OUTPUT_TAIL:]


def pytest_counts(output: str) -> dict[str, int]:
    """Counts from pytest's closing line (`3 passed, 1 failed in 0.1s`)."""
    counts: dict[str, int] = {}
    for number, word in re.findall(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed)", output):
        counts[word.rstrip("s") if word.startswith("error") else word] = int(number)
    return counts
