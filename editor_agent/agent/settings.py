"""Options of a run, as plain data (importing this does not import the SDK, so the CLI starts fast)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..api.connection import Connection
from ..workspace.policy import Policy

# The jobs' defaults, here so the CLI's flags can name them without importing the SDK; a flag or
# task-file field left unset is None, and these (and RunSettings' own defaults) apply.
DEFAULT_ROUNDS: dict[str, int] = {"run": 1, "fix": 3, "doc": 1, "test": 3}  # rounds while a check fails
DEFAULT_CHECK_TIMEOUT = 600.0  # seconds a check may take


class RunSettings(BaseModel):
    """Limits and options of one run; the one place their defaults are set."""

    max_turns: int = 50
    max_total_tokens: int | None = None
    max_cost_usd: float | None = None
    max_seconds: float | None = None
    max_output_tokens: int | None = None
    thinking: int | Literal["adaptive"] | None = None
    cache: bool = True
    max_continuations: int = 3
    max_failed_turns: int | None = Field(default=8, ge=1)  # turns in a row whose tool calls all failed
    max_repeats: int | None = Field(default=4, ge=2)  # turns in a row with the same calls and results
    stream_retries: int = 3
    system: str | None = None


class RunOptions(BaseModel):
    """Everything one run needs, as the CLI or a job gives it."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    workspace: Path
    model: str
    mount: str = "/repo"
    tool: str | None = None
    policy: Policy = Policy()
    strict: bool = False
    max_characters: int | None = None
    settings: RunSettings = RunSettings()
    connection: Connection = Connection()
    transcript: Path | None = None
    state_dir: Path | None = (
        None  # the tool's own files (journal, transcripts, patches); default <workspace>/.editor-agent
    )
