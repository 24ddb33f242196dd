"""The package's layers: imports only point down, and every module stays small.

Each folder of `editor_agent/` is one layer (the picture is in the README's Architecture section). A module may
import modules of its own folder, of a lower layer, and the root helpers (`errors.py`); never a higher layer, and
never a sibling layer of the same rank (`tool/` and `api/` know nothing of each other). Every import counts: at the
top of a module, inside a function, and under `if TYPE_CHECKING:`, since each one is a dependency a reader follows.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "editor_agent"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE

# Lowest first. Equal ranks are siblings: neither may import the other.
RANKS: dict[str, int] = {
    "errors": 0,  # root helpers: the exception types every layer raises...
    "version": 0,  # ...and the package's version
    "workspace": 1,  # paths, policy, file I/O, text files, images, the watcher
    "safety": 2,  # journal, state dir, change sets, git checkpoints, redaction, private files
    "tool": 3,  # the editor, tool inputs, tool-result texts, versions, matching, history, staleness
    "api": 3,  # connection profiles, client, HTTP transport, API error texts
    "agent": 4,  # the loop, request body, reply reading, transcript, prompts, usage, progress
    "jobs": 5,  # fix, doc, test, run: a job and when it succeeded
    "batch": 6,  # many jobs at once
    "demo": 7,  # the bundled demo; run by the CLI's `demo` command, so just below it
    "cli": 8,  # the `editor-agent` command
    "__init__": 9,  # the package root: the public API re-exports from every layer
    "__main__": 9,  # `python -m editor_agent`
}

# `testing/` (the local Messages API server) is a side package, not a step of a run: it checks requests with the
# tool versions and reads images as the workspace does, so it may import these layers (and its own modules) only...
TESTING_MAY_IMPORT = {"errors", "workspace", "safety", "tool", "api", "testing"}
# ...and no layer a real run goes through may depend on it: only the offline demo, the CLI and the package root.
MAY_IMPORT_TESTING = {"demo", "cli", "__init__", "__main__", "testing"}

# Known violations, each (importer, imported) as module names under the package, with who removes it. Emptied as
# those changes land; a new entry needs a reason and someone removing it. test_allowed_violations_still_exist fails
# once an entry's import is gone, so the set can only shrink.
ALLOWED: dict[tuple[str, str], str] = {}  # imports against the layers, each with its reason: none today

MAX_LINES = 450
# Modules being split now (issue 9, part 3); emptied when those splits land (test_long_allowances_still_needed
# fails once one is short enough).
LONG_ALLOWED: dict[str, str] = {}  # modules allowed past the limit, each with its reason: none today


@dataclass(frozen=True)
class Import:
    importer: str  # module name under the package, e.g. "workspace.sandbox"
    imported: str  # likewise; "__init__" is the package root
    line: int


def module_name(path: Path) -> str:
    """`editor_agent/tool/editor.py` -> `tool.editor`; a package's `__init__.py` is the package itself."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def modules() -> list[Path]:
    return sorted(ROOT.rglob("*.py"))


