"""Image files: `view` shows PNG, JPEG, GIF and WebP to the model as image blocks, within the API's limits."""

from __future__ import annotations

import base64
import json
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from editor_agent import Editor
from editor_agent.agent.settings import RunSettings
from editor_agent.workspace.images import MAX_BYTES, identify
from editor_agent.workspace.policy import Policy

from ..conftest import KEY, RunCli, run_session, text, use


def png(width: int, height: int, padding: int = 0) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    pixels = zlib.compress(b"".join(b"\0" + b"\x80" * width for _ in range(min(height, 4))))
    extra = chunk(b"tEXt", b"pad\0" + b"x" * padding) if padding else b""
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + extra + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def jpeg(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"
    exif = b"\xff\xe1" + struct.pack(">H", 2 + 300) + b"E" * 300  # a segment to walk past
    sof = b"\xff\xc2" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + exif + b"\xff\xff" + sof + b"\xff\xd9"


GIF = b"GIF89a" + struct.pack("<HH", 320, 200) + b"\x00\x00\x00;"
WEBP_VP8X = b"RIFF\x00\x00\x00\x00WEBPVP8X" + b"\x0a\x00\x00\x00" + b"\x00" * 4 + (639).to_bytes(3, "little") * 2
WEBP_VP8 = b"RIFF\x00\x00\x00\x00WEBPVP8 \x00\x00\x00\x00" + b"\x00\x00\x00\x9d\x01\x2a" + struct.pack("<HH", 64, 48)
WEBP_VP8L = b"RIFF\x00\x00\x00\x00WEBPVP8L\x00\x00\x00\x00\x2f" + ((99) | (49 << 14)).to_bytes(4, "little")


@pytest.mark.parametrize(
    ("data", "kind", "size"),
    [(png(640, 480), "PNG", (640, 480)), (jpeg(1024, 768), "JPEG", (1024, 768)), (GIF, "GIF", (320, 200)),
     (WEBP_VP8X, "WebP", (640, 640)), (WEBP_VP8, "WebP", (64, 48)), (WEBP_VP8L, "WebP", (100, 50))],
)  # fmt: skip
def test_kinds_and_sizes_from_the_header(data: bytes, kind: str, size: tuple[int, int]):
    info = identify(data)
    assert info is not None and (info.kind, (info.width, info.height)) == (kind, size)


@pytest.mark.parametrize("data", [b"", b"\x89PNG\r\n", b"GIF8", b"\xff\xd8\xff\xe0\x00", b"RIFF....WEBPVP9 ", b"text"])
def test_not_an_image_or_cut_short(data: bytes):
    assert identify(data) is None


def test_view_shows_the_image(root: Path, make_editor: Callable[..., Editor], snapshot):
    data = png(640, 480)
    (root / "docs").mkdir()
    (root / "docs" / "layout.png").write_bytes(data)
    result = make_editor().run({"command": "view", "path": "/repo/docs/layout.png"})
    assert not result.is_error and isinstance(result.content, list)
    first, image = result.content
    assert image["type"] == "image" and image["source"]["media_type"] == "image/png"
    assert base64.b64decode(image["source"]["data"]) == data
    snapshot.snapshot_dir = Path(__file__).parent / "snapshots" / "images"
    snapshot.assert_match(first["text"], "view.txt")


def test_what_cannot_be_shown(root: Path, make_editor: Callable[..., Editor]):
    (root / "wide.png").write_bytes(png(9000, 10))
    (root / "heavy.png").write_bytes(png(100, 100, padding=MAX_BYTES))
    (root / "pic.gif").write_bytes(GIF)
    editor = make_editor()
    wide = editor.run({"command": "view", "path": "/repo/wide.png"})
    assert wide.is_error and "9000x10 pixels" in wide.content and "up to 8000 pixels a side" in wide.content
    heavy = editor.run({"command": "view", "path": "/repo/heavy.png"})
    assert heavy.is_error and "too large to show" in heavy.content
    ranged = editor.run({"command": "view", "path": "/repo/pic.gif", "view_range": [1, 2]})
    edit = editor.run({"command": "str_replace", "path": "/repo/pic.gif", "old_str": "GIF", "new_str": "x"})
    assert ranged.is_error and edit.is_error and "not a text file" in edit.content
    assert (root / "pic.gif").read_bytes() == GIF


def test_a_text_file_with_an_image_name_and_images_turned_off(root: Path, make_editor: Callable[..., Editor]):
    (root / "notes.png").write_text("not really an image\n")
    (root / "pic.gif").write_bytes(GIF)
    shown = make_editor().run({"command": "view", "path": "/repo/notes.png"})
    assert shown.content == "Here's the result of running `cat -n` on /repo/notes.png:\n     1\tnot really an image\n"
    refused = make_editor(policy=Policy(images=False)).run({"command": "view", "path": "/repo/pic.gif"})
    assert refused.is_error and "not a text file" in refused.content


def test_the_loop_sends_the_image_in_its_tool_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from editor_agent.testing import MessagesServer, Script

    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "shot.jpg").write_bytes(jpeg(800, 600))
    turns = [{"content": [use("view", path="/repo/shot.jpg")]}, {"content": [text("A screenshot.")]}]
    with MessagesServer(Script.model_validate({"turns": turns}), api_key=KEY) as server:
        result = run_session(server, repo, "What is in shot.jpg?")
        assert not server.violations
        answer = server.requests[1].body["messages"][-1]["content"][0]
    assert result.status == "completed"
    assert [block["type"] for block in answer["content"]] == ["text", "image"]
    assert answer["content"][1]["source"]["media_type"] == "image/jpeg"


