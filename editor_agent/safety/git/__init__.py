"""Git safety net: checkpoints, isolated worktrees, patches and careful commits.

Before the harness touches a user's repository it records the working tree as commits under
private refs (`refs/editor-agent/<run>/<label>`), built with a temporary index so the user's
branch, index, stash and files never change. A run can also work in its own detached worktree
and hand its result back as a patch, a branch or a commit of exactly the paths it changed.

    plumbing     one way to call git, private indexes, snapshots, open_repo, local excludes
    checkpoints  private refs of a run: checkpoint, list, age, drop
    patches      patches between commits, and applying one
    carry        a run's changes told apart from the user's uncommitted work
    worktree     a detached worktree for an isolated run, and a branch from it
    commits      committing exactly a run's changes on HEAD
"""

from .checkpoints import REF_ROOT, checkpoint, checkpoints, drop_checkpoints, run_times
from .commits import commit_paths, summary_message
from .patches import apply_patch, changed_paths, patch_between
from .plumbing import GitSafetyError, exclude_locally, open_repo, parent_of, snapshot
from .worktree import Worktree, check_branch

__all__ = [
    "REF_ROOT",
    "GitSafetyError",
    "Worktree",
    "apply_patch",
    "changed_paths",
    "check_branch",
    "checkpoint",
    "checkpoints",
    "commit_paths",
    "drop_checkpoints",
    "exclude_locally",
    "open_repo",
    "parent_of",
    "patch_between",
    "run_times",
    "snapshot",
    "summary_message",
]
