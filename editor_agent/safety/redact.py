"""The one redaction step: no credential value leaves the process in anything the tool writes or prints.

A model-written check can print its environment, or read the parent's; a gateway can echo the
header it rejected. So every output (transcript, `--json`, reports, check output sent back to
the model, error messages, the terminal) passes `redact` first. The values are those of the
credential variables (ANTHROPIC_API_KEY, ANTHROPIC_AUTH_TOKEN and a profile's `credential_env`,
read when redacting) and any value registered when a connection hands its credential out.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

MARK = "[REDACTED]"
MIN_LENGTH = 8  # shorter values (test placeholders) would garble ordinary text; real credentials are long
DEFAULT_VARIABLES = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")

_lock = threading.Lock()
_variables: set[str] = set(DEFAULT_VARIABLES)
_values: set[str] = set()


def register(value: str | None) -> None:
    """Redact this value from now on (a credential given in code, or read from a variable)."""
    if value and len(value) >= MIN_LENGTH:
        with _lock:
            _values.add(value)


def register_variable(name: str) -> None:
    """Treat this environment variable as a credential: its value is redacted and checks run without it."""
    with _lock:
        _variables.add(name)


@contextmanager
def scoped() -> Iterator[None]:
    """What is registered inside is forgotten on exit: one command's credentials do not outlive it.

    The registrations are process-wide (any thread's output must be redacted), so a process that runs
    several commands, a test suite or a service calling `cli.main.main`, would otherwise keep every
    credential and credential variable it ever saw.
    """
    with _lock:
        values, names = set(_values), set(_variables)
    try:
        yield
    finally:
        with _lock:
            _values.clear()
            _values.update(values)
            _variables.clear()
            _variables.update(names)


def variables() -> frozenset[str]:
    """The names of the credential variables (kept out of a check's environment)."""
    with _lock:
        return frozenset(_variables)


def secrets() -> list[str]:
    """Every value to redact, longest first (so a key that contains another is replaced whole)."""
    with _lock:
        found = set(_values)
        names = list(_variables)
    for name in names:
        value = os.environ.get(name)
        if value and len(value) >= MIN_LENGTH:
            found.add(value)
    return sorted(found, key=len, reverse=True)


def redact(text: str) -> str:
    """`text` with every credential value replaced by [REDACTED]."""
    for value in secrets():
        if value in text:
            text = text.replace(value, MARK)
    return text


def redact_data(data: Any) -> Any:
    """A copy of JSON-like data (dicts, lists, strings) with every credential value redacted in its strings.

    Redacting the data rather than its JSON text also catches a value that JSON would escape.
    """
    values = secrets()
    if not values:
        return data
    return _walk(data, values)


def _walk(data: Any, values: list[str]) -> Any:
    if isinstance(data, str):
        for value in values:
            if value in data:
                data = data.replace(value, MARK)
        return data
    if isinstance(data, dict):
        return {_walk(k, values) if isinstance(k, str) else k: _walk(v, values) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_walk(item, values) for item in data]
    return data


class StreamRedactor:
    """Redaction for text that arrives in pieces: a value split across two pieces is still caught.

    `feed` holds back the longest tail that could begin a credential value; `flush` releases it.
    """

    def __init__(self) -> None:
        self._pending = ""

    def feed(self, piece: str) -> str:
        text = self._pending + piece
        values = secrets()
        if not values:
            self._pending = ""
            return text
        text = redact(text)
        keep = 0
        for value in values:
            for size in range(min(len(value) - 1, len(text)), keep, -1):
                if text.endswith(value[:size]):
                    keep = size
                    break
        self._pending = text[len(text) - keep :] if keep else ""
        return text[: len(text) - keep]

    def flush(self) -> str:
        text, self._pending = self._pending, ""
        return redact(text)
