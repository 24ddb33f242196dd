"""Token usage of a run and what it cost, from the prices in tools.yaml."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from ..tool.versions import Price


class Usage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0

    def add(self, reported: Any) -> None:
        """Add one response's `usage` (an SDK object or a dict); missing fields count as 0."""
        for field in type(self).model_fields:
            value = reported.get(field) if isinstance(reported, dict) else getattr(reported, field, None)
            setattr(self, field, getattr(self, field) + (value or 0))

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens + self.cache_read_input_tokens + self.cache_creation_input_tokens

    def cost(self, price: Price | None) -> float | None:
        """USD, or None when the model's price is unknown."""
        if price is None:
            return None
        dollars = (
            self.input_tokens * price.input
            + self.output_tokens * price.output
            + self.cache_creation_input_tokens * price.cache_write
            + self.cache_read_input_tokens * price.cache_read
        ) / 1_000_000
        return round(dollars, 6)
