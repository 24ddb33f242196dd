"""Benchmark editor_agent's Editor against OpenHands' editor (openhands-aci) on large files.

Measures view (whole file), view_range (10 lines in the middle), str_replace (a unique middle
line) and insert (after a middle line) on generated files of 1k, 100k and 1M lines. Both editors
run in this process on separate copies of the same file, alternating order in each repetition;
edited files are restored (and synced to disk) outside the timed region before every call, and
the garbage collector is off while a call is timed. Reported: median ms per implementation, the
ratio OpenHands / ours, and peak traced memory (tracemalloc) of one call on the 1M-line file as a
multiple of the file size.

Both size caps are raised to fit the 1M-line file (about 34 MB): ours with
`Policy(max_file_bytes=...)`, OpenHands' 10 MB default with `OHEditor(max_file_size_mb=...)`.

openhands-aci needs Python >= 3.12. Set up and run from the repository root:

    python3.12 -m venv .venv-bench
    .venv-bench/bin/pip install -e . openhands-aci
    .venv-bench/bin/python benchmarks/editor_bench.py            # 1k, 100k, 1M lines
    .venv-bench/bin/python benchmarks/editor_bench.py --quick    # 1k, 100k lines, fewer repetitions
    .venv-bench/bin/python benchmarks/editor_bench.py --json     # results as JSON on stdout

Without openhands-aci the script measures ours alone and says so.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import math
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from editor_agent import Editor, Policy, Workspace, tool_by_type

try:
    from openhands_aci.editor.editor import OHEditor
    from openhands_aci.editor.exceptions import ToolError as OHToolError

    logging.getLogger().setLevel(logging.WARNING)  # openhands_aci sets the root logger to DEBUG on import
except ImportError:
    OHEditor = None

EDITS = ("str_replace", "insert")
FULL_PLAN = ((1_000, 7), (100_000, 7), (1_000_000, 5))
QUICK_PLAN = ((1_000, 3), (100_000, 3))
MEMORY_LINES = 1_000_000
CAP_BYTES = 64 * 1024 * 1024
TOOL = "text_editor_20250728"
_TEMPLATES = (
    "def handler_{n}(request, ctx):",
    "    value_{n} = f({n}, key='k')",
    "    items[{n}] = Node(ok=True)",
    "    if count_{n} > limit: return",
    "    # step {n}: validate it",
    "    total_{n} += weight * 3",
    "    log.debug('stage', {n})",
    "class Model{n}(BaseModel): pass",
)


class Refused(Exception):
    """An implementation declined the operation (an error result instead of doing it)."""


@dataclass
class Row:
    """One operation on one file size: medians in ms (None when refused or unavailable)."""

    lines: int
    file_bytes: int
    operation: str
    repetitions: int
    ours_ms: float | None = None
    openhands_ms: float | None = None
    ratio: float | None = None
    ours_runs_ms: list[float] = field(default_factory=list)
    openhands_runs_ms: list[float] = field(default_factory=list)
    openhands_refused: str | None = None


@dataclass
class Memory:
    """Peak traced bytes of one call on the 1M-line file, as a multiple of the file size."""

    operation: str
    ours_x: float | None
    openhands_x: float | None
    openhands_refused: str | None = None


def generate(lines: int) -> bytes:
    """Code-like ASCII lines of 25-40 bytes, each unique because it contains its number."""
    return "".join(_TEMPLATES[n % len(_TEMPLATES)].format(n=n) + "\n" for n in range(1, lines + 1)).encode()


def middle_line(data: bytes, number: int) -> str:
    return data.split(b"\n", number)[number - 1].decode()


class Impl:
    """One editor bound to its own copy of the file; `call` raises Refused on an error result."""

    def __init__(self, name: str, call: Callable[[str, dict[str, Any]], str], path: Path, original: bytes) -> None:
        self.name, self._call, self.path, self.original = name, call, path, original
        self.restore()

    def restore(self) -> None:
        self.path.write_bytes(self.original)

    def call(self, params: dict[str, Any]) -> str:
        return self._call(str(self.path), params)


def ours_caller(root: Path) -> Callable[[str, dict[str, Any]], str]:
    editor = Editor(Workspace(root, policy=Policy(max_file_bytes=CAP_BYTES)), tool_by_type(TOOL), max_characters=None)

    def call(path: str, params: dict[str, Any]) -> str:
        result = editor.run({**params, "path": "/repo/" + Path(path).name})
        if result.is_error:
            raise Refused(result.content.splitlines()[0])
        return result.content

    return call


def openhands_caller(editor: Any) -> Callable[[str, dict[str, Any]], str]:
    def call(path: str, params: dict[str, Any]) -> str:
        params = dict(params)
        if "insert_text" in params:
            params["new_str"] = params.pop("insert_text")
        try:
            result = editor(path=path, **params)
        except OHToolError as exc:
            raise Refused(exc.message.splitlines()[0]) from None
        if result.error:
            raise Refused(result.error.splitlines()[0])
        return result.output or ""

    return call


def drop_history(oh_editor: Any) -> None:
    """Remove an OHEditor's undo history, a temporary directory it never removes itself."""
    shutil.rmtree(oh_editor._history_manager.cache.directory, ignore_errors=True)


