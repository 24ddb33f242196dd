"""Paths and globs given to jobs, kept inside the workspace before any request is sent.

A job's paths end up in the model's task and in the commands run after it (pytest on `--out`), so a
path outside the workspace would be edited or run there. Every path must name a place inside: a
relative path without `..` escaping, or an absolute one under the workspace directory or the mount,
not through a symbolic link that leads out, and not hidden by the policy. Globs are expanded by
walking the workspace itself, never following a link out of it and skipping hidden paths.
"""

from __future__ import annotations

import fnmatch
import glob as globbing
import os
import posixpath
from collections.abc import Iterator
from pathlib import Path

from ..errors import JobError
from ..workspace.errors import WorkspaceError
from ..workspace.policy import Policy
from ..workspace.sandbox import Workspace


def _roots(workspace: Path) -> tuple[str, ...]:
    """The workspace directory as given (made absolute) and resolved: an absolute path may use either."""
    return tuple(dict.fromkeys((os.path.abspath(workspace), os.path.realpath(workspace))))


def _under(path: str, root: str) -> str | None:
    """`path` relative to `root` if it is `root` or below it, else None (both normalized, absolute)."""
    if path == root:
        return ""
    prefix = root.rstrip("/") + "/"
    return path[len(prefix) :] if path.startswith(prefix) else None


def relative_form(workspace: Path, mount: str, path: str) -> str:
    """`path` as a normalized workspace-relative path ('' for the workspace itself); JobError if outside."""
    if not path.strip() or "\x00" in path:
        raise JobError(f"{path!r} is not a path")
    if path.startswith("/"):
        normalized = posixpath.normpath(path)
        mount = posixpath.normpath("/" + mount.strip("/"))
        for root in (*_roots(workspace), mount):
            relative = _under(normalized, root)
            if relative is not None:
                return relative
        raise JobError(f"{path} is outside the workspace {workspace}: give a path relative to it (or under {mount})")
    relative = posixpath.normpath(path)
    if relative == ".." or relative.startswith("../"):
        raise JobError(f"{path} is outside the workspace {workspace}: '..' leads out of it")
    return "" if relative == "." else relative


def _check_inside(workspace: Path, shown: str, relative: str, policy: Policy) -> str:
    """The path's resolved relative form; JobError if a link leads out of the workspace or policy hides it."""
    try:
        return Workspace(workspace, policy=policy).target(relative).canonical  # the sandbox's own rules
    except WorkspaceError as error:
        raise JobError(f"{shown}: {error}") from None


def inside(workspace: Path, mount: str, path: str, policy: Policy | None = None) -> str:
    """The normalized workspace-relative form of a path given to a job; JobError (one line) if it is not
    a usable path inside the workspace. The path need not exist."""
    relative = relative_form(workspace, mount, path)
    _check_inside(workspace, path, relative, policy or Policy())
    return relative


def expand(workspace: Path, mount: str, pattern: str, policy: Policy | None = None) -> list[str]:
    """The workspace-relative files a glob (or a plain path) names, sorted.

    `*` and `?` do not match a leading dot unless the pattern's part has one; `**` matches any
    number of directories. A link leading out of the workspace is skipped, or an error when the
    pattern names it without wildcards.
    """
    policy = policy or Policy()
    if not globbing.has_magic(pattern):
        relative = inside(workspace, mount, pattern, policy)
        return [relative] if relative and os.path.isfile(os.path.join(workspace, relative)) else []
    relative = relative_form(workspace, mount, pattern)
    parts = [part for part in relative.split("/") if part not in ("", ".")]
    literal = []
    for part in parts:  # the leading parts without wildcards are checked as a path: an error names them
        if globbing.has_magic(part):
            break
        literal.append(part)
    if literal:
        _check_inside(workspace, "/".join(literal), "/".join(literal), policy)
    walker = _Walker(os.path.realpath(workspace), policy)
    return sorted(set(walker.walk("", parts)))


class _Walker:
    """Matches glob parts against the workspace tree, one directory at a time."""

    def __init__(self, root: str, policy: Policy) -> None:
        self.root = root
        self.policy = policy

    def _visible(self, relative: str, part: str) -> bool:
        name = posixpath.basename(relative)
        if name.startswith(".") and not part.startswith("."):
            return False
        if self.policy.match(relative, self.policy.hidden):
            return False
        real = _under(os.path.realpath(os.path.join(self.root, relative)), self.root)
        return real is not None and not self.policy.match(real, self.policy.hidden)

    def _entries(self, relative: str) -> list[os.DirEntry[str]]:
        try:
            with os.scandir(os.path.join(self.root, relative)) as entries:
                return sorted(entries, key=lambda entry: entry.name)
        except OSError:
            return []

    def walk(self, relative: str, parts: list[str]) -> Iterator[str]:
        """The files under `relative` (a visible directory inside) that match the remaining parts."""
        if not parts:
            if relative and os.path.isfile(os.path.join(self.root, relative)):
                yield relative
            return
        part, rest = parts[0], parts[1:]
        if part == "**":
            yield from self.walk(relative, rest) if rest else self._files_below(relative)
            for entry in self._entries(relative):
                child = posixpath.join(relative, entry.name)
                if rest and entry.is_dir(follow_symlinks=False) and self._visible(child, "*"):
                    yield from self.walk(child, parts)
            return
        names = (
            [entry.name for entry in self._entries(relative) if fnmatch.fnmatchcase(entry.name, part)]
            if globbing.has_magic(part)
            else [part]
        )
        for name in names:
            child = posixpath.join(relative, name)
            if not os.path.lexists(os.path.join(self.root, child)) or not self._visible(child, part):
                continue
            if rest and not os.path.isdir(os.path.join(self.root, child)):
                continue
            yield from self.walk(child, rest)

    def _files_below(self, relative: str) -> Iterator[str]:
        """Every visible file below a directory (a trailing `**`), not descending into links."""
        for entry in self._entries(relative):
            child = posixpath.join(relative, entry.name)
            if not self._visible(child, "*"):
                continue
            if entry.is_dir(follow_symlinks=False):
                yield from self._files_below(child)
            elif os.path.isfile(os.path.join(self.root, child)):
                yield child
