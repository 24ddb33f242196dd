"""Deterministic token counts and prompt-cache accounting, shaped like the API's `usage`.

The numbers are estimates (about four characters a token, plus the documented fixed overheads of the
text editor tool and the tool-use system prompt), but they are exact functions of the request, so a test
can assert them and a loop that caches well shows it in `cache_read_input_tokens`.

Caching follows the documented model: every `cache_control` breakpoint (in the order tools, system,
messages) ends a prefix; a prefix that reaches the minimum cacheable length is written to the cache; a
later request reads the longest cached prefix that ends at one of its breakpoints or at most
`lookback - 1` blocks before one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import threading
from dataclasses import dataclass
from typing import Any

from ..workspace.images import identify

TEXT_EDITOR_OVERHEAD = 700
"""Extra input tokens the docs list for every text editor tool version."""
TOOL_USE_SYSTEM_PROMPT = 346
"""The tool-use system prompt added whenever `tools` is non-empty (tool_choice auto/none on Claude 4.x)."""


def canonical(value: Any) -> str:
    """JSON that is equal for equal values: the unit both for counting and for comparing prefixes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def tokens_of_text(text: str) -> int:
    return math.ceil(len(text) / 4)


def tokens_of(value: Any) -> int:
    """About four characters a token; an image counts by its pixels, as the API counts it."""
    if isinstance(value, dict):
        if value.get("type") == "image":
            return _image_tokens(value)
        if value.get("type") == "tool_result" and isinstance(value.get("content"), list):
            rest = {k: v for k, v in value.items() if k != "content"}
            return tokens_of(rest) + sum(tokens_of(part) for part in value["content"])
    return math.ceil(len(canonical(value)) / 4)


def _image_tokens(block: dict[str, Any]) -> int:
    """width x height / 750, at most about 1,600 (the API scales larger images down first)."""
    try:
        info = identify(base64.b64decode((block.get("source") or {}).get("data", ""), validate=True))
    except ValueError:
        info = None
    return 1600 if info is None else max(1, min(1600, info.width * info.height // 750))


def _without_cache_control(block: Any) -> Any:
    if isinstance(block, dict):
        return {k: v for k, v in block.items() if k != "cache_control"}
    return block


@dataclass(frozen=True)
class Segment:
    """One cacheable block of the prompt: a tool, a system block or a message content block."""

    key: str
    tokens: int
    breakpoint: bool
    ttl: str = "5m"


def _segment(location: str, block: Any, extra_tokens: int = 0) -> Segment:
    control = block.get("cache_control") if isinstance(block, dict) else None
    plain = _without_cache_control(block)
    if isinstance(plain, dict) and plain.get("type") == "text" and isinstance(plain.get("text"), str):
        tokens = tokens_of_text(plain["text"])
    else:
        tokens = tokens_of(plain)
    ttl = control.get("ttl", "5m") if isinstance(control, dict) else "5m"
    return Segment(f"{location}:{canonical(plain)}", max(tokens, 1) + extra_tokens, control is not None, ttl)


def prompt_segments(body: dict[str, Any]) -> list[Segment]:
    """The request's blocks in cache order (tools, system, messages), each with its token estimate."""
    segments: list[Segment] = []
    for index, tool in enumerate(body.get("tools") or []):
        overhead = TOOL_USE_SYSTEM_PROMPT if index == 0 else 0
        if isinstance(tool, dict) and str(tool.get("type", "")).startswith("text_editor_"):
            overhead += TEXT_EDITOR_OVERHEAD
        segments.append(_segment("tool", tool, overhead))
    system = body.get("system")
    if isinstance(system, str) and system:
        segments.append(_segment("system", {"type": "text", "text": system}))
    elif isinstance(system, list):
        segments.extend(_segment("system", block) for block in system)
    for message in body.get("messages") or []:
        if not isinstance(message, dict):
            continue
        role = str(message.get("role"))
        content = message.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content or []
        segments.extend(_segment(role, block) for block in blocks)
    if isinstance(body.get("cache_control"), dict) and segments:  # automatic caching marks the last block
        last = segments[-1]
        segments[-1] = Segment(last.key, last.tokens, True, body["cache_control"].get("ttl", "5m"))
    return segments


@dataclass(frozen=True)
class InputUsage:
    """How one request's input splits into fresh, cache-read and cache-written tokens."""

    input_tokens: int
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    ephemeral_5m_input_tokens: int = 0
    ephemeral_1h_input_tokens: int = 0


class PromptCache:
    """Prefixes written at breakpoints, keyed by model and a hash chain over the blocks before them."""

    def __init__(self, min_tokens: int = 1024, lookback: int = 20) -> None:
        self.min_tokens = min_tokens
        self.lookback = lookback
        self._entries: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def account(self, model: str, segments: list[Segment]) -> InputUsage:
        """Split the input of a request, and write its breakpoints' prefixes to the cache."""
        hashes: list[str] = []
        totals: list[int] = []
        running_hash, running_total = "", 0
        for segment in segments:
            running_hash = hashlib.sha256((running_hash + segment.key).encode()).hexdigest()
            running_total += segment.tokens
            hashes.append(running_hash)
            totals.append(running_total)
        breakpoints = [i for i, s in enumerate(segments) if s.breakpoint]
        with self._lock:
            read_end = -1
            for point in breakpoints:
                for index in range(point, max(point - self.lookback, -1), -1):
                    if (model, hashes[index]) in self._entries:
                        read_end = max(read_end, index)
                        break
            written = [p for p in breakpoints if p > read_end and totals[p] >= self.min_tokens]
            for point in written:
                self._entries.add((model, hashes[point]))
        read = totals[read_end] if read_end >= 0 else 0
        created = totals[written[-1]] - read if written else 0
        total = totals[-1] if totals else 0
        long_ttl = bool(written) and segments[written[-1]].ttl == "1h"
        return InputUsage(
            input_tokens=total - read - created,
            cache_read_input_tokens=read,
            cache_creation_input_tokens=created,
            ephemeral_5m_input_tokens=0 if long_ttl else created,
            ephemeral_1h_input_tokens=created if long_ttl else 0,
        )


def output_tokens(content: list[dict[str, Any]]) -> int:
    """Output tokens of a reply: its texts, thinking and tool inputs at about four characters a token."""
    total = 0
    for block in content:
        kind = block.get("type")
        if kind == "text":
            total += tokens_of_text(block["text"])
        elif kind == "thinking":
            total += tokens_of_text(block["thinking"])
        elif kind == "redacted_thinking":
            total += tokens_of_text(block["data"])
        elif kind == "tool_use":
            total += tokens_of({"name": block["name"], "input": block["input"]})
    return max(total, 1)


@dataclass
class UsageTotals:
    """Sums over every reply the server gave."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0

    def add(self, usage: dict[str, Any]) -> None:
        self.input_tokens += int(usage.get("input_tokens") or 0)
        self.output_tokens += int(usage.get("output_tokens") or 0)
        self.cache_read_input_tokens += int(usage.get("cache_read_input_tokens") or 0)
        self.cache_creation_input_tokens += int(usage.get("cache_creation_input_tokens") or 0)
