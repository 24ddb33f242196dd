"""What the model may see and change in a workspace: hidden and protected globs, size limits, encodings."""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field


class Policy(BaseModel):
    """What the model may see and change inside the workspace (globs on workspace-relative paths).

    A glob without `/` matches any single path component (`*.pem` matches `keys/a.pem`); a glob
    with `/` matches a leading part of the path (`build/*` matches `build/x/y`). Matching ignores
    case: on a case-insensitive filesystem `.GIT/hooks` is `.git/hooks`. Hidden paths (credentials,
    git's and the tool's own state) cannot be viewed, listed or written; protected ones (files that
    run code on their own) cannot be written. A path matching `reveal` is not hidden, one matching
    `unprotect` not protected.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    hidden: tuple[str, ...] = (
        ".git",
        ".editor-agent",
        ".env",
        ".env.*",
        "*.pem",
        "*.key",
        "id_rsa*",
        "id_dsa*",
        "id_ecdsa*",
        "id_ed25519*",
        ".ssh",
        ".aws",
        ".netrc",
        ".npmrc",
        ".pypirc",
        ".git-credentials",
        "*credentials*.json",
    )
    read_only: tuple[str, ...] = (
        ".git",  # also when revealed: hooks, and config keys such as core.hooksPath and core.fsmonitor, run code
        ".envrc",
        ".github/workflows",
        ".vscode",
    )
    reveal: tuple[str, ...] = ()
    unprotect: tuple[str, ...] = ()
    max_file_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    max_view_bytes: int = Field(default=256 * 1024 * 1024, gt=0)  # larger files can still be viewed by range
    read_only_workspace: bool = False  # a dry look: every write is refused
    images: bool = True  # `view` of a PNG, JPEG, GIF or WebP file shows the image to the model
    encodings: tuple[tuple[str, str], ...] = ()  # (glob, encoding): files whose legacy encoding is known

    def encoding_for(self, relative: str) -> str | None:
        """The encoding set for the path by the first matching glob, or None to detect it."""
        return next((encoding for glob, encoding in self.encodings if self.match(relative, (glob,))), None)

    def match(self, relative: str, patterns: tuple[str, ...]) -> str | None:
        """The first pattern that matches the relative path, or None.

        For the policy's own `hidden` and `read_only` lists, a path that `reveal` or `unprotect`
        matches is exempt.
        """
        found = self._first(relative, patterns)
        if found is None:
            return None
        exempt = self.reveal if patterns == self.hidden else self.unprotect if patterns == self.read_only else ()
        return None if exempt and self._first(relative, exempt) else found

    @staticmethod
    def _first(relative: str, patterns: tuple[str, ...]) -> str | None:
        """The first pattern that matches the relative path, ignoring case, or None."""
        parts = [p.lower() for p in relative.split("/") if p and p != "."]
        any_name, has_paths = _name_patterns(patterns)
        if not has_paths and not any(any_name(part) for part in parts):
            return None  # the usual case, decided by one compiled expression per path part
        for pattern in patterns:
            wanted = pattern.strip("/").lower()
            if "/" in wanted:
                if any(fnmatch.fnmatchcase("/".join(parts[: i + 1]), wanted) for i in range(len(parts))):
                    return pattern.strip("/")
            elif any(fnmatch.fnmatchcase(part, wanted) for part in parts):
                return pattern
        return None


@functools.lru_cache(maxsize=64)
def _name_patterns(patterns: tuple[str, ...]) -> tuple[Callable[[str], object], bool]:
    """One compiled test (on lower-cased names) for all the single-name patterns, and whether any spans directories."""
    names = [p.strip("/").lower() for p in patterns if "/" not in p.strip("/")]
    expression = re.compile("|".join(f"(?:{fnmatch.translate(name)})" for name in names) or "(?!)")
    return expression.match, len(names) < len(patterns)
