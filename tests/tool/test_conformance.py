"""Conformance against real `str_replace_editor` traffic of claude-3-7-sonnet-20250219.

The data lives outside the project, in `../shared/conformance/swe-smith-claude-3-7/` (see its
README); without it these tests skip, unless EDITOR_AGENT_REQUIRE_SHARED is set (CI), then they fail.
One recorded run on `pydantic/alias_generators.py` is replayed through the real `editor-agent exec`
command (its `main`, one session), and every result is compared with the recorded observation:

- `view` and `create`: identical text after normalization (the reference numbers one phantom
  empty line at the end of a file ending in a newline; that line is dropped from the recording).
- `str_replace`: success, the same header and footer lines, our snippet window is the reference
  window `max(1, r-3) .. r+5+n` (clipped to the file), and every line both windows show is
  identical; the shown lines are also the lines of the file as it must be after the edit.
- The files left in the workspace are byte for byte the files of the recorded `git diff`
  (applied to the start file) and have the git blob ids that diff names.

The recorded inputs of two other runs are used for their argument shapes only: every one must be
accepted by the input validator.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from editor_agent import tool_by_type
from editor_agent.tool.inputs import InputError, parse_command

from ..conftest import RunCli, shared_data

REPLAY_ID = "pydantic__pydantic.acb0f10f.pr_8316"
SHAPE_IDS = ["pandas-dev__pandas.95280573.pr_53856", "pandas-dev__pandas.95280573.pr_53652"]

MOUNT = "/testbed"
MODEL = "claude-3-7-sonnet-20250219"
START_FILE = "pydantic/alias_generators.py"

NUMBERED = re.compile(r"^ *(\d+)\t(.*)$", re.DOTALL)
PHANTOM = re.compile(r"^\s*\d+$")
CAT_N_PREFIX = re.compile(r"^\s*\d+\t")


# --- reading the recordings -----------------------------------------------------------


def load_calls(session_id: str) -> list[dict[str, Any]]:
    """The recorded calls of one run (skipped without ../shared, unless CI requires it)."""
    path = shared_data("conformance", "swe-smith-claude-3-7", "editor_calls", f"{session_id}.jsonl")
    calls = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not calls:
        pytest.fail(f"conformance data empty: {path}")
    return calls


def editor_calls(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [call for call in calls if call["tool"] == "str_replace_editor"]


def normalize(text: str) -> str:
    """The comparison form of a terminal observation (applied to both sides)."""
    if text.startswith("OBSERVATION:\n"):
        text = text[len("OBSERVATION:\n") :]
    return text.replace("\r\n", "\n").rstrip()


def drop_phantom_line(text: str) -> str:
    """Drop the reference's final numbered empty line (shown for a file ending in a newline)."""
    lines = text.split("\n")
    if len(lines) > 1 and PHANTOM.match(lines[-1]):
        return "\n".join(lines[:-1]).rstrip()
    return text


def start_text_from_view(observation: str) -> str:
    """The starting file, rebuilt from the recorded `cat -n` view of the whole file."""
    lines = normalize(observation).split("\n")
    assert lines[0].startswith("Here's the result of running `cat -n` on "), lines[0]
    body = lines[1:]
    assert body and PHANTOM.match(body[-1]), "the recorded start view should end with the phantom line"
    body = body[:-1]
    for number, line in enumerate(body, 1):
        match = NUMBERED.match(line)
        assert match and int(match.group(1)) == number, f"unexpected start view line {number}: {line!r}"
    return "\n".join(CAT_N_PREFIX.sub("", line, count=1) for line in body) + "\n"


def line_count(text: str) -> int:
    if not text:
        return 0
    return text.count("\n") + (0 if text.endswith("\n") else 1)


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def text_diff(expected: str, actual: str, expected_name: str, actual_name: str) -> str:
    return "\n".join(
        difflib.unified_diff(expected.split("\n"), actual.split("\n"), expected_name, actual_name, lineterm="", n=2)
    )


# --- a small, strict unified-diff applier -------------------------------------------------


@dataclass
class Hunk:
    old_start: int
    old_len: int
    lines: list[tuple[str, str]] = field(default_factory=list)  # (tag, text with its newline)


@dataclass
class FilePatch:
    path: str
    old_blob: str
    new_blob: str
    is_new: bool
    hunks: list[Hunk]


HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def parse_git_diff(text: str) -> dict[str, FilePatch]:
    """Parse the `git diff` output contained in `text` (anything around it is ignored)."""
    lines = text.replace("\r\n", "\n").split("\n")
    patches: dict[str, FilePatch] = {}
    i = 0
    while i < len(lines):
        if not lines[i].startswith("diff --git "):
            i += 1
            continue
        i += 1
        old_blob = new_blob = ""
        is_new = False
        old_name = new_name = None
        while i < len(lines) and not lines[i].startswith("@@") and not lines[i].startswith("diff --git "):
            line = lines[i]
            if line.startswith("index "):
                old_blob, new_blob = line.split()[1].split("..")
            elif line.startswith("new file mode"):
                is_new = True
            elif line.startswith("--- "):
                old_name = line[4:]
            elif line.startswith("+++ "):
                new_name = line[4:]
            i += 1
        assert old_name is not None and new_name is not None, "diff without ---/+++ lines"
        name = new_name if new_name != "/dev/null" else old_name
        path = name[2:] if name.startswith(("a/", "b/")) else name
        hunks: list[Hunk] = []
        while i < len(lines) and lines[i].startswith("@@"):
            header = HUNK_HEADER.match(lines[i])
            assert header, f"bad hunk header {lines[i]!r}"
            old_start, old_len = int(header.group(1)), int(header.group(2) or 1)
            new_len = int(header.group(4) or 1)
            hunk = Hunk(old_start, old_len)
            i += 1
            old_seen = new_seen = 0
            while old_seen < old_len or new_seen < new_len:
                assert i < len(lines), "diff ends inside a hunk"
                line = lines[i]
                tag, body = line[:1], line[1:]
                assert tag in (" ", "-", "+"), f"bad hunk line {line!r}"
                hunk.lines.append((tag, body + "\n"))
                old_seen += tag in " -"
                new_seen += tag in " +"
                i += 1
                if i < len(lines) and lines[i].startswith("\\ No newline at end of file"):
                    hunk.lines[-1] = (tag, body)
                    i += 1
            hunks.append(hunk)
        patches[path] = FilePatch(path, old_blob, new_blob, is_new, hunks)
    return patches


def apply_patch(old_text: str, patch: FilePatch) -> str:
    """Apply `patch` to `old_text`; every context and removed line must match exactly."""
    old_lines = old_text.splitlines(keepends=True)
    out: list[str] = []
    position = 0
    for hunk in patch.hunks:
        start = hunk.old_start - 1 if hunk.old_len else hunk.old_start
        assert start >= position, f"{patch.path}: overlapping hunks"
        out.extend(old_lines[position:start])
        position = start
        for tag, text in hunk.lines:
            if tag in " -":
                assert position < len(old_lines), f"{patch.path}: hunk runs past the end of the file"
                assert old_lines[position] == text, (
                    f"{patch.path}: line {position + 1} is {old_lines[position]!r}, the diff expects {text!r}"
                )
                position += 1
            if tag in " +":
                out.append(text)
    out.extend(old_lines[position:])
    return "".join(out)


# --- the replay ------------------------------------------------------------------------------


@dataclass
class Replay:
    calls: list[dict[str, Any]]  # every recorded call, in order
    edits: list[dict[str, Any]]  # the recorded str_replace_editor calls, in order
    results: list[dict[str, Any]]  # our result for each of `edits`
    workspace: Path
    start_text: str


_REPLAYS: list[Replay] = []


def get_replay(tmp_path_factory: pytest.TempPathFactory, run_cli: RunCli) -> Replay:
    """Replay the recorded run once per pytest process (inside a test, so any problem fails that test)."""
    if not _REPLAYS:
        _REPLAYS.append(run_replay(tmp_path_factory, run_cli))
    return _REPLAYS[0]


def run_replay(tmp_path_factory: pytest.TempPathFactory, run_cli: RunCli) -> Replay:
    calls = load_calls(REPLAY_ID)
    edits = editor_calls(calls)
    assert len(edits) == 9, f"expected the 9 editor calls of {REPLAY_ID}, found {len(edits)}"
    first = edits[0]
    assert first["input"] == {"command": "view", "path": f"{MOUNT}/{START_FILE}"}, first["input"]
    start_text = start_text_from_view(first["observation"])

    workspace = tmp_path_factory.mktemp("replay")
    (workspace / START_FILE).parent.mkdir(parents=True)
    (workspace / START_FILE).write_bytes(start_text.encode("utf-8"))

    stdin = "".join(json.dumps(call["input"], ensure_ascii=False) + "\n" for call in edits)
    process = run_cli("exec", "--workspace", str(workspace), "--mount", MOUNT, "--model", MODEL, stdin=stdin)
    stderr = process.stderr
    assert process.returncode == 0, f"editor-agent exec exited {process.returncode}: {stderr}"
    out_lines = [line for line in process.stdout.split("\n") if line.strip()]
    assert len(out_lines) == len(edits), f"{len(edits)} inputs but {len(out_lines)} result lines; stderr: {stderr}"
    results = [json.loads(line) for line in out_lines]
    for result in results:
        assert set(result) == {"content", "is_error"}, result
    return Replay(calls, edits, results, workspace, start_text)


