"""Recognise the image files the Messages API takes (PNG, JPEG, GIF, WebP) and read their size.

`view` of such a file answers with an image block the model can look at, instead of refusing it
as binary. The API refuses images over 8000 pixels a side or over 5 MB of base64, and a refused
image would fail the whole request, so both are checked here from the file's header.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp"})
MAX_SIDE = 8000
MAX_BASE64 = 5 * 1024 * 1024
MAX_BYTES = MAX_BASE64 // 4 * 3  # the largest file whose base64 fits
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
    while at + 9 < len(data):
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


def image_block(data: bytes, info: ImageInfo) -> dict[str, Any]:
    """The `image` content block of a tool result."""
    source = {"type": "base64", "media_type": info.media_type, "data": base64.b64encode(data).decode("ascii")}
    return {"type": "image", "source": source}
