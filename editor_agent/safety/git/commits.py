"""Committing a run's changes on the user's branch, and the commit message."""

from __future__ import annotations

import git

from .carry import Entry, _carry, _index_entries, _tree_entries, _tree_with
from .plumbing import (
    GitSafetyError,
    _commit_of,
    _commit_tree,
    _git,
    _head,
    _rel,
    _stage_working_tree,
    _temp_index,
)


def commit_paths(repo: git.Repo, paths: list[str], message: str, before: str | None = None) -> str:
    """Commit these paths on HEAD; the user's other staging stays as it was.

    Without `before`, the paths are committed as the working tree has them. With `before` (a
    checkpoint taken before a run), only the run's change to each file (before -> working tree)
    is committed, on top of what the user has staged of it: the user's unstaged edits stay
    unstaged and out of the commit, and a file where the two cannot be separated refuses the
    commit (see _carry). The commit is built in a private index, HEAD moves only if it has not
    changed meanwhile, and the user's index entries are then updated for the committed paths
    alone (as `git commit --only` would). No hooks run and the commit is not signed.
    """
    wanted = sorted({_rel(p) for p in paths})
    if not wanted:
        raise GitSafetyError("nothing to commit: no paths given")
    head = _head(repo)
    with _temp_index(repo, copy=False) as env:
        if before or head:
            _git(repo, "read-tree", _commit_of(repo, before) if before else str(head), env=env)
        theirs = _tree_entries(repo, _stage_working_tree(repo, env, wanted), wanted)
    carried: dict[str, Entry | None] = {p: theirs.get(p) for p in wanted}
    if before:
        ours, unmerged = _index_entries(repo, wanted)
        if unmerged:
            raise GitSafetyError(f"not committing {', '.join(sorted(unmerged))}: your index has a merge conflict there")
        carried = _carry(repo, wanted, ours, _tree_entries(repo, before, wanted), theirs)
    tree = _tree_with(repo, head, carried)
    if head and tree == _git(repo, "rev-parse", f"{head}^{{tree}}").strip():
        raise GitSafetyError(f"nothing to commit: {', '.join(wanted)} unchanged since HEAD")
    sha = _commit_tree(repo, tree, head, message)
    subject = message.splitlines()[0] if message.strip() else "editor-agent"
    _git(repo, "update-ref", "-m", f"commit: {subject}", "HEAD", sha, head or "")
    zero = "0" * len(sha)
    lines = [f"0 {zero}\t{p}\0" + (f"{e[0]} {e[1]}\t{p}\0" if e else "") for p, e in sorted(carried.items())]
    try:
        _git(repo, "update-index", "-z", "--index-info", stdin="".join(lines).encode("utf-8", "surrogateescape"))
    except GitSafetyError as err:  # the commit exists; say how to resync the index by hand
        raise GitSafetyError(f"committed {sha[:12]}, index not updated ({err}); run `git reset -q -- <paths>`") from err
    return sha


def summary_message(paths: list[str], task: str) -> str:
    """Commit message: 'editor-agent: <task>' (under 72 characters), a blank line, the changed paths."""
    words = " ".join(next((line for line in task.splitlines() if line.strip()), "").split()).rstrip(".")
    if len(words) > 1 and words[0].isupper() and not words[1].isupper():
        words = words[0].lower() + words[1:]
    subject = f"editor-agent: {words or f'update {len(set(paths))} file(s)'}"
    if len(subject) > 71:
        subject = subject[:70].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return subject + "\n\n" + "".join(f"- {p}\n" for p in sorted(set(paths)))