def inputs(data: bytes, lines: int) -> dict[str, dict[str, Any]]:
    mid = lines // 2
    target = middle_line(data, mid)
    assert data.count(target.encode()) == 1, "generated line is not unique"
    return {
        "view": {"command": "view"},
        "view_range": {"command": "view", "view_range": [mid, mid + 9]},
        "str_replace": {"command": "str_replace", "old_str": target, "new_str": target + "  # edited"},
        "insert": {"command": "insert", "insert_line": mid, "insert_text": "    inserted = True  # benchmark"},
    }


def timed(impl: Impl, operation: str, params: dict[str, Any]) -> float:
    """Milliseconds for one call, starting from the original file with the disk and heap settled."""
    if operation in EDITS:
        impl.restore()
        os.sync()
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter_ns()
        impl.call(params)
        return (time.perf_counter_ns() - start) / 1e6
    finally:
        gc.enable()


def peak_multiple(impl: Impl, params: dict[str, Any]) -> float:
    impl.restore()
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        impl.call(params)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak / len(impl.original)


def measure(
    lines: int, repetitions: int, work: Path, with_memory: bool, notes: list[str]
) -> tuple[list[Row], list[Memory]]:
    data = generate(lines)
    name = f"bench_{lines}.py"
    impls: list[Impl] = []
    for label in ("ours", "openhands"):
        (work / label).mkdir(exist_ok=True)
    impls.append(Impl("ours", ours_caller(work / "ours"), work / "ours" / name, data))
    if OHEditor is not None:
        oh_editor = OHEditor(max_file_size_mb=math.ceil(CAP_BYTES / 1024 / 1024))
        impls.append(Impl("openhands", openhands_caller(oh_editor), work / "openhands" / name, data))
    rows, memory = [], []
    for operation, params in inputs(data, lines).items():
        row = Row(lines, len(data), operation, repetitions)
        refused: dict[str, str] = {}
        for impl in impls:  # warm-up, untimed; also checks both editors produce the same file
            try:
                timed(impl, operation, params)
            except Refused as exc:
                refused[impl.name] = str(exc)
        if "ours" in refused:
            raise SystemExit(f"ours refused {operation} on {lines} lines: {refused['ours']}")
        if len(impls) == 2 and operation in EDITS and "openhands" not in refused:
            if impls[0].path.read_bytes() != impls[1].path.read_bytes():
                notes.append(f"{operation} on {lines} lines: the two editors wrote different files")
        live = [impl for impl in impls if impl.name not in refused]
        runs: dict[str, list[float]] = {impl.name: [] for impl in live}
        for rep in range(repetitions):
            for impl in live if rep % 2 == 0 else live[::-1]:
                runs[impl.name].append(timed(impl, operation, params))
        row.ours_runs_ms = [round(ms, 3) for ms in runs["ours"]]
        row.ours_ms = round(statistics.median(runs["ours"]), 3)
        if "openhands" in runs:
            row.openhands_runs_ms = [round(ms, 3) for ms in runs["openhands"]]
            row.openhands_ms = round(statistics.median(runs["openhands"]), 3)
            row.ratio = round(row.openhands_ms / row.ours_ms, 3)
        row.openhands_refused = refused.get("openhands")
        rows.append(row)
        if with_memory:
            multiples = {impl.name: peak_multiple(impl, params) for impl in live}
            oh_x = multiples.get("openhands")
            memory.append(
                Memory(operation, round(multiples["ours"], 3), oh_x and round(oh_x, 3), refused.get("openhands"))
            )
        for impl in impls:
            impl.restore()
    if OHEditor is not None:
        drop_history(oh_editor)
    return rows, memory


def cap_notes(work: Path, lines: int) -> list[str]:
    """What each editor says about the largest file under its default size cap."""
    path = work / "ours" / f"bench_{lines}.py"
    said = [f"our size cap raised to {CAP_BYTES // 2**20} MiB: Policy(max_file_bytes={CAP_BYTES})"]
    if OHEditor is not None:
        said[0] += f"; OpenHands' likewise: OHEditor(max_file_size_mb={CAP_BYTES // 2**20})"
    if not path.exists() or path.stat().st_size <= 10 * 2**20:
        return said
    size = f"{path.stat().st_size / 1e6:.1f} MB"
    ours = Editor(Workspace(work / "ours"), tool_by_type(TOOL)).run({"command": "view", "path": f"/repo/{path.name}"})
    said.append(f"ours at its default 10 MiB cap on the {size} file: {ours.content.splitlines()[0]}")
    if OHEditor is not None:
        oh = OHEditor()
        try:
            oh(command="view", path=str(path), view_range=[1, 1])
            said.append(f"OpenHands at its default cap accepts the {size} file")
        except OHToolError as exc:
            said.append(f"OpenHands at its default 10 MB cap on the {size} file: {exc.message}")
        drop_history(oh)
    return said