def test_exec_prints_the_blocks_and_no_images_refuses(root: Path, run_cli: RunCli):
    (root / "pic.webp").write_bytes(WEBP_VP8L)
    line = json.dumps({"command": "view", "path": "/repo/pic.webp"}) + "\n"
    args = ["exec", "--workspace", str(root), "--model", "claude-sonnet-4-5"]
    shown = run_cli(*args, stdin=line)
    refused = run_cli(*args, "--no-images", stdin=line)
    assert json.loads(shown.stdout)["content"][1]["source"]["media_type"] == "image/webp"
    assert json.loads(refused.stdout)["is_error"] is True


@pytest.mark.parametrize(
    "data",
    [png(0, 0), png(10, 0), b"GIF89a\x00\x00\x05\x00\x00\x00\x00;", jpeg(0, 16), WEBP_VP8[:-4] + b"\x00\x00\x10\x00"],
)
def test_an_image_with_an_empty_side_is_not_one_to_show(data: bytes):
    assert identify(data) is None  # the API refuses it, and a refused image fails every later request


def test_the_file_size_limit_applies_to_images_too(root: Path, make_editor: Callable[..., Editor]):
    (root / "big.png").write_bytes(png(100, 100, padding=50_000))
    result = make_editor(policy=Policy(max_file_bytes=10_000)).run({"command": "view", "path": "/repo/big.png"})
    assert result.is_error and "too large to show" in result.content and "9.77 KiB" in result.content


def test_past_twenty_images_only_small_ones_are_shown(root: Path, make_editor: Callable[..., Editor]):
    editor = make_editor()
    for index in range(20):
        (root / f"wide{index}.png").write_bytes(png(2500, 4))
        assert not editor.run({"command": "view", "path": f"/repo/wide{index}.png"}).is_error
    (root / "small.png").write_bytes(png(100, 100))
    refused = editor.run({"command": "view", "path": "/repo/small.png"})
    assert refused.is_error and "at most 2000 pixels a side" in refused.content
    assert isinstance(make_editor().run({"command": "view", "path": "/repo/small.png"}).content, list)


def test_the_budget_of_a_conversation():
    from editor_agent.workspace.images import BUDGET_BASE64, MAX_IMAGES, ImageBudget, ImageInfo

    small = ImageInfo("PNG", "image/png", 100, 100)
    budget = ImageBudget()
    for _ in range(MAX_IMAGES):
        assert budget.refusal(small, 1000) is None
        budget.add(small, 1000)
    assert "100 images" in (budget.refusal(small, 1000) or "")
    heavy = ImageBudget()
    heavy.add(small, BUDGET_BASE64 // 4 * 3 - 3000)
    assert heavy.refusal(small, 1500) is None and "kept for images" in (heavy.refusal(small, 6000) or "")


def test_a_resumed_run_counts_the_images_already_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from editor_agent.testing import MessagesServer, Script

    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    repo = tmp_path / "repo"
    repo.mkdir()
    for index in range(21):
        (repo / f"wide{index}.png").write_bytes(png(2500, 4))
    views = [{"content": [use("view", path=f"/repo/wide{index}.png")]} for index in range(21)]
    turns = [*views[:20], {"fault": "drop"}, *views[20:], {"content": [text("ok")]}]
    with MessagesServer(Script.model_validate({"turns": turns}), api_key=KEY) as server:
        interrupted = run_session(server, repo, "look at them all", settings=RunSettings(stream_retries=0))
        assert interrupted.status == "error"
        resumed = run_session(server, repo, resume_from=Path(interrupted.transcript or ""))
        assert not server.violations
        last = server.requests[-1].body["messages"][-1]["content"][0]
    assert resumed.status == "completed" and last["is_error"] and "at most 2000 pixels" in last["content"]
