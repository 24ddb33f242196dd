"""Execute one text editor command for one tool version and produce the exact result text.

`Editor.run(input)` never raises for anything the model sent: every failure becomes a
`ToolResult` with `is_error=True` and a message from `texts.py`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from ..errors import ToolError
from ..safety.changes import ChangeSet
from ..safety.journal import Journal
from ..workspace.errors import AlreadyExists, IsDirectory, WorkspaceError
from ..workspace.images import ImageBudget, image_block, size_text
from ..workspace.listing import list_directory
from ..workspace.sandbox import Snapshot, Target, Workspace
from ..workspace.textfile import (
    TextFile,
    count_lines,
    line_offset,
    lines_back,
    lines_forward,
    number_lines,
    split_lines,
)
from . import replacing, viewing
from . import texts as messages
from .failures import explain
from .history import History, digest
from .inputs import Create, Insert, StrReplace, UndoEdit, View, parse_command
from .matching import Match, find_tolerant, multiple_matches_error, not_found_hints, occurrences
from .outline import outline
from .staleness import OutsideNotes, SeenFiles, short_diff
from .versions import ToolSpec

if TYPE_CHECKING:
    from ..workspace.watch import WorkspaceWatcher

SNIPPET_LINES = replacing.SNIPPET_LINES
DEFAULT_OUTPUT_LIMIT = 16000
ESCALATE_AFTER = 3  # failed str_replace calls in a row on one file before the file itself is shown
ESCALATE_MAX_LINES = 300


@dataclass(frozen=True)
class Proposal:
    """An edit about to be written, for an approval hook: `before`/`after` are None for no file."""

    command: str
    path: str
    before: bytes | None
    after: bytes | None


Approver = Callable[[Proposal], "str | None"]  # None approves; a string is the reason for refusing


@dataclass(frozen=True)
class Change:
    """One command's edit as a value, computed before anything is written.

    `before` is the file's bytes now (None: there is no file, the change creates it); `after` its
    new content (None: the change removes it); `read` is the stat of the read `before` came from,
    so the write can refuse when the file changed since.
    """

    command: str
    target: Target
    before: bytes | None
    after: list[bytes | memoryview] | None
    read: os.stat_result | None = None


class ToolResult(BaseModel):
    """What goes back to the model in a `tool_result` block: text, or blocks (text and an image)."""

    content: str | list[dict[str, Any]]
    is_error: bool = False


class Editor:
    """One editing session on a workspace with one tool version; undo history lives here."""

    def __init__(
        self,
        workspace: Workspace,
        tool: ToolSpec,
        *,
        max_characters: int | None = None,
        strict: bool = False,
        output_limit: int = DEFAULT_OUTPUT_LIMIT,
        journal: Journal | None = None,
        watcher: WorkspaceWatcher | None = None,
        track_changes: bool = False,
        approve: Approver | None = None,
    ) -> None:
        self.workspace = workspace
        self.tool = tool
        self.strict = strict
        self.max_characters = max_characters
        self.view_limit = max_characters if (max_characters and tool.max_characters) else output_limit
        self.output_limit = output_limit
        self.keeps_history = "undo_edit" in tool.commands  # only versions with undo_edit need the stack
        self.history = History()
        self.changes = ChangeSet(workspace)  # what this session wrote, for diffs, jobs and git
        self.writes = 0  # files written so far (edits and creates)
        self._lock = threading.Lock()  # tool calls of one session run one at a time, even from threads
        self.journal = journal  # write-ahead record for `editor-agent undo`
        self.watcher = watcher  # reports activity by others, for notes in the next tool result
        self.track_changes = track_changes or watcher is not None  # compare edits with what the model saw
        self.seen = SeenFiles()
        self.approve = approve  # asked before every write; may refuse with a reason
        self._failures: dict[Path, int] = {}  # failed str_replace calls in a row, per file
        self._outside = OutsideNotes(workspace, self.seen)
        self.image_budget = ImageBudget()  # the images this conversation has shown, against the API's limits

    @property
    def tool_name(self) -> str:
        """The name the model calls the tool by."""
        return self.tool.name

    @property
    def betas(self) -> tuple[str, ...]:
        """The `anthropic-beta` values this tool version needs."""
        return tuple(self.tool.betas)

    @property
    def mount(self) -> str:
        return self.workspace.mount

    def tool_definition(self) -> dict[str, Any]:
        """The tool's entry in the request's `tools` (with `max_characters` where the version takes it)."""
        return self.tool.definition(self.max_characters)

    def description(self) -> dict[str, Any]:
        """What a transcript records about the editor: tool version, mount, view limit."""
        return {"tool": self.tool.type, "mount": self.workspace.mount, "max_characters": self.max_characters}

    def run(self, raw_input: object) -> ToolResult:
        """Execute one `tool_use.input`; errors come back as `is_error` results."""
        with self._lock:
            result = self._run(raw_input)
            notes = self._outside_notes(raw_input) if self.watcher is not None else ""
            if not notes:
                return result
            if isinstance(result.content, list):
                return result.model_copy(update={"content": [*result.content, {"type": "text", "text": notes}]})
            return result.model_copy(update={"content": result.content + notes})

    def _outside_notes(self, raw_input: object) -> str:
        """Notes on files the model has seen that someone else changed, other than this call's own file."""
        own = None
        if isinstance(raw_input, dict) and isinstance(raw_input.get("path"), str):
            try:
                own = self.workspace.resolve(raw_input["path"]).real
            except WorkspaceError:
                pass
        assert self.watcher is not None
        return self._outside.notes(self.watcher.drain(), own)

    def _stale_diff(self, target: Target, before: Snapshot) -> str | None:
        """A diff of what someone else changed since the model last saw the file, or None if nothing."""
        if not self.track_changes:
            return None
        changed, old = self.seen.changed(target.real, before.data, before.stat)
        return short_diff(old, before.data, target.display) if changed else None

    def _run(self, raw_input: object) -> ToolResult:
        try:
            command = parse_command(raw_input, self.tool)
            if isinstance(command, View):
                return ToolResult(content=self.view(command))
            if isinstance(command, Create):
                content = self.create(command)
            elif isinstance(command, StrReplace):
                content = self.str_replace(command)
            elif isinstance(command, Insert):
                content = self.insert(command)
            else:
                content = self.undo_edit(command)
            return ToolResult(content=self._clip(content))
        except ToolError as error:
            return ToolResult(content=self._clip(error.message), is_error=True)
        except WorkspaceError as error:
            return ToolResult(content=self._clip(explain(error)), is_error=True)
        except Exception as exc:  # noqa: BLE001 - the model gets an error result, never a crashed run
            command_name = raw_input.get("command") if isinstance(raw_input, dict) else None
            reason = f"{type(exc).__name__}: {exc}"
            message = messages.UNEXPECTED.format(command=command_name if isinstance(command_name, str) else "tool",
                                                 reason=reason)  # fmt: skip
            return ToolResult(content=self._clip(message), is_error=True)

    # --- helpers ----------------------------------------------------------------------

    def _clip(self, text: str) -> str:
        if len(text) <= self.output_limit:
            return text
        return text[: self.output_limit] + "\n" + messages.CLIPPED_OUTPUT

    def _existing_file(self, path: str) -> tuple[Target, bytes, os.stat_result]:
        target = self.workspace.resolve(path)
        if self.workspace.existing(target) == "directory":
            raise IsDirectory(target.display)
        self.workspace.check_writable(target)
        return target, *self.workspace.read_bytes(target)

    def _allow(self, change: Change) -> None:
        """Refuse a write the policy or the approval hook does not allow; nothing is written then."""
        command, display = change.command, change.target.display
        if self.workspace.policy.read_only_workspace:
            raise ToolError(messages.WORKSPACE_READ_ONLY.format(command=command, path=display))
        if change.after is not None:
            self.workspace.check_size(change.target, sum(len(piece) for piece in change.after))
        if self.approve is not None:
            after = b"".join(change.after) if change.after is not None else None
            reason = self.approve(Proposal(command, display, change.before, after))
            if reason is not None:
                raise ToolError(messages.NOT_APPROVED.format(command=command, path=display, reason=reason))

    def apply(self, change: Change) -> str:
        """Make one change: approval, journal, the write, change set, undo history, what the model has seen.

        Returns a note for the result (new directories made, other hard links left as they were).
        """
        target, after, note = change.target, change.after, ""
        self._allow(change)
        tracked = self.journal is not None or self.keeps_history or self.track_changes
        after_digest = digest(after) if after is not None and tracked else ""
        if self.journal is not None:
            self.journal.before_write(target.canonical, change.before, after_digest)
        if change.before is None:
            assert after is not None
            record = self.journal.before_directories if self.journal is not None else None
            made = self.workspace.create(target, b"".join(after), before_directories=record)
            note = messages.CREATED_DIRECTORIES.format(directories=", ".join(made)) if made else ""
        elif after is None:
            self.workspace.remove(target)
        else:
            assert change.read is not None
            self.workspace.replace(target, after, change.read)
            links = change.read.st_nlink
            if links > 1 and change.command != "undo_edit":
                note = messages.HARDLINK_NOTE.format(count=links, path=target.display)
        self.changes.note(target.display, target.real, change.before)
        self.writes += 1
        if change.command == "undo_edit":
            self.history.pop(target.real)
        elif self.keeps_history:
            self.history.record(target.real, change.before, after or [], after_digest)
        if after is None:
            self.seen.forget(target.real)
        elif self.track_changes:
            self.seen.remember(target.real, after, digest=after_digest)
        return note

    # --- commands ---------------------------------------------------------------------

    def view(self, command: View) -> str | list[dict[str, Any]]:
        target = self.workspace.resolve(command.path)
        kind = self.workspace.existing(target)
        image = self.workspace.read_image(target) if kind == "file" and command.view_range is None else None
        if image is not None:
            data, info = image
            facts = {"path": target.display, "kind": info.kind, "width": info.width, "height": info.height,
                     "size": size_text(len(data))}  # fmt: skip
            reason = self.image_budget.refusal(info, len(data))
            if reason is not None:
                raise ToolError(messages.IMAGE_REFUSED.format(**facts, reason=reason))
            self.image_budget.add(info, len(data))
            return [{"type": "text", "text": messages.IMAGE_VIEW.format(**facts)}, image_block(data, info)]
        if kind == "directory":
            if command.view_range is not None:
                raise ToolError(messages.VIEW_RANGE_ON_DIRECTORY)
            return self._clip(viewing.directory(target.display, list_directory(self.workspace, target)))
        if command.view_range is not None and (shown := self._plain_range(target, command.view_range)) is not None:
            return shown
        snapshot = self.workspace.read(target, ranged=command.view_range is not None)
        if self.track_changes:
            self.seen.remember(target.real, snapshot.data, snapshot.stat)
        if command.view_range is None:
            python = target.real.suffix == ".py"
            return viewing.whole_file(target.display, snapshot.text, target.relative, python, self.view_limit)
        return viewing.file_range(target.display, snapshot.text, target.relative, command.view_range, self.view_limit)

    def _plain_range(self, target: Target, view_range: list[int]) -> str | None:
        """A `view_range` of a plain UTF-8 file from a streamed read that keeps only the range; None: read it whole."""
        window, info = self.workspace.read_window(target, view_range, self.view_limit, keep_all=self.track_changes)
        shown = viewing.plain_range(target.display, window, view_range, self.view_limit) if window else None
        if window is not None and shown is not None and self.track_changes:
            self.seen.remember(target.real, window.pieces, info)  # all of it: what the model has seen
        return shown

    def create(self, command: Create) -> str:
        target = self.workspace.resolve(command.path)
        self.workspace.check_writable(target)
        kind = self.workspace.kind(target)
        if kind == "file":
            raise AlreadyExists(target.display)
        if kind == "directory":
            raise IsDirectory(target.display)
        try:
            data = command.file_text.encode("utf-8")
        except UnicodeEncodeError as exc:
            char = exc.object[exc.start : exc.end]
            raise ToolError(messages.CANNOT_ENCODE.format(path=target.display, encoding="utf-8", char=char)) from None
        note = self.apply(Change("create", target, None, [data]))
        return messages.CREATED.format(path=target.display) + note

    def str_replace(self, command: StrReplace) -> str:
        target, data, info = self._existing_file(command.path)
        # Staleness notes and an encoding set for the path need the decoded text: the general path.
        plain = not self.track_changes and self.workspace.policy.encoding_for(target.relative) is None
        if plain and (edit := replacing.exact_edit(data, command.old_str, command.new_str)) is not None:
            self._failures.pop(target.real, None)
            note = self.apply(Change("str_replace", target, data, edit.pieces, info))
            return messages.EDITED.format(path=target.display, snippet=edit.snippet) + note
        before = self.workspace.decoded(target, data, info)
        try:
            match, stale = self._find_match(command, target, before)
        except ToolError as error:
            failures = self._failures[target.real] = self._failures.get(target.real, 0) + 1
            if failures % ESCALATE_AFTER == 0:  # the 3rd, 6th, ... failure in a row: show the file
                raise ToolError(error.message + self._escalation(target, before, failures)) from None
            raise
        self._failures.pop(target.real, None)
        text_file = before.text
        normalized = text_file.normalized
        start = text_file.to_original_offset(match.start)
        end = text_file.to_original_offset(match.end)
        # An empty file has no line endings to follow: new_str is written exactly as sent.
        replacement = match.replacement.replace("\n", text_file.eol) if normalized else (command.new_str or "")
        pieces = replacing.splice(target, before, start, end, replacement)
        note = self.apply(Change("str_replace", target, before.data, pieces, before.stat))
        # The reference's snippet: from 4 lines above the edit to 4 lines below its last line.
        line = normalized.count("\n", 0, match.start) + 1
        snippet_start = lines_back(normalized, match.start, SNIPPET_LINES)
        snippet_end = lines_forward(normalized, match.end, SNIPPET_LINES + 1)
        chunk = normalized[snippet_start : match.start] + match.replacement + normalized[match.end : snippet_end]
        snippet = number_lines(split_lines(chunk), max(1, line - SNIPPET_LINES))
        if stale is not None:
            note += messages.STALE_REBASED.format(path=target.display, diff=stale)
        return messages.EDITED.format(path=target.display, snippet=snippet) + match.note + note

    def _find_match(self, command: StrReplace, target: Target, before: Snapshot) -> tuple[Match, str | None]:
        """Where `old_str` is in the file (exactly, or by a tolerant tier), or a ToolError that helps."""
        stale = self._stale_diff(target, before)
        text_file = before.text
        normalized = text_file.normalized
        old = command.old_str.replace("\r\n", "\n")
        new = (command.new_str or "").replace("\r\n", "\n")
        if not old and not normalized:  # an empty file: the empty old_str matches once, at its start
            if not new:
                raise ToolError(messages.OLD_EQUALS_NEW)
            return Match(0, 0, new), stale
        if not old:
            raise ToolError(messages.OLD_STR_EMPTY)
        if not old.strip():
            raise ToolError(messages.OLD_STR_BLANK)
        if old == new:
            raise ToolError(messages.OLD_EQUALS_NEW)
        found = occurrences(normalized, old)
        if len(found) > 1:
            raise ToolError(multiple_matches_error(normalized, old, found, command.old_str))
        match: Match | None = Match(found[0], found[0] + len(old), new) if found else None
        if match is None and not self.strict:
            match = find_tolerant(normalized, old, new)
        if match is None:
            hints = not_found_hints(normalized, old, new, has_crlf="\r\n" in text_file.text)
            if stale is not None:
                hints += messages.STALE_NOT_FOUND.format(path=target.display, diff=stale)
            raise ToolError(messages.NOT_FOUND.format(old_str=command.old_str, path=target.display) + hints)
        return match, stale

    def _escalation(self, target: Target, before: Snapshot, failures: int) -> str:
        """After repeated failures: the whole file when it is small, otherwise how to look and an outline."""
        normalized = before.text.normalized
        if count_lines(normalized) <= ESCALATE_MAX_LINES:
            body, _ = viewing.numbered(normalized, 1, 0, len(normalized), self.view_limit)
            return messages.ESCALATE_SMALL.format(count=failures, path=target.display, body=body)
        found = outline(normalized, target.real.suffix == ".py")
        return messages.ESCALATE_LARGE.format(
            count=failures, path=target.display, outline=messages.OUTLINE.format(outline=found) if found else ""
        )

    def insert(self, command: Insert) -> str:
        target, data, info = self._existing_file(command.path)
        before = self.workspace.decoded(target, data, info)
        stale = self._stale_diff(target, before)
        if stale is not None:
            raise ToolError(messages.STALE_INSERT.format(path=target.display, line=command.insert_line, diff=stale))
        text_file = before.text
        normalized = text_file.normalized
        total = count_lines(normalized)
        line = command.insert_line
        if line < 0 or line > total:
            message = messages.INSERT_LINE_RANGE.format(line=line, lines=total)
            raise ToolError(message + (messages.INSERT_LINE_APPEND.format(lines=total) if line > total else ""))
        text = (command.text or "").replace("\r\n", "\n")
        if text.endswith("\n"):
            text = text[:-1]  # the inserted block is whole lines: its own last newline is implied
        if line < total:
            position, piece = line_offset(normalized, line + 1), text + "\n"
        elif not normalized or normalized.endswith("\n"):
            position, piece = len(normalized), text + "\n"
        else:  # after an unterminated last line: keep the file without a final newline (unless the line is empty)
            position, piece = len(normalized), "\n" + text if text else "\n\n"
        offset = text_file.to_original_offset(position)
        pieces = replacing.splice(target, before, offset, offset, piece.replace("\n", text_file.eol))
        note = self.apply(Change("insert", target, before.data, pieces, before.stat))
        # The reference's snippet: up to 4 lines before the insertion, the new lines, 4 lines after.
        snippet_start = lines_back(normalized, position - 1, SNIPPET_LINES - 1) if position else 0
        chunk = (
            normalized[snippet_start:position]
            + piece
            + normalized[position : lines_forward(normalized, position, SNIPPET_LINES)]
        )
        snippet = number_lines(split_lines(chunk), max(1, line - SNIPPET_LINES + 1))
        return messages.INSERTED.format(path=target.display, snippet=snippet) + note

    def undo_edit(self, command: UndoEdit) -> str:
        target = self.workspace.resolve(command.path)
        entry = self.history.last(target.real)
        if entry is None:
            raise ToolError(messages.UNDO_NONE.format(path=target.display))
        current = self.workspace.current_bytes(target)
        if current is None or digest([current]) != entry.after_digest:
            raise ToolError(messages.UNDO_CONFLICT.format(path=target.display))
        previous = self.history.before(entry)
        if previous is None:
            self.apply(Change("undo_edit", target, current, None))
            return messages.UNDONE_CREATE.format(path=target.display)
        snapshot = self.workspace.read(target)
        if snapshot.data != current:
            raise ToolError(messages.UNDO_CONFLICT.format(path=target.display))
        self.apply(Change("undo_edit", target, current, [previous], snapshot.stat))
        normalized = TextFile.decode(previous).normalized
        body = viewing.numbered(normalized, 1, 0, len(normalized), self.view_limit)[0] if normalized else ""
        return messages.UNDONE.format(path=target.display, body=body)
