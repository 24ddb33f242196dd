"""The public API is what the README documents: `editor_agent.__all__` and the README's examples agree."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import editor_agent

README = Path(__file__).resolve().parent.parent / "README.md"


def section(title: str) -> str:
    """The README's `## title` section, up to the next `##` or `###` heading."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = re.search(r"\n##+ ", text[start + 1 :])
    return text[start : start + 1 + end.start()] if end else text[start:]


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def table_names(text: str) -> set[str]:
    """The backticked names in the first column of the section's table."""
    names: set[str] = set()
    for line in text.splitlines():
        cells = line.split("|")
        if line.startswith("|") and len(cells) > 2 and "`" in cells[1]:
            names.update(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", cells[1]))
    return names


def imports(block: str) -> ast.Module:
    """The block's top-level import statements, as a module of their own."""
    tree = ast.parse(block)
    return ast.Module(
        body=[node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)], type_ignores=[]
    )


def test_all_is_what_the_readme_documents() -> None:
    documented = table_names(section("Python API"))
    assert documented, "the Python API section lost its table of names"
    assert sorted(editor_agent.__all__) == sorted(documented)
    assert len(editor_agent.__all__) == len(set(editor_agent.__all__))


def test_every_exported_name_resolves() -> None:
    for name in editor_agent.__all__:
        assert getattr(editor_agent, name) is not None
    namespace: dict[str, object] = {}
    exec("from editor_agent import *", namespace)
    assert set(editor_agent.__all__) <= set(namespace)


def test_python_api_examples_import_only_from_the_package() -> None:
    blocks = python_blocks(section("Python API"))
    assert len(blocks) >= 2
    for block in blocks:
        for node in imports(block).body:
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("editor_agent"):
                assert node.module == "editor_agent", f"an example imports from {node.module}: use editor_agent"
            elif isinstance(node, ast.Import):
                assert not any(alias.name.startswith("editor_agent") for alias in node.names)


def test_every_readme_example_imports_cleanly() -> None:
    blocks = python_blocks(README.read_text(encoding="utf-8"))
    assert len(blocks) >= 3
    for block in blocks:
        module = imports(block)
        assert module.body, f"an example without imports:\n{block}"
        exec(compile(module, "README.md", "exec"), {})


def test_examples_name_only_exported_names() -> None:
    """What an example imports from the package is exported, so the examples cannot drift from `__all__`."""
    for block in python_blocks(section("Python API")):
        for node in imports(block).body:
            if isinstance(node, ast.ImportFrom) and node.module == "editor_agent":
                assert {alias.name for alias in node.names} <= set(editor_agent.__all__)
