"""The limits checked between turns: turns, tokens, cost, time, and a model going in circles.

A model is "stuck" when every tool call of several turns in a row failed, or when it repeats
the turn before exactly (same calls, same results): it is stopped rather than paid for.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from ..tool.versions import ResolvedModel
from .outcome import Stop
from .settings import RunSettings
from .usage import Usage


def timed_out(max_seconds: float | None, during: str = "") -> Stop:
    """The `Stop` for a run that reached its time limit; `during` says what it was waiting for."""
    return Stop("timeout", f"ran for {max_seconds:g} seconds, the time limit{during}")


class Limits:
    """The run's limits, its start time, and the counts of failed and repeated turns."""

    def __init__(self, settings: RunSettings, resolved: ResolvedModel) -> None:
        self.settings, self.resolved = settings, resolved
        self.started = time.monotonic()
        self._failed_turns = 0
        self._last_turn: list[tuple[Any, ...]] | None = None
        self._repeats = 0

    def deadline(self) -> float | None:
        """When the run must end (`time.monotonic()` clock), if it has a time limit."""
        seconds = self.settings.max_seconds
        return None if seconds is None else self.started + seconds

    def check(self, turns: int, usage: Usage) -> None:
        """Raise `Stop` if another turn would go past a limit."""
        s = self.settings
        if turns >= s.max_turns:
            raise Stop("max_turns", f"reached the limit of {s.max_turns} turns")
        if s.max_total_tokens is not None and usage.total >= s.max_total_tokens:
            raise Stop("budget", f"used {usage.total} tokens, the limit is {s.max_total_tokens}")
        cost = usage.cost(self.resolved.price)
        if s.max_cost_usd is not None:
            if cost is None:
                raise Stop("budget", f"--max-cost needs a price for {self.resolved.family} in tools.yaml")
            if cost >= s.max_cost_usd:
                raise Stop("budget", f"spent ${cost:.4f}, the limit is ${s.max_cost_usd:.4f}")
        if s.max_seconds is not None and time.monotonic() - self.started >= s.max_seconds:
            raise timed_out(s.max_seconds)
        if s.max_failed_turns is not None and self._failed_turns >= s.max_failed_turns:
            raise Stop("stuck", f"every tool call failed in the last {self._failed_turns} turns "
                                f"(limit {s.max_failed_turns})")  # fmt: skip
        if s.max_repeats is not None and self._repeats >= s.max_repeats:
            raise Stop("stuck", f"the model repeated the same tool calls with the same results {self._repeats} "
                                "turns in a row")  # fmt: skip

    def note_turn(self, uses: list[dict[str, Any]], results: list[dict[str, Any]]) -> None:
        """Count a turn's tool calls and results towards the stuck limits."""
        self._failed_turns = self._failed_turns + 1 if all(r.get("is_error") for r in results) else 0
        pairs = zip(uses, results, strict=True)
        turn = [(u.get("name"), u.get("input"), r["content"], bool(r.get("is_error"))) for u, r in pairs]
        self._repeats = self._repeats + 1 if turn == self._last_turn else 1
        self._last_turn = turn

    def note_history(self, messages: list[dict[str, Any]]) -> None:
        """Count the tool turns of a resumed conversation, so the stuck limits count on."""
        for asked, answered in itertools.pairwise(messages):
            uses = [b for b in asked["content"] if asked["role"] == "assistant" and isinstance(b, dict)]
            uses = [b for b in uses if b.get("type") == "tool_use"]
            results = [b for b in answered["content"] if isinstance(b, dict) and b.get("type") == "tool_result"]
            if uses and len(results) == len(uses):
                self.note_turn(uses, results)

    def fresh_start(self) -> None:
        """News from outside (a follow-up message): the stuck counts start again."""
        self._failed_turns, self._repeats, self._last_turn = 0, 0, None
