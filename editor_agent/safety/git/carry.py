"""Separating a run's changes from the user's uncommitted work, file by file, for a branch or a commit."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import git

from .plumbing import (
    GitSafetyError,
    _git,
    _temp_index,
    _z,
)

# A file as a tree or index holds it: (mode, blob sha); None where the path is absent.
Entry = tuple[str, str]
_REGULAR = ("100644", "100755")


def _tree_entries(repo: git.Repo, treeish: str | None, paths: list[str]) -> dict[str, Entry]:
    """The entries of exactly these paths in a tree (None: the empty tree of an unborn branch)."""
    if treeish is None or not paths:
        return {}
    found: dict[str, Entry] = {}
    for item in _z(_git(repo, "ls-tree", "-r", "-z", "--full-tree", treeish, "--", *paths)):
        meta, path = item.split("\t", 1)
        mode, _, sha = meta.split()
        found[path] = (mode, sha)
    return {path: entry for path, entry in found.items() if path in paths}


def _index_entries(repo: git.Repo, paths: list[str]) -> tuple[dict[str, Entry], set[str]]:
    """The user's index entries of these paths, and the paths it has unmerged (a conflict in progress)."""
    found: dict[str, Entry] = {}
    unmerged: set[str] = set()
    for item in _z(_git(repo, "ls-files", "-s", "-z", "--", *paths)) if paths else []:
        meta, path = item.split("\t", 1)
        mode, sha, stage = meta.split()
        if stage != "0":
            unmerged.add(path)
        elif path in paths:
            found[path] = (mode, sha)
    return found, unmerged


class _Tangled(Exception):
    """The run's change to a file cannot be told apart from the user's own uncommitted work in it."""


def _merge_blobs(repo: git.Repo, path: str, ours: str, base: str, theirs: str) -> str:
    """A 3-way merge of three blobs into a new blob; a conflict or a binary file is _Tangled."""
    with tempfile.TemporaryDirectory(prefix="editor-agent-merge-") as scratch:
        names = []
        for label, sha in (("ours", ours), ("base", base), ("theirs", theirs)):
            name = os.path.join(scratch, label)
            data = repo.git.cat_file("blob", sha, stdout_as_string=False, strip_newline_in_stdout=False)
            Path(name).write_bytes(bytes(data))
            names.append(name)
        status, merged, _ = repo.git.merge_file(
            "-p", "--quiet", *names, with_extended_output=True, with_exceptions=False, stdout_as_string=False,
            strip_newline_in_stdout=False,
        )  # fmt: skip
    if status != 0:
        raise _Tangled(f"{path}: your uncommitted changes overlap the run's edits" if 0 < status < 128 else
                       f"{path}: a binary file you changed too")  # fmt: skip
    return _git(repo, "hash-object", "-w", "--stdin", stdin=bytes(merged)).strip()


def _carry_entry(
    repo: git.Repo, path: str, ours: Entry | None, base: Entry | None, theirs: Entry | None
) -> Entry | None:
    """`ours` plus the run's change (base -> theirs) to one file; None: the file is deleted."""
    if ours == base or ours == theirs:
        return theirs
    if base is None:
        raise _Tangled(f"{path}: deleted in your working tree but created by the run")
    if ours is None:
        raise _Tangled(f"{path}: not committed (untracked or only staged), so its contents are yours")
    if theirs is None:
        raise _Tangled(f"{path}: deleted by the run, but it has uncommitted changes of yours")
    if ours[0] != base[0] and theirs[0] != base[0]:
        raise _Tangled(f"{path}: its mode was changed by both you and the run")
    mode = theirs[0] if ours[0] == base[0] else ours[0]
    if not {ours[0], base[0], theirs[0]} <= set(_REGULAR):
        raise _Tangled(f"{path}: a link or submodule with uncommitted changes of yours")
    if ours[1] == base[1] or theirs[1] == base[1]:
        return (mode, theirs[1] if ours[1] == base[1] else ours[1])
    return (mode, _merge_blobs(repo, path, ours[1], base[1], theirs[1]))


def _carry(
    repo: git.Repo, paths: list[str], ours: dict[str, Entry], base: dict[str, Entry], theirs: dict[str, Entry]
) -> dict[str, Entry | None]:
    """The run's changes (base -> theirs) replayed onto `ours`, path by path.

    Where `ours` and `base` agree (the user had no uncommitted work in the file) the file is taken
    as the run left it; otherwise only the run's lines are merged in. A file whose changes cannot
    be separated refuses the whole result, so nothing of the user's is ever carried along.
    """
    carried: dict[str, Entry | None] = {}
    tangled: list[str] = []
    for path in paths:
        if theirs.get(path) == base.get(path):
            continue  # the run left it as it found it
        try:
            carried[path] = _carry_entry(repo, path, ours.get(path), base.get(path), theirs.get(path))
        except _Tangled as err:
            tangled.append(str(err))
    if tangled:
        raise GitSafetyError("the run's changes cannot be separated from yours: " + "; ".join(tangled))
    return carried


def _tree_with(repo: git.Repo, onto: str | None, entries: Mapping[str, Entry | None]) -> str:
    """The tree of `onto` (None: empty) with these entries set or (None) removed."""
    zero = "0" * (64 if _git(repo, "rev-parse", "--show-object-format").strip() == "sha256" else 40)
    lines = [f"{entry[0]} {entry[1]}\t{path}\0" if entry else f"0 {zero}\t{path}\0" for path, entry in entries.items()]
    with _temp_index(repo, copy=False) as env:
        if onto:
            _git(repo, "read-tree", onto, env=env)
        if lines:
            _git(
                repo,
                "update-index",
                "-z",
                "--index-info",
                env=env,
                stdin="".join(lines).encode("utf-8", "surrogateescape"),
            )
        return _git(repo, "write-tree", env=env).strip()
