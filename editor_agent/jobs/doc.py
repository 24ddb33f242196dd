"""`editor-agent doc PATHS...`: add or improve documentation without changing behaviour.

For Python files the harness proves it: the code before and after, with docstrings removed,
must parse to the same syntax tree (`ast`), or the file is put back and reported as rejected.
Changes to files the job was not about are put back too (the README, when allowed, excepted).
"""

from __future__ import annotations

import ast
import posixpath
from pathlib import Path

from ..agent import prompts
from ..errors import JobError
from ..safety.changes import unified_diff
from ..workspace.errors import WorkspaceError
from ..workspace.policy import Policy
from .paths import expand, inside
from .session import Finisher, JobContext, JobSpec


def _is_placeholder(statement: ast.stmt) -> bool:
    """`pass` or `...`: a body that says nothing, like a body that only had a docstring."""
    if isinstance(statement, ast.Pass):
        return True
    return (
        isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant) and statement.value.value is ...
    )


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            first = body[0] if body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                body = body[1:]
            if all(_is_placeholder(statement) for statement in body):
                body = [ast.Pass()]
            node.body = body
    return tree


def same_code(before: bytes, after: bytes) -> bool:
    """Whether two Python sources are the same program once docstrings (and comments) are set aside."""
    try:
        old = ast.dump(_strip_docstrings(ast.parse(before)), include_attributes=False)
        new = ast.dump(_strip_docstrings(ast.parse(after)), include_attributes=False)
    except SyntaxError:
        return False
    return old == new


def select_files(
    workspace: Path,
    patterns: list[str],
    changed_since: str | None,
    mount: str = "/repo",
    policy: Policy | None = None,
) -> list[str]:
    """Workspace-relative files matching the globs (expanded inside the workspace only), limited to those
    changed since a git ref. JobError if a pattern points outside the workspace."""
    files: set[str] = set()
    for pattern in patterns:
        files.update(expand(workspace, mount, pattern, policy))
    if changed_since is not None:
        from ..safety import git as gitsafety

        repo = gitsafety.open_repo(workspace)
        if repo is None:
            raise JobError(f"--changed-since needs a git repository, and {workspace} is not in one")
        try:
            names = repo.git.diff("--name-only", "--no-renames", changed_since, "--", ".").splitlines()
            names += repo.git.ls_files("--others", "--exclude-standard").splitlines()
        except Exception as exc:  # gitpython raises GitCommandError with the whole command line
            raise JobError(f"--changed-since {changed_since}: not a git revision here") from exc
        top = Path(str(repo.working_tree_dir)).resolve()
        recent = {(top / n).resolve() for n in names}
        files = {f for f in files if (workspace / f).resolve() in recent}
    return sorted(files)


def readme_path(workspace: Path, mount: str, readme: str | None, policy: Policy | None = None) -> str | None:
    """The README the job may also edit, workspace-relative; JobError if it is not inside the workspace."""
    if readme is None:
        return None
    relative = inside(workspace, mount, readme, policy)
    if not relative:
        raise JobError(f"--readme {readme} is the workspace itself, not a file in it")
    return relative


def doc_spec(mount: str, files: list[str], readme: str | None) -> JobSpec:
    listed = "\n".join(f"- {mount.rstrip('/')}/{f}" for f in files)
    note = prompts.DOC_README_NOTE.format(readme=f"{mount.rstrip('/')}/{posixpath.normpath(readme)}") if readme else ""
    title = f"document {files[0]}" if len(files) == 1 else f"document {len(files)} files"
    return JobSpec(kind="doc", task=prompts.DOC_TASK.format(paths=listed, readme_note=note), title=title)


def doc_guard(files: list[str], readme: str | None) -> Finisher:
    """The finishing step: put back every edit that changes code or touches a file outside the job."""
    allowed = set(files) | ({posixpath.normpath(readme)} if readme else set())

    def finish(context: JobContext) -> None:
        changes = context.editor.changes
        for shown in changes.touched():
            relative, before, after = changes.relative(shown), changes.before(shown), changes.now(shown)
            if after == before:
                continue
            if relative in allowed and not relative.endswith(".py"):
                continue
            if relative in allowed and before is not None and after is not None and same_code(before, after):
                continue
            try:
                changes.restore(shown)
            except WorkspaceError as error:
                context.result.error = f"{shown} changed code but could not be put back: {error}"
            context.result.rejected.append(shown)
        files_changed = changes.files()
        context.result.files_changed = [c.path for c in files_changed]
        context.result.diff = unified_diff(files_changed)
        context.result.details["documented"] = [f"{context.editor.mount.rstrip('/')}/{f}" for f in files]

    return finish
