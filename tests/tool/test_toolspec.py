"""tools.yaml: every model id in any spelling resolves to the right tool version; bad files name the line."""

from __future__ import annotations

import typing
import warnings

import anthropic.types.model
import pytest

from editor_agent.tool.versions import (
    ModelResolutionError,
    ToolsFileError,
    load_tools_file,
    normalize_model_id,
    parse_tools_file,
    resolve_model,
    tool_by_type,
)

SDK_MODELS = list(typing.get_args(typing.get_args(anthropic.types.model.Model)[0]))
OLDER = {
    "claude-3-5-sonnet-20241022": "text_editor_20241022",
    "claude-3-5-sonnet-20240620": "text_editor_20241022",
    "claude-3-7-sonnet-20250219": "text_editor_20250124",
    "claude-3-7-sonnet-latest": "text_editor_20250124",
    "claude-sonnet-4-20250514": "text_editor_20250728",
    "claude-opus-4-20250514": "text_editor_20250728",
    "claude-opus-4-1-20250805": "text_editor_20250728",
    "claude-opus-4-0": "text_editor_20250728",
    "claude-sonnet-4-0": "text_editor_20250728",
}


@pytest.mark.parametrize("model", SDK_MODELS)
def test_every_sdk_model_resolves_without_warning(model):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resolved = resolve_model(model)
    assert resolved.tool.type == "text_editor_20250728"
    assert resolved.tool.name == "str_replace_based_edit_tool"
    assert "undo_edit" not in resolved.tool.commands


@pytest.mark.parametrize(("model", "version"), OLDER.items())
def test_older_models(model, version):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resolve_model(model).tool.type == version


@pytest.mark.parametrize(
    ("spelling", "family", "suffixes"),
    [
        ("claude-3.5-sonnet", "claude-sonnet-3-5", ()),
        ("claude-3-5-sonnet-latest", "claude-sonnet-3-5", ()),
        ("anthropic/claude-3-5-sonnet-20241022", "claude-sonnet-3-5", ()),
        ("us.anthropic.claude-3-5-sonnet-20241022-v2:0", "claude-sonnet-3-5", ()),
        ("anthropic.claude-3-7-sonnet-20250219-v1:0", "claude-sonnet-3-7", ()),
        ("claude-opus-4@20250514", "claude-opus-4", ()),
        ("claude-opus-4-1@20250805", "claude-opus-4-1", ()),
        ("claude-opus-4-1-20250805-thinking", "claude-opus-4-1", ("thinking",)),
        ("claude-sonnet-4.5-thinking", "claude-sonnet-4-5", ("thinking",)),
        ("openrouter/anthropic/claude-sonnet-4.5", "claude-sonnet-4-5", ()),
        ("Claude-Sonnet-4-5", "claude-sonnet-4-5", ()),
        ("claude-4-sonnet", "claude-sonnet-4", ()),
        ("claude-mythos-preview", "claude-mythos-preview", ()),
        ("global.anthropic.claude-haiku-4-5-20251001-v1:0", "claude-haiku-4-5", ()),
    ],
)
def test_normalize_spellings(spelling, family, suffixes):
    assert normalize_model_id(spelling) == (family, suffixes)


def test_gateway_spellings_get_right_version():
    assert resolve_model("claude-3.5-sonnet").tool.type == "text_editor_20241022"
    assert resolve_model("claude-3.5-sonnet").tool.betas == ("computer-use-2024-10-22",)
    assert resolve_model("claude-opus-4-1-20250805-thinking").tool.type == "text_editor_20250728"


@pytest.mark.parametrize(
    "model", ["claude-3-haiku-20240307", "claude-3-5-haiku-latest", "claude-3-opus-20240229", "claude-2.1"]
)
def test_models_without_tool_error(model):
    with pytest.raises(ModelResolutionError, match="no text editor tool.*--tool"):
        resolve_model(model)


def test_not_claude():
    with pytest.raises(ModelResolutionError, match="not a Claude model id"):
        resolve_model("gpt-4o")


def test_unknown_future_claude_gets_newest_with_warning():
    with pytest.warns(UserWarning, match="no rule in tools.yaml"):
        resolved = resolve_model("claude-opus-9")
    assert resolved.tool.type == load_tools_file().newest
    assert resolved.warnings


def test_versions_table():
    tools = load_tools_file()
    assert set(tools.versions) == {
        "text_editor_20241022",
        "text_editor_20250124",
        "text_editor_20250429",
        "text_editor_20250728",
    }
    for old in ("text_editor_20241022", "text_editor_20250124"):
        assert tools.versions[old].name == "str_replace_editor"
        assert "undo_edit" in tools.versions[old].commands
    for new in ("text_editor_20250429", "text_editor_20250728"):
        assert tools.versions[new].name == "str_replace_based_edit_tool"
        assert "undo_edit" not in tools.versions[new].commands
    assert [v for v, spec in tools.versions.items() if spec.max_characters] == ["text_editor_20250728"]
    assert tool_by_type("text_editor_20250728").definition(5000) == {
        "type": "text_editor_20250728",
        "name": "str_replace_based_edit_tool",
        "max_characters": 5000,
    }
    assert tool_by_type("text_editor_20250124").definition(5000) == {
        "type": "text_editor_20250124",
        "name": "str_replace_editor",
    }


def test_adding_a_model_is_a_yaml_edit():
    yaml_text = """
versions:
  text_editor_20990101:
    name: str_replace_based_edit_tool
    commands: [view, create, str_replace, insert]
    insert_param: insert_text
newest: text_editor_20990101
models:
  - match: claude-opus-9*
    tool: text_editor_20990101
    max_tokens: 1000
"""
    tools = parse_tools_file(yaml_text)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resolved = resolve_model("claude-opus-9-20990101", tools)
    assert resolved.tool.type == "text_editor_20990101"
    assert resolved.max_tokens == 1000


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("versions: {}\nnewest: x\nmodels: []\n", "tools.yaml:2: newest: 'x' is not one of the versions"),
        (
            "versions:\n  t:\n    name: bad_name\n    commands: [view]\n    insert_param: new_str\n"
            "newest: t\nmodels: []\n",
            "tools.yaml:3: versions.t.name:",
        ),
        (
            "versions:\n  t:\n    name: str_replace_editor\n    commands: [view, delete]\n    insert_param: new_str\n"
            "newest: t\nmodels: []\n",
            "tools.yaml:4: versions.t.commands.1:",
        ),
        (
            "versions: {}\nnewest: t\nmodels:\n  - match: x\n    tool: t\n    colour: red\n",
            "tools.yaml:6: models.0.colour: Extra inputs are not permitted",
        ),
        ("versions: [\n", "tools.yaml: not valid YAML"),
    ],
)
def test_bad_tools_file_names_line(text, message):
    with pytest.raises(ToolsFileError) as caught:
        parse_tools_file(text)
    assert message in str(caught.value)
