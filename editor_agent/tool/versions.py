"""Tool versions and model rules from `tools.yaml`: which text editor tool a model gets.

All knowledge about versions and models is data in `tools.yaml`; this module only loads and
validates it, normalises model ids as they arrive from gateways and clouds, and applies the
rules. A new model or a new tool version is an edit of the YAML file, not of this code.
"""

from __future__ import annotations

import fnmatch
import re
import warnings
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import UsageError

Command = Literal["view", "create", "str_replace", "insert", "undo_edit"]

_TIERS = {"opus", "sonnet", "haiku", "fable", "mythos", "instant"}
_KEPT_WORDS = {"preview"}
_DATE = re.compile(r"^\d{8}$")


class ToolsFileError(UsageError):
    """`tools.yaml` is malformed; the message names the line and the problem."""


class ModelResolutionError(UsageError):
    """A model id that cannot get a text editor tool; the message says what to do."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ToolSpec(_Strict):
    """One text editor tool version: what to send and which commands it takes."""

    type: str = ""
    name: Literal["str_replace_editor", "str_replace_based_edit_tool"]
    commands: tuple[Command, ...]
    insert_param: Literal["new_str", "insert_text"]
    max_characters: bool = False
    betas: tuple[str, ...] = ()

    def definition(self, max_characters: int | None = None) -> dict[str, Any]:
        """The entry for the request's `tools` list."""
        tool: dict[str, Any] = {"type": self.type, "name": self.name}
        if max_characters is not None and self.max_characters:
            tool["max_characters"] = max_characters
        return tool


