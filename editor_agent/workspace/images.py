"""Recognise the image files the Messages API takes (PNG, JPEG, GIF, WebP) and read their size.

`view` of such a file answers with an image block the model can look at, instead of refusing it
as binary. An image the API refuses fails the whole request, and every later one (the history is
sent again each turn), so the API's limits are checked before an image is shown: per image (8000
pixels a side, 5 MB of base64, no empty side) from the file's header, and per conversation (more
than 20 images only at up to 2000 pixels a side, at most 100, and a budget of base64 bytes well
under the 32 MB a request may hold) by `ImageBudget`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".gif", ".webp"})
MAX_SIDE = 8000
MAX_BASE64 = 5 * 1024 * 1024
MAX_BYTES = MAX_BASE64 // 4 * 3  # the largest file whose base64 fits
MANY = 20  # past this many images in a request, each must fit MANY_SIDE
MANY_SIDE = 2000
MAX_IMAGES = 100
BUDGET_BASE64 = 20 * 1024 * 1024  # of all images of a conversation together
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


@dataclass(frozen=True)
class ImageInfo:
    kind: str  # PNG, JPEG, GIF or WebP
    media_type: str
    width: int
    height: int

    @property
    def too_large(self) -> bool:
        return max(self.width, self.height) > MAX_SIDE


def identify(data: bytes) -> ImageInfo | None:
    """The kind and pixel size of an image from its first bytes, or None if it is not one we can show."""
    info = _identify(data)
    return info if info is not None and info.width > 0 and info.height > 0 else None


def _identify(data: bytes) -> ImageInfo | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR" and len(data) >= 24:
        return ImageInfo("PNG", "image/png", int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big"))
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return ImageInfo("GIF", "image/gif", int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little"))
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp(data)
    if data[:3] == b"\xff\xd8\xff":
        return _jpeg(data)
    return None


def _webp(data: bytes) -> ImageInfo | None:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        width, height = int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    elif chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        width, height = int.from_bytes(data[26:28], "little") & 0x3FFF, int.from_bytes(data[28:30], "little") & 0x3FFF
    elif chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    else:
        return None
    return ImageInfo("WebP", "image/webp", width, height)


def _jpeg(data: bytes) -> ImageInfo | None:
    """Walk the segments to the frame header, which holds the size."""
    at = 2
    while at + 9 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers without a length
            at += 2
            continue
        if marker in _SOF:
            height, width = int.from_bytes(data[at + 5 : at + 7], "big"), int.from_bytes(data[at + 7 : at + 9], "big")
            return ImageInfo("JPEG", "image/jpeg", width, height)
        at += 2 + int.from_bytes(data[at + 2 : at + 4], "big")
    return None


def size_text(size: int) -> str:
    """A byte count for a person, precise enough not to round past a limit (3.75 MiB, not 3.8)."""
    if size < 1024 * 1024:
        return f"{size:,} bytes" if size < 1024 else f"{size / 1024:.2f} KiB"
    return f"{size / (1024 * 1024):.2f} MiB"


class ImageBudget:
    """The images a conversation has been shown so far, against the API's limits for one request."""

    def __init__(self) -> None:
        self.count = 0
        self.largest_side = 0
        self.base64_bytes = 0

    def refusal(self, info: ImageInfo, size: int) -> str | None:
        """Why showing one more image would make the request one the API refuses, or None."""
        encoded = (size + 2) // 3 * 4
        if self.count >= MAX_IMAGES:
            return f"this conversation has already shown {self.count} images, the most one request may hold"
        if self.count >= MANY and max(self.largest_side, info.width, info.height) > MANY_SIDE:
            return (
                f"this conversation has already shown {self.count} images; past {MANY}, every image in a "
                f"request must be at most {MANY_SIDE} pixels a side"
            )
        if self.base64_bytes + encoded > BUDGET_BASE64:
            return (
                f"the images this conversation has shown already take {size_text(self.base64_bytes)} of the "
                f"{size_text(BUDGET_BASE64)} kept for images in a request"
            )
        return None

    def add(self, info: ImageInfo, size: int) -> None:
        self.count += 1
        self.largest_side = max(self.largest_side, info.width, info.height)
        self.base64_bytes += (size + 2) // 3 * 4

    def add_block(self, block: dict[str, Any]) -> None:
        """Count an image block already in the conversation (a resumed run's history)."""
        source = block.get("source") or {}
        try:
            data = base64.b64decode(source.get("data", ""), validate=True)
        except ValueError:
            return
        info = identify(data)
        if info is not None:
            self.add(info, len(data))


def image_block(data: bytes, info: ImageInfo) -> dict[str, Any]:
    """The `image` content block of a tool result."""
    source = {"type": "base64", "media_type": info.media_type, "data": base64.b64encode(data).decode("ascii")}
    return {"type": "image", "source": source}