def expected_files(replay: Replay) -> list[dict[str, str]]:
    """The file contents before and after each editor call, modelled from the inputs alone."""
    files = {f"{MOUNT}/{START_FILE}": replay.start_text}
    states = []
    for call in replay.edits:
        spec = call["input"]
        path = spec["path"]
        if spec["command"] == "create":
            files[path] = spec["file_text"]
        elif spec["command"] == "str_replace":
            before = files[path]
            assert before.count(spec["old_str"]) == 1, f"seq {call['seq']}: old_str should occur once in the model"
            files[path] = before.replace(spec["old_str"], spec.get("new_str") or "")
        states.append(dict(files))
    return states


def test_replay_view_and_create_match_reference(tmp_path_factory: pytest.TempPathFactory, run_cli: RunCli) -> None:
    replay = get_replay(tmp_path_factory, run_cli)
    problems = []
    checked = 0
    for call, result in zip(replay.edits, replay.results, strict=True):
        command = call["input"]["command"]
        if command not in ("view", "create"):
            continue
        checked += 1
        recorded = normalize(call["observation"])
        if command == "view":
            recorded = drop_phantom_line(recorded)
        ours = normalize(result["content"])
        if result["is_error"]:
            problems.append(f"seq {call['seq']} ({command}): is_error is true: {result['content']!r}")
        if ours != recorded:
            problems.append(
                f"seq {call['seq']} ({command}) differs from the recording:\n"
                + text_diff(recorded, ours, "recorded", "editor-agent")
            )
    assert checked == 3, f"expected 1 view and 2 create calls, checked {checked}"
    assert not problems, "\n\n".join(problems)


def split_snippet(text: str) -> tuple[str, dict[int, str], str]:
    """Header line, numbered lines by number, footer line of a str_replace result."""
    lines = text.split("\n")
    assert len(lines) >= 3, f"not a snippet result: {text!r}"
    numbered: dict[int, str] = {}
    for line in lines[1:-1]:
        match = NUMBERED.match(line)
        assert match, f"not a numbered snippet line: {line!r}"
        numbered[int(match.group(1))] = line
    numbers = sorted(numbered)
    assert numbers == list(range(numbers[0], numbers[-1] + 1)), f"snippet lines not consecutive: {numbers}"
    return lines[0], numbered, lines[-1]


def test_replay_str_replace_results_match_reference(tmp_path_factory: pytest.TempPathFactory, run_cli: RunCli) -> None:
    replay = get_replay(tmp_path_factory, run_cli)
    states = expected_files(replay)
    problems = []
    checked = 0
    previous: dict[str, str] = {f"{MOUNT}/{START_FILE}": replay.start_text}
    for call, result, after_files in zip(replay.edits, replay.results, states, strict=True):
        spec = call["input"]
        before_files, previous = previous, after_files
        if spec["command"] != "str_replace":
            continue
        checked += 1
        seq = call["seq"]
        recorded = normalize(call["observation"])
        recorded_ok = recorded.startswith(f"The file {spec['path']} has been edited.")
        assert recorded_ok, f"seq {seq}: the recording is expected to show a successful edit"
        if result["is_error"]:
            problems.append(f"seq {seq}: the recording succeeded but ours is an error: {result['content']!r}")
            continue
        ours = normalize(result["content"])

        before = before_files[spec["path"]]
        after = after_files[spec["path"]]
        r = before[: before.index(spec["old_str"])].count("\n")
        n = (spec.get("new_str") or "").count("\n")
        total = line_count(after)
        reference_window = list(range(max(1, r - 3), min(r + 5 + n, total) + 1))
        recorded_window = list(range(max(1, r - 4), min(r + 4 + n, total) + 1))
        common_window = [number for number in reference_window if number in recorded_window]

        rec_header, rec_lines, rec_footer = split_snippet(recorded)
        our_header, our_lines, our_footer = split_snippet(ours)
        assert sorted(rec_lines) == recorded_window, f"seq {seq}: the recording's window is not the expected one"
        if our_header != rec_header:
            problems.append(f"seq {seq}: header differs:\n recorded: {rec_header!r}\n ours:     {our_header!r}")
        if our_footer != rec_footer:
            problems.append(f"seq {seq}: footer differs:\n recorded: {rec_footer!r}\n ours:     {our_footer!r}")
        if sorted(our_lines) != reference_window:
            problems.append(
                f"seq {seq}: our snippet shows lines {min(our_lines)}..{max(our_lines)}, "
                f"the reference window is {reference_window[0]}..{reference_window[-1]}"
            )
        for number in common_window:
            if our_lines.get(number) != rec_lines[number]:
                problems.append(
                    f"seq {seq}: snippet line {number} differs:\n"
                    f" recorded: {rec_lines[number]!r}\n ours:     {our_lines.get(number)!r}"
                )
        after_lines = after.split("\n")
        for number, line in our_lines.items():
            expected = f"{number:6}\t{after_lines[number - 1]}" if number <= total else None
            if line != expected:
                problems.append(f"seq {seq}: snippet line {number} is {line!r}, the edited file has {expected!r}")
    assert checked == 6, f"expected 6 str_replace calls, checked {checked}"
    assert not problems, "\n\n".join(problems)


