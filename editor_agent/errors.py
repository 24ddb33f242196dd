"""The one exception type the editor raises for the model: its message is the tool_result text."""


class ToolError(Exception):
    """A failed tool call. `str(error)` is what the model reads, with `is_error: true`."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class JobError(ValueError):
    """A job that cannot start as asked (bad path, --isolate outside git, ...); the message says why."""
