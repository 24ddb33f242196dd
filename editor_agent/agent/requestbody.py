"""The JSON body of a Messages request, with each history message encoded only once.

The history only grows between turns, and its messages are never changed in place (the loop
replaces a message when it joins two, and marks cache breakpoints on copies). Encoding the
whole request every turn, as the SDK does after deep-copying it, made the request cost grow
with the conversation; here a turn encodes only the messages that are new or were replaced.
The bytes are what the SDK would send: compact JSON in UTF-8.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from pydantic import BaseModel


def _plain(value: Any) -> Any:
    """What JSON cannot hold as is, as the SDK sends it: dates in ISO 8601, models as their JSON, sets as lists.

    Such values come only from a user's extra body fields (a YAML date in `metadata`, say).
    """
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, (set, frozenset)):
        return list(value)
    raise TypeError(f"a request field holds a {type(value).__name__}, which cannot be sent as JSON")


_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_plain)
_ESCAPED = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=False, default=_plain)


class RequestEncoder:
    """Encodes request bodies; remembers the encoding of every message of the previous request."""

    def __init__(self) -> None:
        self._memo: dict[int, tuple[dict[str, Any], str]] = {}

    def encode(self, params: dict[str, Any], extra: dict[str, Any] | None = None) -> bytes:
        """`params` (with `messages`) plus the `extra` top-level fields, as the request body.

        Raises ValueError (or TypeError) for what cannot be sent: the caller reports it as a run error.
        """
        memo: dict[int, tuple[dict[str, Any], str]] = {}
        parts = []
        for message in params["messages"]:
            known = self._memo.get(id(message))
            text = known[1] if known is not None and known[0] is message else _COMPACT.encode(message)
            memo[id(message)] = (message, text)  # holding the message keeps its id from being reused
            parts.append(text)
        self._memo = memo
        if extra and "messages" in extra:
            raise ValueError("the body field `messages` is the conversation itself; it cannot be set")
        rest = {key: value for key, value in params.items() if key != "messages"}
        rest.update(extra or {})
        head = _COMPACT.encode(rest)
        body = '{"messages":[' + ",".join(parts) + "]" + ("," + head[1:] if head != "{}" else "}")
        try:
            return body.encode()
        except UnicodeEncodeError:  # a lone surrogate from the model: send it as a `\ud800` escape
            return _ESCAPED.encode({"messages": params["messages"], **rest}).encode()