def known(name: str) -> bool:
    """Whether `name` (under the package) is a module or package of it."""
    if name in ("", "__init__"):
        return True
    base = ROOT.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imports_of(path: Path) -> list[Import]:
    """Every import of the package's own modules in one file, relative ones resolved, wherever they stand."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    me = module_name(path)
    here = list(path.relative_to(ROOT).parent.parts)  # the package a relative import starts from
    found: list[Import] = []
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                up = node.level - 1
                assert up <= len(here), f"{path}:{node.lineno}: relative import above the package"
                base = here[: len(here) - up] if up else here
                source = ".".join([*base, *(node.module.split(".") if node.module else [])])
            else:
                if node.module is None or not (node.module == PACKAGE or node.module.startswith(PACKAGE + ".")):
                    continue
                source = node.module[len(PACKAGE) + 1 :]
            # `from pkg import sub` imports the submodule when there is one; otherwise the names come from `pkg`.
            for alias in node.names:
                sub = f"{source}.{alias.name}" if source else alias.name
                targets.append(PACKAGE + "." + sub if known(sub) else PACKAGE + ("." + source if source else ""))
        for target in targets:
            if target == PACKAGE or target.startswith(PACKAGE + "."):
                name = target[len(PACKAGE) + 1 :]
                found.append(Import(me, name or "__init__", node.lineno))
    return found


def layer(module: str) -> str:
    return module.split(".")[0]


def problem(imp: Import) -> str | None:
    """Why an import breaks the layering, or None."""
    mine, theirs = layer(imp.importer), layer(imp.imported)
    if mine == theirs:
        return None
    if theirs == "testing":
        return None if mine in MAY_IMPORT_TESTING else f"{mine}/ may not depend on the test server"
    if mine == "testing":
        return None if theirs in TESTING_MAY_IMPORT else f"testing/ may import only {sorted(TESTING_MAY_IMPORT)}"
    assert mine in RANKS and theirs in RANKS, f"unknown layer in {imp}: add it to RANKS"
    if RANKS[theirs] > RANKS[mine]:
        return f"{mine}/ (rank {RANKS[mine]}) imports the higher {theirs}/ (rank {RANKS[theirs]})"
    if RANKS[theirs] == RANKS[mine]:
        return f"{mine}/ imports its sibling layer {theirs}/"
    return None


def violations() -> list[str]:
    lines = []
    for path in modules():
        for imp in imports_of(path):
            why = problem(imp)
            if why and (imp.importer, imp.imported) not in ALLOWED:
                where = path.relative_to(ROOT.parent)
                lines.append(f"{where}:{imp.line}: {imp.importer} -> {imp.imported}: {why}")
    return lines


def test_imports_point_down() -> None:
    found = violations()
    assert not found, "imports against the layers:\n" + "\n".join(found)


def test_allowed_violations_still_exist() -> None:
    """An allowance whose import is gone must be removed, so the list only shrinks."""
    actual = {(imp.importer, imp.imported) for path in modules() for imp in imports_of(path) if problem(imp)}
    stale = sorted(set(ALLOWED) - actual)
    assert not stale, f"these allowances are no longer needed, remove them: {stale}"


def test_every_folder_is_a_known_layer() -> None:
    layers = {layer(module_name(path)) for path in modules()}
    assert layers - set(RANKS) - {"testing"} == set()


def test_modules_are_small() -> None:
    long = {}
    for path in modules():
        count = len(path.read_text(encoding="utf-8").splitlines())
        name = path.relative_to(ROOT).as_posix()
        if count > MAX_LINES and name not in LONG_ALLOWED:
            long[name] = count
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_long_allowances_still_needed() -> None:
    fine = [name for name in LONG_ALLOWED if len((ROOT / name).read_text(encoding="utf-8").splitlines()) <= MAX_LINES]
    assert not fine, f"these modules are short now, remove their allowance: {fine}"


# The checker itself: each rule must be able to fail.


def check(importer: str, imported: str) -> str | None:
    return problem(Import(importer, imported, 1))


def test_checker_rejects_upward_and_sideways_imports() -> None:
    assert check("workspace.sandbox", "tool.texts")
    assert check("workspace.watch", "agent.loop")
    assert check("tool.editor", "api.client")
    assert check("api.client", "tool.versions")
    assert check("jobs.session", "batch.engine")
    assert check("agent.loop", "testing.server")
    assert check("testing.server", "agent.loop")
    assert check("safety.git", "__init__")


def test_checker_accepts_downward_and_local_imports() -> None:
    assert check("tool.editor", "workspace.sandbox") is None
    assert check("tool.editor", "tool.texts") is None
    assert check("workspace.sandbox", "errors") is None
    assert check("cli.main", "demo") is None
    assert check("demo", "testing") is None
    assert check("testing.validate", "tool.versions") is None
    assert check("__init__", "jobs.session") is None


def test_imports_are_found_everywhere() -> None:
    """Relative, absolute, inside functions and under TYPE_CHECKING; `from pkg import sub` names the submodule."""
    source = (ROOT / "safety" / "changes.py").read_text(encoding="utf-8")
    assert "TYPE_CHECKING" in source  # its Workspace import sits under TYPE_CHECKING
    assert ("safety.changes", "workspace.sandbox") in {
        (imp.importer, imp.imported) for imp in imports_of(ROOT / "safety" / "changes.py")
    }
    found = {(imp.importer, imp.imported) for imp in imports_of(ROOT / "cli" / "main.py")}
    assert ("cli.main", "jobs.fix") in found  # `from ..jobs import fix as fix_job`, inside a function
    assert ("cli.main", "safety.prune") in found  # `from ..safety import prune`
    assert ("cli.main", "jobs.session") in found
    assert ("demo", "testing") in {(imp.importer, imp.imported) for imp in imports_of(ROOT / "demo" / "__init__.py")}


# The README's Architecture section: its picture and its module table are the folders as they are.

README = ROOT.parent / "README.md"


def architecture() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## Architecture\n")
    following = text.find("\n## ", start + 1)
    return text[start : following if following != -1 else len(text)]


def documented_modules() -> set[str]:
    """Paths under the package named by the table: a layer cell carries down to the rows below it."""
    found: set[str] = set()
    folder = ""
    for line in architecture().splitlines():
        cells = [cell.strip() for cell in line.split("|")[1:-1]]
        if len(cells) != 3 or not cells[1].startswith("`"):
            continue
        if cells[0]:
            folder = "" if cells[0] == "(root)" else cells[0].strip("`")
        found.update(folder + name for name in re.findall(r"`([^`]+)`", cells[1]))
    return found


def package_modules() -> set[str]:
    """Every module file (an empty `__init__.py` only marks a folder), and tools.yaml; not the demo's sandbox."""
    found = {"tools.yaml"}
    for path in modules():
        name = path.relative_to(ROOT).as_posix()
        if name.startswith("demo/sandbox/") or (path.name == "__init__.py" and not path.read_text(encoding="utf-8")):
            continue
        found.add(name)
    return found


def test_readme_module_table_matches_the_folders() -> None:
    documented, actual = documented_modules(), package_modules()
    assert not actual - documented, f"modules missing from the README's table: {sorted(actual - documented)}"
    assert not documented - actual, f"the README's table names modules that do not exist: {sorted(documented - actual)}"


def test_readme_picture_shows_every_layer_in_rank_order() -> None:
    picture = re.search(r"```\n(.*?)```", architecture(), flags=re.S)
    assert picture
    drawn = re.findall(r"\b([a-z]+)/", picture.group(1))
    folders = {path.name for path in ROOT.iterdir() if path.is_dir() and (path / "__init__.py").is_file()}
    assert set(drawn) == folders
    order = [name for name in dict.fromkeys(drawn) if name != "testing"]
    ranks = [RANKS[name] for name in order]
    assert ranks == sorted(ranks, reverse=True), f"the picture's layers, top to bottom: {order}"
    for root_module in ("errors.py", "version.py"):
        assert root_module in picture.group(1)
