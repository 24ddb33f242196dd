"""Checkpoints: the working tree recorded as commits under private refs, `refs/editor-agent/<run>/<label>`.

Built with a temporary index, so the user's branch, index, stash and files never change.
"""

from __future__ import annotations

import re
import time

import git

from .plumbing import (
    _REFS,
    GitSafetyError,
    _git,
    snapshot,
)

REF_ROOT = "refs/editor-agent"
_TRAILER = "Editor-Agent-Checkpoint"
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _checkpoint_ref(run_id: str, label: str | None = None) -> str:
    for name in (run_id, label):
        if name is not None and (not _ID.fullmatch(name) or ".." in name or name.endswith(".lock")):
            raise GitSafetyError(f"invalid checkpoint name {name!r}: use letters, digits, '.', '_' and '-'")
    return f"{REF_ROOT}/{run_id}" + (f"/{label}" if label is not None else "")


def _listing(repo: git.Repo, prefix: str) -> list[tuple[int, str, str]]:
    """(created_ns, refname, sha) for every checkpoint under prefix, oldest first."""
    fmt = "%(refname)%00%(objectname)%00%(committerdate:unix)%00%(contents:trailers:only,unfold)%00"
    fields = [f.strip() for f in _git(repo, "for-each-ref", f"--format={fmt}", prefix + "/").split("\0")][:-1]
    rows = []
    for ref, sha, date, trailers in zip(fields[0::4], fields[1::4], fields[2::4], fields[3::4], strict=True):
        match = re.search(rf"^{_TRAILER}: (\d+)$", trailers, flags=re.M)
        created = int(match.group(1)) if match else int(date or 0) * 1_000_000_000
        rows.append((created, ref, sha))
    return sorted(rows)


def checkpoint(repo: git.Repo, run_id: str, label: str, message: str | None = None) -> str:
    """Snapshot the working tree under `refs/editor-agent/<run_id>/<label>` and return its sha.

    The creation time (ns, strictly increasing within a run) is kept as a trailer, since refs
    carry no order and commit dates have one-second resolution.
    """
    ref = _checkpoint_ref(run_id, label)
    created = max([time.time_ns()] + [row[0] + 1 for row in _listing(repo, _checkpoint_ref(run_id))])
    text = message or f"editor-agent checkpoint {run_id}/{label}"
    sha = snapshot(repo, f"{text.rstrip()}\n\n{_TRAILER}: {created}\n")
    with _REFS:
        _git(repo, "update-ref", "-m", f"editor-agent: checkpoint {label}", ref, sha)
    return sha


def checkpoints(repo: git.Repo, run_id: str) -> list[tuple[str, str]]:
    """[(label, sha)] of one run, in creation order."""
    prefix = _checkpoint_ref(run_id)
    return [(ref[len(prefix) + 1 :], sha) for _, ref, sha in _listing(repo, prefix)]


def run_times(repo: git.Repo) -> dict[str, int]:
    """Each run id with the creation time (ns) of its newest checkpoint: how long ago it was last active."""
    last: dict[str, int] = {}
    for created, ref, _ in _listing(repo, REF_ROOT):
        run = ref[len(REF_ROOT) + 1 :].split("/")[0]
        last[run] = max(created, last.get(run, created))
    return last


def drop_checkpoints(repo: git.Repo, run_id: str) -> None:
    """Delete a run's private refs (the commits become unreachable and are collected by gc)."""
    with _REFS:
        for _, ref, sha in _listing(repo, _checkpoint_ref(run_id)):
            _git(repo, "update-ref", "-d", ref, sha)
