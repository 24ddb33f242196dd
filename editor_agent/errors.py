"""Every exception editor-agent raises on purpose, in one tree (importable from every layer).

    EditorAgentError
    ├── ToolError              a failed tool call: its text is the model's tool_result (is_error)
    ├── WorkspaceError         a refused path or file, with its facts (workspace/errors.py: PathOutside,
    │                          PathHidden, FileTooLarge, FileChanged, ...); the editor words it for the model
    ├── UsageError             the command cannot start as asked; nothing was touched    → exit 2
    │   ├── JobError           a job's paths, globs or git flags (--isolate outside git, ...)
    │   ├── BatchInputError    a task file or batch flags: one line per problem
    │   ├── ConnectionError_   a connection profile, config file or credential      (api/connection.py)
    │   ├── ToolsFileError     a malformed tools.yaml                                (tool/versions.py)
    │   └── ModelResolutionError  a model that cannot get a text editor tool          (tool/versions.py)
    └── Refused                going on was not safe; what was done is kept              → exit 1
        ├── GitSafetyError     git could not make a checkpoint, worktree, branch, commit or patch
        ├── StateError         the state directory cannot be used safely
        └── UndoError          a run that cannot be undone as asked

The CLI turns these into exit codes in one table (`cli.main.EXIT_CODES`). `UsageError`,
`StateError` and `UndoError` are also `ValueError`s, as they always were.
"""

from __future__ import annotations

from collections.abc import Sequence


class EditorAgentError(Exception):
    """The root: anything editor-agent raises on purpose; the message is one line for a person."""


class ToolError(EditorAgentError):
    """A failed tool call. `str(error)` is what the model reads, with `is_error: true`."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(EditorAgentError, ValueError):
    """Bad flags, arguments or input files: the command did not start (exit 2)."""


class JobError(UsageError):
    """A job that cannot start as asked (bad path, --isolate outside git, ...); the message says why."""


class BatchInputError(UsageError):
    """The batch cannot start as asked; `problems` holds one line per thing to fix (exit 2)."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


class ConnectionError_(UsageError):  # noqa: N801  (the builtin ConnectionError is a different thing)
    """A connection setting, profile or credential that cannot be used; the message says which and why."""


class Refused(EditorAgentError):
    """A step that was not safe to take was refused; nothing of the user's is lost (exit 1)."""


class GitSafetyError(Refused):
    """A git operation the harness needed could not be done; the message is one line for a person."""


class StateError(Refused, ValueError):
    """The state directory cannot be used safely (a link, someone else's, not a directory, ...)."""


class UndoError(Refused, ValueError):
    """A run cannot be undone as asked (no journal, a tampered one, ...)."""
