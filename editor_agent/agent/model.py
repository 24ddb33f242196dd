"""What the loop needs from a model: one reply to one request. Tests drive the loop with a fake.

`sdk_model.SDKModel` is the implementation over the Messages API. A `Model` raises only these:

    ReplyBrokeOff    the reply stopped part-way (connection lost, a transient error event):
                     nothing of it has run, so the loop sends the same request again
    DeadlinePassed   the run's time limit came while waiting (`during` says for what)
    ReplyFailed      the request failed for good (the client already retried what it retries)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol


class Model(Protocol):
    def reply(
        self, body: bytes, headers: dict[str, str], *, deadline: float | None, on_text: Callable[[str], None]
    ) -> dict[str, Any]:
        """The whole message answering the request `body` (encoded JSON): `content`, `stop_reason`, `usage`...

        `deadline` (`time.monotonic()` clock) bounds every wait; `on_text` gets the reply's text as it arrives.
        """
        ...


class ReplyBrokeOff(Exception):
    """The reply broke off part-way; `cause` is what broke it (its name and text go to the transcript)."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.cause = cause


class DeadlinePassed(Exception):
    """The run's deadline passed while waiting; `during` is e.g. " (waiting for the server)"."""

    def __init__(self, during: str = "") -> None:
        super().__init__(during)
        self.during = during


class ReplyFailed(Exception):
    """The request failed for good; the text is one line a person can act on."""