def summaries(rows: list[Row]) -> list[str]:
    out = []
    big = [r for r in rows if r.lines >= 100_000]
    compared = [r for r in big if r.ratio is not None]
    if OHEditor is None:
        out.append("100k+ lines: OpenHands not available, no comparison")
    elif compared:
        worst = min(compared, key=lambda r: r.ratio or 0.0)
        skipped = [f"{r.operation}@{r.lines}" for r in big if r.ratio is None]
        ratio = worst.ratio or 0.0
        where = f"{worst.operation} on {worst.lines:,} lines"
        verdict = (
            f"ours faster by at least {ratio:.1f}× on every operation (lowest: {where})"
            if ratio > 1
            else f"ours NOT faster on every operation (OpenHands/ours = {ratio:.2f}× on {where})"
        )
        out.append(f"100k+ lines: {verdict}" + (f"; OpenHands refused {', '.join(skipped)}" if skipped else ""))
    million = [r for r in rows if r.lines == 1_000_000 and r.operation == "view_range"]
    if million and million[0].ours_ms is not None:
        out.append(f"view_range of 10 lines from the 1M-line file: median {million[0].ours_ms:.2f} ms")
    else:
        out.append("view_range of 10 lines from the 1M-line file: not measured (--quick)")
    return out


def fmt(value: float | None, spec: str, missing: str = "-") -> str:
    return missing if value is None else format(value, spec)


def print_report(report: dict[str, Any], rows: list[Row], memory: list[Memory]) -> None:
    print(f"editor_agent vs {report['openhands']}")
    print(f"Python {report['python']} on {report['machine']}; files in {report['workdir']}")
    print()
    print(f"{'lines':>9} {'MB':>6}  {'operation':<11} {'reps':>4} {'ours ms':>10} {'OpenHands ms':>13} {'OH/ours':>8}")
    for r in rows:
        oh = "refused" if r.openhands_refused else fmt(r.openhands_ms, ".2f")
        ratio = fmt(r.ratio, ".1f") + ("×" if r.ratio is not None else "")
        print(
            f"{r.lines:>9,} {r.file_bytes / 1e6:>6.1f}  {r.operation:<11} {r.repetitions:>4} "
            f"{fmt(r.ours_ms, '.2f'):>10} {oh:>13} {ratio:>8}"
        )
    if memory:
        print()
        print("peak traced memory of one call on the 1M-line file, × file size")
        print(f"{'operation':<11} {'ours':>7} {'OpenHands':>10}")
        for m in memory:
            oh = "refused" if m.openhands_refused else fmt(m.openhands_x, ".2f")
            print(f"{m.operation:<11} {fmt(m.ours_x, '.2f'):>7} {oh:>10}")
    refusals = [r for r in rows if r.openhands_refused]
    if report["notes"] or refusals:
        print()
        for r in refusals:
            print(f"note: OpenHands refused {r.operation} on {r.lines:,} lines: {r.openhands_refused}")
        for note in report["notes"]:
            print(f"note: {note}")
    print()
    for line in report["summary"]:
        print(line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the 1k and 100k files, 3 repetitions")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    plan = QUICK_PLAN if args.quick else FULL_PLAN
    oh_version = f"openhands-aci {metadata.version('openhands-aci')}" if OHEditor is not None else None
    notes: list[str] = [] if oh_version else ["openhands-aci is not importable: OpenHands was not available"]
    rows: list[Row] = []
    memory: list[Memory] = []
    work = Path(tempfile.mkdtemp(prefix="editor-bench-"))
    try:
        for lines, repetitions in plan:
            print(f"measuring {lines:,} lines ...", file=sys.stderr, flush=True)
            more_rows, more_memory = measure(lines, repetitions, work, lines == MEMORY_LINES, notes)
            rows += more_rows
            memory += more_memory
        notes += cap_notes(work, plan[-1][0])
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if OHEditor is not None:
            import openhands_aci.editor

            drop_history(openhands_aci.editor._GLOBAL_EDITOR)  # created on import
    report: dict[str, Any] = {
        "openhands": oh_version or "OpenHands (not available)",
        "python": platform.python_version(),
        "machine": f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPUs",
        "workdir": tempfile.gettempdir(),
        "notes": notes,
    }
    report["summary"] = summaries(rows)
    if args.json:
        report["rows"] = [asdict(r) for r in rows]
        report["memory"] = [asdict(m) for m in memory]
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print_report(report, rows, memory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
