"""editor-agent: run Anthropic's text editor tool safely against a sandboxed workspace.

The public API is what `__all__` names, as the README's "Python API" section documents it:

    one tool call   Editor, ToolResult, Workspace, Policy, ToolError
    tool versions   resolve_tool, resolve_model, tool_by_type, ToolSpec, ResolvedModel, ModelResolutionError
    a whole run     run_job, JobSpec, JobResult, RunOptions, RunSettings, Connection
    afterwards      undo_run

Everything else is the package's own business and may change. `run_job`, `JobSpec` and `JobResult` load on
first use: they bring in the SDK, git and the file watcher, which `editor-agent --version` and the editor alone
do not need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from .agent.settings import RunOptions, RunSettings
from .api.connection import Connection
from .errors import ToolError
from .safety.journal import undo_run
from .tool.editor import Editor, ToolResult
from .tool.versions import ModelResolutionError, ResolvedModel, ToolSpec, resolve_model, resolve_tool, tool_by_type
from .version import __version__ as __version__
from .workspace.policy import Policy
from .workspace.sandbox import Workspace

if TYPE_CHECKING:
    from .jobs.session import JobResult, JobSpec, run_job

_LAZY = {"run_job": "jobs.session", "JobSpec": "jobs.session", "JobResult": "jobs.session"}

__all__ = [
    "Connection",
    "Editor",
    "JobResult",
    "JobSpec",
    "ModelResolutionError",
    "Policy",
    "ResolvedModel",
    "RunOptions",
    "RunSettings",
    "ToolError",
    "ToolResult",
    "ToolSpec",
    "Workspace",
    "resolve_model",
    "resolve_tool",
    "run_job",
    "tool_by_type",
    "undo_run",
]


def __getattr__(name: str) -> object:
    """Load a run's names on first use (PEP 562)."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value
    return value
