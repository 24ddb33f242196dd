"""A directory's entries two levels deep, as `view` shows them: sorted, without a shell, hidden names counted.

A subdirectory that cannot be read is listed with the reason, never shown as silently empty.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field

from .sandbox import Target, Workspace

LISTING_CAP = 1000


@dataclass(frozen=True)
class Entry:
    """One listed path as shown to the model; `unreadable` is why a directory's entries are missing."""

    display: str
    directory: bool = False
    unreadable: str | None = None


@dataclass
class Listing:
    entries: list[Entry] = field(default_factory=list)
    hidden: int = 0  # names starting with a dot or hidden by the policy
    capped: bool = False  # stopped after LISTING_CAP entries


def list_directory(workspace: Workspace, target: Target) -> Listing:
    """Entries up to two levels deep below `target` (itself first); raises WorkspaceError if it cannot be read."""
    listing = Listing([Entry(target.display)])
    try:
        with workspace.tree.scan(target.canonical) as children:
            for child in children:
                child_relative = posixpath.join(target.relative, child.name)
                if not _visible(workspace, listing, child, child_relative):
                    continue
                if len(listing.entries) > LISTING_CAP:
                    listing.capped = True
                    return listing
                if not _is_directory(child):
                    listing.entries.append(Entry(workspace.display(child_relative)))
                    continue
                index = len(listing.entries)
                listing.entries.append(Entry(workspace.display(child_relative), directory=True))
                try:
                    _list_children(workspace, listing, posixpath.join(target.canonical, child.name), child_relative)
                except PermissionError as exc:
                    listing.entries[index] = Entry(listing.entries[index].display, True, exc.strerror or str(exc))
                except OSError:
                    pass  # swapped for a link or removed meanwhile: its entries are not listed
                if listing.capped:
                    return listing
    except OSError as exc:
        raise workspace.failure(target, exc) from None
    return listing


def _list_children(workspace: Workspace, listing: Listing, canonical: str, relative: str) -> None:
    with workspace.tree.scan(canonical) as grandchildren:
        for grandchild in grandchildren:
            grandchild_relative = posixpath.join(relative, grandchild.name)
            if _visible(workspace, listing, grandchild, grandchild_relative):
                if len(listing.entries) > LISTING_CAP:
                    listing.capped = True
                    return
                display = workspace.display(grandchild_relative)
                listing.entries.append(Entry(display, directory=_is_directory(grandchild)))


def _visible(workspace: Workspace, listing: Listing, entry: os.DirEntry[str], relative: str) -> bool:
    if entry.name.startswith(".") or workspace.policy.match(relative, workspace.policy.hidden):
        listing.hidden += 1
        return False
    return True


def _is_directory(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False
