"""A map of a file's definitions with their line ranges, so the model can pick a `view_range`.

Python files are read with `ast` (classes and functions, with their last lines); other files by
a line pattern for the definition keywords of common languages. No shell, no parser downloads.
"""

from __future__ import annotations

import ast
import re

MAX_ENTRIES = 60
MAX_CHARACTERS = 512 * 1024  # beyond this, parsing for an outline costs more than the view itself
_DEFINITION = re.compile(
    r"^\s*(?:export\s+|public\s+|private\s+|protected\s+|static\s+|async\s+|pub\s+|fn\s+)*"
    r"(?:def|class|function|func|fn|interface|struct|enum|trait|impl|module|type)\b.*"
)


def _python(text: str) -> list[tuple[int, int, str]] | None:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            kind = "class" if isinstance(node, ast.ClassDef) else "def"
            found.append((node.lineno, node.end_lineno or node.lineno, f"{kind} {node.name}"))
    return sorted(found)


def _by_pattern(text: str) -> list[tuple[int, int, str]]:
    found = []
    for number, line in enumerate(text.split("\n"), 1):
        if _DEFINITION.match(line):
            found.append((number, number, line.strip()[:100]))
    return found


def outline(text: str, python: bool) -> str:
    """`  lines 12-40: class Cart` entries (at most MAX_ENTRIES), or "" when nothing was found.

    Files over MAX_CHARACTERS get no outline: a view must stay fast on huge files.
    """
    if len(text) > MAX_CHARACTERS:
        return ""
    entries = (_python(text) if python else None) or _by_pattern(text)
    if not entries:
        return ""
    shown = [
        f"  line {first}: {name}" if first == last else f"  lines {first}-{last}: {name}"
        for first, last, name in entries[:MAX_ENTRIES]
    ]
    if len(entries) > MAX_ENTRIES:
        shown.append(f"  ...and {len(entries) - MAX_ENTRIES} more")
    return "\n".join(shown)
