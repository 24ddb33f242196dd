"""Who changed what while a run was going: a watchdog observer on the workspace.

The observer only collects the paths that saw activity; deciding whether a change came from
someone else is left to `SeenFiles` (content comparison), so the editor's own atomic writes,
`touch` and editors that rewrite identical bytes are never reported as outside changes.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

_IGNORED_PARTS = {".git", ".editor-agent"}


def _not_a_stop_race(record: logging.LogRecord) -> bool:
    """watchdog logs an error when an observer stops while an event is being read: harmless noise."""
    return "called when the thread is inactive" not in record.getMessage()


logging.getLogger("watchdog.observers.inotify").addFilter(_not_a_stop_race)
_TEMPORARY_SUFFIX = ".editor-agent.tmp"


class _Collector(FileSystemEventHandler):
    def __init__(self, watcher: WorkspaceWatcher) -> None:
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory or event.event_type in ("opened", "closed_no_write"):
            return
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            if raw:
                self.watcher._add(Path(os.fsdecode(raw)))


class WorkspaceWatcher:
    """Collects the real paths under `root` that were created, modified, moved or deleted."""

    def __init__(self, root: Path) -> None:
        self.root = Path(os.path.realpath(root))
        self._paths: set[Path] = set()
        self._lock = threading.Lock()
        self._observer = Observer()
        self._observer.schedule(_Collector(self), str(self.root), recursive=True)

    def _add(self, path: Path) -> None:
        if path.name.endswith(_TEMPORARY_SUFFIX):
            return
        try:
            parts = path.relative_to(self.root).parts
        except ValueError:
            return
        if _IGNORED_PARTS.intersection(parts):
            return
        with self._lock:
            self._paths.add(path)

    def start(self) -> WorkspaceWatcher:
        self._observer.start()
        return self

    def stop(self) -> None:
        if self._observer.is_alive():
            self._observer.stop()
            self._observer.join(timeout=5)

    def drain(self) -> set[Path]:
        """Paths with activity since the last drain."""
        with self._lock:
            paths, self._paths = self._paths, set()
        return paths

    def pending(self) -> set[Path]:
        """Paths with activity since the last drain, left for the drain: for waiting on the observer."""
        with self._lock:
            return set(self._paths)

    def __enter__(self) -> WorkspaceWatcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
