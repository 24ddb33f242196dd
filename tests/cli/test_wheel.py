"""The built wheel carries tools.yaml and works without the source tree."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_ships_tools_yaml_and_runs(tmp_path: Path):
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "editor_agent", source / "editor_agent", ignore=shutil.ignore_patterns("__pycache__"))
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next(tmp_path.glob("editor_agent-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert "editor_agent/tools.yaml" in names
        archive.extractall(tmp_path / "site")
        assert any(name.endswith("entry_points.txt") for name in names)
        entry_points = next(n for n in names if n.endswith("entry_points.txt"))
        assert "editor-agent = editor_agent.cli.main:main" in archive.read(entry_points).decode()
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    probe = subprocess.run(
        [sys.executable, "-c", "import editor_agent, sys; print(editor_agent.__file__)"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.startswith(str(tmp_path / "site"))
    done = subprocess.run(
        [sys.executable, "-m", "editor_agent", "tools", "resolve", "claude-sonnet-4-5"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["type"] == "text_editor_20250728"
