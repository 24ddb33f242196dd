"""editor-agent: run Anthropic's text editor tool safely against a sandboxed workspace."""

from .editor import Editor, ToolResult
from .errors import ToolError
from .toolspec import ModelResolutionError, ResolvedModel, ToolSpec, resolve_model, resolve_tool, tool_by_type
from .workspace import Policy, Workspace

__all__ = [
    "Editor",
    "ModelResolutionError",
    "Policy",
    "ResolvedModel",
    "ToolError",
    "ToolResult",
    "ToolSpec",
    "Workspace",
    "resolve_model",
    "resolve_tool",
    "tool_by_type",
]
__version__ = "0.1.0"
