"""The tool inputs Claude sends, as pydantic models: one per command, discriminated on `command`.

`parse_command` turns a raw `tool_use.input` into one of these models for a given tool version,
or raises `InputError` with a message written for the model (never a pydantic trace).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, TypeAdapter, ValidationError

from ..errors import ToolError
from . import texts as messages
from .versions import ToolSpec


class InputError(ToolError):
    """A malformed tool input; the message is the `tool_result` text."""


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    path: StrictStr


class View(_Input):
    command: Literal["view"]
    view_range: list[StrictInt] | None = None


class Create(_Input):
    command: Literal["create"]
    file_text: StrictStr


class StrReplace(_Input):
    command: Literal["str_replace"]
    old_str: StrictStr
    new_str: StrictStr | None = None


class Insert(_Input):
    command: Literal["insert"]
    insert_line: StrictInt
    insert_text: StrictStr | None = None
    new_str: StrictStr | None = None

    @property
    def text(self) -> str | None:
        """The text to insert: `insert_text` (Claude 4.x) or `new_str` (older versions)."""
        return self.insert_text if self.insert_text is not None else self.new_str


class UndoEdit(_Input):
    command: Literal["undo_edit"]


ToolInput = Annotated[View | Create | StrReplace | Insert | UndoEdit, Field(discriminator="command")]
_adapter: TypeAdapter[ToolInput] = TypeAdapter(ToolInput)

# Parameters whose absence has a message of its own in the reference implementation.
_REQUIRED = {"create": "file_text", "str_replace": "old_str", "insert": "insert_line"}


def _describe(error: Any, command: str) -> str:
    location = [str(part) for part in error["loc"][1:]]  # drop the union tag
    field = location[0] if location else ""
    kind = error["type"]
    if kind == "missing":
        return messages.PARAM_REQUIRED.format(param=field, command=command)
    if kind == "extra_forbidden":
        return messages.PARAM_UNKNOWN.format(param=field, command=command)
    if field == "view_range":
        return messages.VIEW_RANGE_SHAPE
    expected = {
        "string_type": "a string",
        "int_type": "an integer",
        "list_type": "a list",
    }.get(kind, error["msg"].lower())
    got = type(error.get("input")).__name__
    return messages.PARAM_TYPE.format(param=field, command=command, expected=expected, got=got)


def parse_command(raw: object, tool: ToolSpec) -> View | Create | StrReplace | Insert | UndoEdit:
    """Validate one `tool_use.input` for `tool`; raise `InputError` naming the problem."""
    if not isinstance(raw, dict):
        raise InputError(messages.INPUT_NOT_OBJECT.format(got=type(raw).__name__))
    command = raw.get("command")
    if command is None:
        raise InputError(messages.COMMAND_MISSING.format(name=tool.name, allowed=", ".join(tool.commands)))
    if command not in tool.commands:
        text = messages.COMMAND_UNKNOWN.format(command=command, name=tool.name, allowed=", ".join(tool.commands))
        if command == "undo_edit":
            text += messages.NO_UNDO_IN_VERSION.format(type=tool.type)
        raise InputError(text)
    if command in _REQUIRED and raw.get(_REQUIRED[command]) is None:
        raise InputError(messages.PARAM_REQUIRED.format(param=_REQUIRED[command], command=command))
    if "path" not in raw:
        raise InputError(messages.PARAM_REQUIRED.format(param="path", command=command))
    if command == "view" and raw.get("view_range") is not None:
        view_range = raw["view_range"]
        if not (
            isinstance(view_range, list)
            and len(view_range) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in view_range)
        ):
            raise InputError(messages.VIEW_RANGE_SHAPE)
    try:
        parsed = _adapter.validate_python(raw)
    except ValidationError as exc:
        raise InputError("\n".join(_describe(e, str(command)) for e in exc.errors())) from None
    if isinstance(parsed, Insert):
        if parsed.text is None:
            raise InputError(messages.PARAM_REQUIRED.format(param=tool.insert_param, command="insert"))
        if parsed.insert_text is not None and parsed.new_str is not None and parsed.insert_text != parsed.new_str:
            raise InputError(messages.INSERT_BOTH)
    return parsed