def submitted_patches(replay: Replay) -> dict[str, FilePatch]:
    """For each file, its patch from the last `submit` observation whose diff names it."""
    patches: dict[str, FilePatch] = {}
    submits = [call for call in replay.calls if call["tool"] == "submit"]
    assert submits, "the recording has no submit call"
    for call in submits:
        patches.update(parse_git_diff(call["observation"]))
    last = parse_git_diff(submits[-1]["observation"])
    assert list(last) == [START_FILE], f"the final submit diff should name only {START_FILE}, names {list(last)}"
    return patches


def test_replay_final_files_match_submitted_diff(tmp_path_factory: pytest.TempPathFactory, run_cli: RunCli) -> None:
    replay = get_replay(tmp_path_factory, run_cli)
    patches = submitted_patches(replay)

    patch = patches[START_FILE]
    start_blob = git_blob_id(replay.start_text.encode("utf-8"))
    assert start_blob.startswith(patch.old_blob), (
        f"the start file rebuilt from the first view has blob {start_blob}, the diff starts from {patch.old_blob}"
    )
    expected = apply_patch(replay.start_text, patch).encode("utf-8")
    expected_blob = git_blob_id(expected)
    assert expected_blob.startswith(patch.new_blob), (
        f"applying the diff gave blob {expected_blob}, the diff names {patch.new_blob}"
    )
    ours = (replay.workspace / START_FILE).read_bytes()
    assert ours == expected, f"{START_FILE} differs from the submitted diff:\n" + text_diff(
        expected.decode("utf-8"), ours.decode("utf-8", "replace"), "expected", "editor-agent"
    )

    # The scratch script, created and edited by the run, is in the earlier submit's diff as a new file.
    scratch = patches["reproduce_error.py"]
    assert scratch.is_new
    expected = apply_patch("", scratch).encode("utf-8")
    assert git_blob_id(expected).startswith(scratch.new_blob)
    ours = (replay.workspace / "reproduce_error.py").read_bytes()
    assert ours == expected, "reproduce_error.py differs from the submitted diff:\n" + text_diff(
        expected.decode("utf-8"), ours.decode("utf-8", "replace"), "expected", "editor-agent"
    )

    # The other scratch file is in no diff (it was removed before submitting); model it from the inputs.
    final = expected_files(replay)[-1]
    ours = (replay.workspace / "test_edge_cases.py").read_bytes()
    assert ours == final[f"{MOUNT}/test_edge_cases.py"].encode("utf-8")
    assert final[f"{MOUNT}/{START_FILE}"].encode("utf-8") == (replay.workspace / START_FILE).read_bytes()

    assert sorted(
        str(path.relative_to(replay.workspace)) for path in replay.workspace.rglob("*") if path.is_file()
    ) == sorted([START_FILE, "reproduce_error.py", "test_edge_cases.py"])


@pytest.mark.parametrize("session_id", SHAPE_IDS)
def test_recorded_inputs_pass_validation(session_id: str) -> None:
    tool = tool_by_type("text_editor_20250124")
    inputs = [call["input"] for call in editor_calls(load_calls(session_id))]
    assert inputs, f"{session_id} has no str_replace_editor calls"
    problems = []
    for number, raw in enumerate(inputs, 1):
        try:
            parsed = parse_command(raw, tool)
        except InputError as exc:
            problems.append(f"call {number} {json.dumps(raw)[:200]}: {exc}")
            continue
        dumped = parsed.model_dump(exclude_none=True)
        if dumped != raw:
            problems.append(f"call {number}: parsed as {dumped!r}, sent {raw!r}")
    assert not problems, "\n".join(problems)


def test_missing_shared_data_skips_here_and_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EDITOR_AGENT_REQUIRE_SHARED", raising=False)
    with pytest.raises(pytest.skip.Exception, match="does not exist"):
        shared_data("no-such-recording")
    monkeypatch.setenv("EDITOR_AGENT_REQUIRE_SHARED", "1")
    with pytest.raises(pytest.fail.Exception, match="EDITOR_AGENT_REQUIRE_SHARED is set"):
        shared_data("no-such-recording")
