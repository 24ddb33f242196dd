"""Request validation as strict as the real Messages API, with its error messages where they are known.

The server answers the first problem with a 400 `invalid_request_error`; a correct agent loop never
triggers one, so every message here names the field the way the API does (`messages.3.content.0: …`)
and says what to fix. Consistency with what the server itself replied (dropped or altered turns,
modified thinking) is checked separately in `ledger.py`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .catalog import VERSIONS, model_rule

SAMPLING_REMOVED_IN = "2026-10-21"
MAX_BREAKPOINTS = 4


@dataclass(frozen=True)
class Rules:
    """What the emulated endpoint accepts.

    `accept_tools`: the text editor tool types every model accepts (emulates a model that takes others);
    by default each model accepts what the API's own table (`catalog.py`, not the harness's tools.yaml) says.
    `require_version`: the only `anthropic-version` accepted (emulates an older gateway).
    """

    accept_tools: frozenset[str] | None = None
    require_version: str | None = None


def first_problem(body: Any, headers: Mapping[str, str], rules: Rules, *, count_tokens: bool = False) -> str | None:
    """The message of the first thing the API would reject in this request, or None."""
    return next(_problems(body, headers, rules, count_tokens), None)


def _problems(body: Any, headers: Mapping[str, str], rules: Rules, count_tokens: bool) -> Iterator[str]:
    version = headers.get("anthropic-version")
    if not version:
        yield "anthropic-version: header is required"
        return
    if rules.require_version is not None and version != rules.require_version:
        yield f"anthropic-version: '{version}' is not supported here; use '{rules.require_version}'"
        return
    if not isinstance(body, dict):
        yield "The request body must be a JSON object"
        return
    if version >= SAMPLING_REMOVED_IN:
        for name in ("temperature", "top_p", "top_k"):
            if name in body:
                yield f"{name}: Extra inputs are not permitted"
    yield from _top_level(body, count_tokens)
    yield from _tools(body, headers, rules)
    yield from _messages(body["messages"], version)
    yield from _breakpoints(body)


def _top_level(body: dict[str, Any], count_tokens: bool) -> Iterator[str]:
    model = body.get("model")
    if model is None:
        yield "model: Field required"
    elif not isinstance(model, str) or not model:
        yield "model: Input should be a valid string"
    max_tokens = body.get("max_tokens")
    if not count_tokens:
        if max_tokens is None:
            yield "max_tokens: Field required"
        elif not isinstance(max_tokens, int) or isinstance(max_tokens, bool):
            yield "max_tokens: Input should be a valid integer"
        elif max_tokens < 1:
            yield "max_tokens: Input should be greater than or equal to 1"
        else:
            rule = model_rule(str(model))
            if rule is not None and rule.max_tokens is not None and max_tokens > rule.max_tokens:
                yield (
                    f"max_tokens: {max_tokens} > {rule.max_tokens}, which is the maximum allowed number "
                    f"of output tokens for {model}"
                )
    messages = body.get("messages")
    if messages is None:
        yield "messages: Field required"
    elif not isinstance(messages, list):
        yield "messages: Input should be a valid list"
    elif not messages:
        yield "messages: at least one message is required"
    yield from _thinking(body, max_tokens)


def _thinking(body: dict[str, Any], max_tokens: Any) -> Iterator[str]:
    thinking = body.get("thinking")
    if not isinstance(thinking, dict) or thinking.get("type") not in ("enabled", "adaptive"):
        return
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") in ("any", "tool"):
        yield "Thinking may not be enabled when tool_choice forces tool use."
    if thinking.get("type") != "enabled":
        return
    budget = thinking.get("budget_tokens")
    if not isinstance(budget, int) or isinstance(budget, bool):
        yield "thinking.enabled.budget_tokens: Field required"
    elif budget < 1024:
        yield "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
    elif isinstance(max_tokens, int) and max_tokens <= budget:
        yield "`max_tokens` must be greater than `thinking.budget_tokens`."


def _tools(body: dict[str, Any], headers: Mapping[str, str], rules: Rules) -> Iterator[str]:
    tools = body.get("tools")
    if tools is None:
        return
    if not isinstance(tools, list):
        yield "tools: Input should be a valid list"
        return
    betas = {b.strip() for b in headers.get("anthropic-beta", "").split(",") if b.strip()}
    model = str(body.get("model"))
    names: set[str] = set()
    for index, tool in enumerate(tools):
        if not isinstance(tool, dict):
            yield f"tools.{index}: Input should be a valid dictionary"
            return
        kind = tool.get("type")
        name = tool.get("name")
        if isinstance(name, str) and name in names:
            yield "tools: Tool names must be unique."
        names.add(str(name))
        if kind is None or kind == "custom":
            if not isinstance(name, str) or not name:
                yield f"tools.{index}.custom.name: Field required"
            if "input_schema" not in tool:
                yield f"tools.{index}.custom.input_schema: Field required"
            continue
        if not isinstance(kind, str) or not kind.startswith("text_editor_"):
            continue  # server tools and other client tools: not this emulator's business
        spec = VERSIONS.get(kind)
        if spec is None:
            expected = ", ".join(f"'{v}'" for v in sorted(VERSIONS))
            yield (
                f"tools.{index}: Input tag '{kind}' found using 'type' does not match any of the expected tags: "
                f"{expected}"
            )
            continue
        if name != spec.name:
            yield f"tools.{index}.{kind}.name: Input should be '{spec.name}'"
        if "max_characters" in tool:
            limit = tool["max_characters"]
            if not spec.max_characters:
                yield f"tools.{index}.{kind}.max_characters: Extra inputs are not permitted"
            elif limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
                yield f"tools.{index}.{kind}.max_characters: Input should be greater than or equal to 1"
        if spec.beta and spec.beta not in betas:
            yield f"tools.{index}: '{kind}' is only available with the anthropic-beta header '{spec.beta}'"
        if kind not in _accepted_tools(model, rules):
            yield f"'{model}' does not support tool types: {kind}."


def _accepted_tools(model: str, rules: Rules) -> frozenset[str]:
    if rules.accept_tools is not None:
        return rules.accept_tools
    rule = model_rule(model)
    return frozenset() if rule is None else rule.tools


def _blocks(content: Any) -> list[Any]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else list(content)


def _messages(messages: list[Any], version: str) -> Iterator[str]:
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            yield f"messages.{index}: Input should be a valid dictionary"
            return
        role = message.get("role")
        if role not in ("user", "assistant"):
            yield f"messages.{index}.role: Input should be 'user' or 'assistant'"
            return
        content = message.get("content")
        if not isinstance(content, (str, list)):
            yield f"messages.{index}.content: Field required"
            return
        last_assistant = role == "assistant" and index == len(messages) - 1
        if not content and not last_assistant:
            yield (
                f"messages.{index}: all messages must have non-empty content "
                "except for the optional final assistant message"
            )
        if index == 0 and role != "user":
            yield 'messages: first message must use the "user" role'
        if index > 0 and messages[index - 1].get("role") == role:
            yield (
                'messages: roles must alternate between "user" and "assistant", '
                f'but found multiple "{role}" roles in a row'
            )
        yield from _content(index, role, _blocks(content), version)
    for index, message in enumerate(messages):
        if message["role"] == "assistant":
            following = messages[index + 1] if index + 1 < len(messages) else None
            yield from _tool_pairing(index, _blocks(message["content"]), following)
        else:
            previous = messages[index - 1] if index > 0 else None
            yield from _results_answer(index, _blocks(message["content"]), previous)


_ROLE_ONLY = {"tool_use": "assistant", "thinking": "assistant", "redacted_thinking": "assistant", "tool_result": "user"}


def _content(index: int, role: str, blocks: list[Any], version: str) -> Iterator[str]:
    for position, block in enumerate(blocks):
        where = f"messages.{index}.content.{position}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            yield f"{where}: Input should be a valid content block with a 'type'"
            return
        kind = block["type"]
        if _ROLE_ONLY.get(kind, role) != role:
            yield f"{where}: `{kind}` blocks are not allowed in {role} messages"
        if kind == "text" and (not isinstance(block.get("text"), str) or not block["text"]):
            yield f"{where}: text content blocks must be non-empty"
        if kind == "tool_result":
            yield from _tool_result(where, block)
        if version >= SAMPLING_REMOVED_IN:
            if kind == "text" and role == "user" and block.get("citations"):
                yield f"{where}.citations: text blocks in user messages may not carry citations"
            if kind == "document" and role == "assistant":
                yield f"{where}: document blocks are not allowed in assistant messages"


def _tool_result(where: str, block: dict[str, Any]) -> Iterator[str]:
    if not isinstance(block.get("tool_use_id"), str):
        yield f"{where}.tool_use_id: Field required"
    if not block.get("is_error"):
        return
    content = block.get("content")
    inner = _blocks(content) if isinstance(content, (str, list)) else []
    if not inner or all(isinstance(b, dict) and b.get("type") == "text" and not b.get("text") for b in inner):
        yield f"{where}: a `tool_result` with `is_error: true` must have non-empty text content"
    for position, item in enumerate(inner):
        if not isinstance(item, dict) or item.get("type") != "text":
            kind = item.get("type") if isinstance(item, dict) else type(item).__name__
            yield (
                f"{where}.content.{position}: a `tool_result` with `is_error: true` may only contain text, "
                f"found `{kind}`"
            )


def _tool_pairing(index: int, blocks: list[Any], following: Any) -> Iterator[str]:
    ids = [b.get("id") for b in blocks if b.get("type") == "tool_use"]
    if not ids or following is None:
        return
    answered = _blocks(following["content"])
    found = {b.get("tool_use_id") for b in answered if b.get("type") == "tool_result"}
    missing = [str(i) for i in ids if i not in found]
    if missing:
        yield (
            f"messages.{index}: `tool_use` ids were found without `tool_result` blocks immediately after: "
            f"{', '.join(missing)}. Each `tool_use` block must have a corresponding `tool_result` block "
            "in the next message."
        )
    kinds = [b.get("type") for b in answered]
    leading = next((i for i, kind in enumerate(kinds) if kind != "tool_result"), len(kinds))
    if "tool_result" in kinds[leading:]:
        yield (
            f"messages.{index + 1}: Did not find {len(ids)} `tool_result` block(s) at the beginning of this message. "
            "Messages following `tool_use` blocks must begin with a matching number of `tool_result` blocks."
        )


def _results_answer(index: int, blocks: list[Any], previous: Any) -> Iterator[str]:
    offered: set[Any] = set()
    if isinstance(previous, dict) and previous.get("role") == "assistant":
        offered = {b.get("id") for b in _blocks(previous["content"]) if b.get("type") == "tool_use"}
    seen: set[Any] = set()
    for position, block in enumerate(blocks):
        if block.get("type") != "tool_result":
            continue
        tool_id = block.get("tool_use_id")
        if tool_id not in offered:
            yield (
                f"messages.{index}.content.{position}: unexpected `tool_use_id` found in `tool_result` blocks: "
                f"{tool_id}. Each `tool_result` block must have a corresponding `tool_use` block "
                "in the previous message."
            )
        if tool_id in seen:
            yield (
                f"messages.{index}.content.{position}: each tool_use must have a single result. "
                f"Found multiple `tool_result` blocks with id: {tool_id}"
            )
        seen.add(tool_id)


def _count_controls(blocks: Any) -> int:
    if not isinstance(blocks, list):
        return 0
    total = 0
    for block in blocks:
        if isinstance(block, dict):
            total += block.get("cache_control") is not None
            if block.get("type") == "tool_result":
                total += _count_controls(block.get("content"))
    return total


def _breakpoints(body: dict[str, Any]) -> Iterator[str]:
    count = _count_controls(body.get("tools")) + _count_controls(body.get("system"))
    count += sum(_count_controls(m.get("content")) for m in body["messages"])
    count += body.get("cache_control") is not None
    if count > MAX_BREAKPOINTS:
        yield f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided. Found {count}."
