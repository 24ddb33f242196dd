"""Terminal-safe text: what the tool prints cannot drive the terminal, fake a line, or show a credential.

Model text, file names, diffs and server messages can hold escape sequences: OSC 52 writes the
clipboard, CSI clears the screen or recolours, a bare carriage return overwrites the line so that
a `create` can display as a harmless `view`. `safe` escapes every C0 and C1 control character
(and the bidirectional overrides that reorder what is shown) as visible `\\x1b`-style text, keeping
newlines, tabs and CRLF line ends in multi-line text; `line=True` escapes newlines and tabs too,
for a field that must stay on its line. It redacts credential values first.
"""

from __future__ import annotations

import re

from .redact import redact

_CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
_MULTI_LINE = re.compile(f"[{_CONTROLS}]|\r(?!\n)")
_SINGLE_LINE = re.compile(f"[{_CONTROLS}\t\n\r]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def safe(text: str, *, line: bool = False) -> str:
    """`text` redacted and with its control characters escaped; `line=True` keeps it on one line."""
    text = redact(text)
    pattern = _SINGLE_LINE if line else _MULTI_LINE
    return pattern.sub(_escape, text) if pattern.search(text) else text
