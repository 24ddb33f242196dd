"""editor-agent: run Anthropic's text editor tool safely against a sandboxed workspace."""

from .errors import ToolError
from .tool.editor import Editor, ToolResult
from .tool.versions import ModelResolutionError, ResolvedModel, ToolSpec, resolve_model, resolve_tool, tool_by_type
from .version import __version__ as __version__
from .workspace.policy import Policy
from .workspace.sandbox import Workspace

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
