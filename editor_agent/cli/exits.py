"""The one table from an outcome to an exit code, and the one way an error reaches a person.

0 success (a job that succeeded: `JobResult.succeeded`), 1 the work failed or was refused (a run
that did not complete, a failed check, a rejected edit, a refused commit, a git refusal, replay
differences), 2 the command could not start as asked (`errors.UsageError` and the tools file and
model errors), 130 interrupted. The exception tree is drawn in `editor_agent/errors.py`.
"""

from __future__ import annotations

import sys

from ..errors import EditorAgentError, UsageError
from ..safety.terminal import safe

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

# The first class the error is an instance of decides; an error in no row is a bug ("internal error").
EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (KeyboardInterrupt, EXIT_INTERRUPTED),
    (UsageError, EXIT_USAGE),  # JobError, BatchInputError, ConnectionError_, ToolsFileError, ModelResolutionError
    (EditorAgentError, EXIT_FAILED),  # Refused: GitSafetyError, StateError, UndoError
    (OSError, EXIT_FAILED),
    (ValueError, EXIT_FAILED),
)


def exit_code(error: BaseException) -> int | None:
    """The exit code for `error`, or None when the table does not know it."""
    return next((code for kind, code in EXIT_CODES if isinstance(error, kind)), None)


def fail(message: str, code: int = EXIT_FAILED) -> int:
    """Print one `editor-agent: error:` line on stderr (terminal-safe) and return `code`."""
    print(f"editor-agent: error: {safe(message, line=True)}", file=sys.stderr)
    return code


def report_error(error: BaseException, code: int) -> int:
    """An error a person can act on: one line per problem, nothing else; returns `code`."""
    if isinstance(error, KeyboardInterrupt):
        return fail("interrupted", code)
    for problem in getattr(error, "problems", None) or [str(error).replace("\n", "; ")]:
        fail(problem, code)
    return code
