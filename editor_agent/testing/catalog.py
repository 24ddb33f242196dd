"""What the real Messages API accepts for the text editor tool: the emulator's own table.

The harness chooses tools from `tools.yaml`; if the server read the same file, a wrong rule there
would be accepted by both sides and pass every loop test. So the server keeps its own copy of the
facts, written from Anthropic's tool reference and the API's recorded answers (see ../shared:
REFERENCE.md's model table, and the api-cassettes of real traffic, which a test checks against
this table). Where the API's own figures are not known (the output cap of the newest models), the
server does not check.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class EditorVersion:
    """One `text_editor_*` tool type: the name the API requires, its beta header, `max_characters`."""

    name: str
    beta: str | None = None
    max_characters: bool = False


VERSIONS: dict[str, EditorVersion] = {
    "text_editor_20241022": EditorVersion("str_replace_editor", beta="computer-use-2024-10-22"),
    "text_editor_20250124": EditorVersion("str_replace_editor"),
    "text_editor_20250429": EditorVersion("str_replace_based_edit_tool"),
    "text_editor_20250728": EditorVersion("str_replace_based_edit_tool", max_characters=True),
}

_BOTH_4 = frozenset({"text_editor_20250429", "text_editor_20250728"})
_NEWEST = frozenset({"text_editor_20250728"})
_NONE: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ModelRule:
    """Models whose family matches `match` (a shell glob) take these tool types; `max_tokens` None: not checked."""

    match: str
    tools: frozenset[str]
    max_tokens: int | None = None


# First match wins. Observed rejections: 3.5 Sonnet refuses 20250124; Sonnet 4.5 refuses 20250429.
MODELS: tuple[ModelRule, ...] = (
    ModelRule("claude-sonnet-3-5", frozenset({"text_editor_20241022"}), 8192),
    ModelRule("claude-sonnet-3-7", frozenset({"text_editor_20250124"}), 64000),
    ModelRule("claude-haiku-3*", _NONE),
    ModelRule("claude-opus-3*", _NONE),
    ModelRule("claude-sonnet-3", _NONE),
    ModelRule("claude-[0-2]*", _NONE),
    ModelRule("claude-instant*", _NONE),
    ModelRule("claude-opus-4", _BOTH_4, 32000),
    ModelRule("claude-opus-4-1", _BOTH_4, 32000),
    ModelRule("claude-sonnet-4", _BOTH_4, 64000),
    ModelRule("claude-opus-4-5", _NEWEST, 64000),
    ModelRule("claude-sonnet-4-5", _NEWEST, 64000),
    ModelRule("claude-haiku-4-5", _NEWEST, 64000),
    ModelRule("claude*", _NEWEST),  # Claude 4.6 and later, Claude 5, previews
)

_TIERS = ("opus", "sonnet", "haiku", "instant")


def family(model: str) -> str | None:
    """`claude-TIER-MAJOR[-MINOR]` for any spelling the emulator accepts (dates, aliases, cloud ids), or None."""
    name = model.strip().lower().rsplit("/", 1)[-1].split("@", 1)[0]
    start = name.find("claude")
    if start < 0:
        return None
    name = re.sub(r"-v\d+(:\d+)?$", "", name[start:])
    words = [w for w in re.split(r"[-._]+", name)[1:] if w and not re.fullmatch(r"\d{8}", w)]
    tier = [w for w in words if w in _TIERS][:1]
    numbers = [w for w in words if w.isdigit() and len(w) <= 2][:2]
    if numbers[1:] == ["0"]:
        numbers = numbers[:1]
    return "-".join(["claude", *tier, *numbers])


def model_rule(model: str) -> ModelRule | None:
    """The rule for this model id, or None for an id that is not Claude's (it takes no text editor tool)."""
    name = family(model)
    if name is None:
        return None
    return next((rule for rule in MODELS if fnmatch.fnmatchcase(name, rule.match)), None)
