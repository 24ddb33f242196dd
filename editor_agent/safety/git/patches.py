"""Patches between commits: made with plumbing and fixed prefixes, applied without touching the user's index."""

from __future__ import annotations

import tempfile

import git

from .plumbing import (
    GitSafetyError,
    _commit_of,
    _git,
    _rel,
    _stage_working_tree,
    _temp_index,
    _try,
    _z,
)

# plumbing diff with fixed prefixes: immune to diff.noprefix, colours, external diff drivers
_PATCH_OPTIONS = ("-p", "--binary", "--full-index", "--no-renames", "--src-prefix=a/", "--dst-prefix=b/")
# apply.whitespace=fix in the user's config would otherwise rewrite the patched bytes
_APPLY_OPTIONS = ("--whitespace=nowarn",)


def changed_paths(repo: git.Repo, old: str, new: str) -> list[str]:
    """Paths that differ between two commits; a rename counts as a deletion plus an addition."""
    return _z(
        _git(repo, "diff-tree", "-r", "-z", "--no-renames", "--name-only", _commit_of(repo, old), _commit_of(repo, new))
    )


def _diff(repo: git.Repo, old: str, new: str, paths: list[str] | None) -> str:
    if paths is not None and not paths:
        return ""
    limit = ["--", *[_rel(p) for p in paths]] if paths is not None else []
    return _git(repo, "diff-tree", *_PATCH_OPTIONS, old, new, *limit)


def patch_between(repo: git.Repo, old: str, new: str, paths: list[str] | None = None) -> str:
    """A binary, full-index patch from `old` to `new` (optionally limited to `paths`), for apply_patch()."""
    return _diff(repo, _commit_of(repo, old), _commit_of(repo, new), paths)


def apply_patch(repo: git.Repo, patch: str) -> list[str]:
    """Apply a patch to the working tree; return the paths left with conflict markers ([] if clean).

    A clean patch is applied without any index. Otherwise a 3-way apply runs against a private
    index that mirrors the working tree (git insists the two match), so the user's index stays as
    it was. git checks every file before writing any, so a failure leaves nothing half-applied.
    """
    if not patch.strip():
        return []
    with tempfile.NamedTemporaryFile(prefix="editor-agent-", suffix=".patch") as file:
        file.write(patch.encode("utf-8", "surrogateescape"))
        file.flush()
        if _try(repo, "apply", *_APPLY_OPTIONS, "--check", file.name) is not None:
            _git(repo, "apply", *_APPLY_OPTIONS, file.name)
            return []
        with _temp_index(repo, copy=True) as env:
            _stage_working_tree(repo, env)
            options = {"env": env, "with_extended_output": True, "with_exceptions": False}
            status, _, err = repo.git.apply(*_APPLY_OPTIONS, "--3way", file.name, **options)
            conflicts = sorted({line.split("\t", 1)[1] for line in _z(_git(repo, "ls-files", "-u", "-z", env=env))})
        if status == 0 or conflicts:
            return conflicts
        files = [line.split("\t")[-1] for line in _z(_try(repo, "apply", "--numstat", "-z", file.name) or "")]
        reasons = [line for line in str(err).splitlines() if line.startswith(("error:", "fatal:"))] or ["rejected"]
        raise GitSafetyError(f"the patch does not apply to {', '.join(files) or 'the working tree'}: {reasons[-1]}")