class Price(_Strict):
    """USD per million tokens."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_write: float = Field(ge=0)
    cache_read: float = Field(ge=0)


Thinking = Literal["adaptive", "enabled", "none"]


class ModelRule(_Strict):
    match: str
    tool: str
    max_tokens: int = Field(default=8192, gt=0)
    thinking: Thinking = "enabled"
    interleaved: bool = False
    price: Price | None = None


class NoToolRule(_Strict):
    match: str
    reason: str


class ToolsFile(_Strict):
    versions: dict[str, ToolSpec]
    newest: str
    interleaved_thinking_beta: str = "interleaved-thinking-2025-05-14"
    models: list[ModelRule]
    no_tool: list[NoToolRule] = []

    @model_validator(mode="after")
    def _references_exist(self) -> ToolsFile:
        if self.newest not in self.versions:
            raise ValueError(f"newest: '{self.newest}' is not one of the versions")
        for index, rule in enumerate(self.models):
            if rule.tool not in self.versions:
                raise ValueError(f"models.{index}.tool: '{rule.tool}' is not one of the versions")
        return self


class ResolvedModel(_Strict):
    """What a model id resolved to."""

    model: str
    family: str
    tool: ToolSpec
    max_tokens: int
    thinking: Thinking = "enabled"
    thinking_betas: tuple[str, ...] = ()
    price: Price | None = None
    suffixes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


# --- loading ------------------------------------------------------------------------


def _line_of(node: yaml.Node, location: tuple[Any, ...]) -> int:
    """1-based line of the YAML node at a pydantic error location (as deep as it goes)."""
    for key in location:
        if isinstance(node, yaml.MappingNode):
            found = next((v for k, v in node.value if k.value == key), None)
            if found is None:
                break
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
    return node.start_mark.line + 1


def parse_tools_file(text: str, source: str = "tools.yaml") -> ToolsFile:
    """Validate the text of a tools file; errors name the file, the line and the problem."""
    try:
        raw = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        raise ToolsFileError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict) or root is None:
        raise ToolsFileError(f"{source}: expected a mapping with versions, newest and models")
    for version_type, version in (raw.get("versions") or {}).items():
        if isinstance(version, dict):
            version.setdefault("type", version_type)
    try:
        return ToolsFile.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            location = tuple(error["loc"])
            message = error["msg"].removeprefix("Value error, ")
            named = re.match(r"^([\w.]+): (.*)$", message)
            if not location and named:  # a cross-field check names its own place
                location = tuple(int(p) if p.isdigit() else p for p in named.group(1).split("."))
                message = named.group(2)
            where = ".".join(str(part) for part in location) or "top level"
            problems.append(f"{source}:{_line_of(root, location)}: {where}: {message}")
        raise ToolsFileError("\n".join(problems)) from None


@lru_cache(maxsize=8)
def load_tools_file(path: str | None = None) -> ToolsFile:
    """The tools file shipped in the package, or the one at `path`."""
    if path is None:
        text = resources.files("editor_agent").joinpath("tools.yaml").read_text(encoding="utf-8")
        return parse_tools_file(text, "tools.yaml")
    return parse_tools_file(Path(path).read_text(encoding="utf-8"), path)


# --- model ids ----------------------------------------------------------------------


def normalize_model_id(model: str) -> tuple[str, tuple[str, ...]]:
    """Reduce any spelling of a Claude model id to its family, plus dropped suffix words.

    `us.anthropic.claude-3-5-sonnet-20241022-v2:0` -> `claude-sonnet-3-5`;
    `claude-opus-4-1-20250805-thinking` -> (`claude-opus-4-1`, ("thinking",)).
    """
    name = model.strip().lower().rsplit("/", 1)[-1].split("@", 1)[0]
    start = name.find("claude")
    if start < 0:
        raise ModelResolutionError(
            f"'{model}' is not a Claude model id; pass --tool TYPE (e.g. text_editor_20250728) "
            "to choose a text editor tool version explicitly"
        )
    name = re.sub(r"-v\d+(:\d+)?$|:\d+$", "", name[start:])
    tokens = [t for t in re.split(r"[-._\s]+", name)[1:] if t and not _DATE.match(t) and t != "latest"]
    tier = next((t for t in tokens if t in _TIERS), None)
    numbers = [t for t in tokens if t.isdigit() and len(t) <= 2][:2]
    kept = [t for t in tokens if t in _KEPT_WORDS]
    suffixes = tuple(t for t in tokens if t != tier and t not in numbers and t not in kept and not t.isdigit())
    if numbers[1:] == ["0"]:
        numbers = numbers[:1]
    parts = ["claude"] + ([tier] if tier else []) + numbers + kept
    return "-".join(parts), suffixes


def resolve_model(model: str, tools: ToolsFile | None = None, *, warn: bool = True) -> ResolvedModel:
    """The text editor tool, output cap and price for a model id in any spelling.

    An unknown Claude id gets the newest tool and a note in `warnings`; with `warn` it is also
    issued as a UserWarning (off for callers that show notes their own way, and in threads).
    """
    tools = tools or load_tools_file()
    family, suffixes = normalize_model_id(model)
    for rule in tools.no_tool:
        if fnmatch.fnmatchcase(family, rule.match):
            raise ModelResolutionError(
                f"{model}: {rule.reason}. Use a model that has one (e.g. claude-sonnet-4-5), "
                "or pass --tool TYPE to force a tool version"
            )
    for model_rule in tools.models:
        if fnmatch.fnmatchcase(family, model_rule.match):
            return ResolvedModel(
                model=model,
                family=family,
                tool=tools.versions[model_rule.tool],
                max_tokens=model_rule.max_tokens,
                thinking=model_rule.thinking,
                thinking_betas=(tools.interleaved_thinking_beta,) if model_rule.interleaved else (),
                price=model_rule.price,
                suffixes=suffixes,
            )
    note = (
        f"{model}: no rule in tools.yaml matches the model family '{family}'; "
        f"using the newest text editor tool, {tools.newest}"
    )
    if warn:
        warnings.warn(note, stacklevel=2)
    return ResolvedModel(
        model=model,
        family=family,
        tool=tools.versions[tools.newest],
        max_tokens=8192,
        thinking="adaptive",
        suffixes=suffixes,
        warnings=(note,),
    )


def resolve_tool(model: str) -> ToolSpec:
    """The text editor tool version for a model id."""
    return resolve_model(model).tool


def tool_by_type(tool_type: str, tools: ToolsFile | None = None) -> ToolSpec:
    """A tool version by its `type`, e.g. `text_editor_20250728`."""
    tools = tools or load_tools_file()
    try:
        return tools.versions[tool_type]
    except KeyError:
        known = ", ".join(sorted(tools.versions))
        raise ModelResolutionError(f"unknown tool type '{tool_type}'; known: {known}") from None
