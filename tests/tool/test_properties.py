"""Property tests: an edit changes only the bytes it should, for any mix of EOLs, tabs, BOM and final newline."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from editor_agent import Editor, Workspace, tool_by_type

text_chars = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufeff\u2028\u2029\x85")
body = st.text(alphabet=st.one_of(text_chars, st.sampled_from(["\t", " ", "$", "\\", "é"])), max_size=12)


@st.composite
def files(draw):
    count = draw(st.integers(min_value=1, max_value=12))
    lines = [f"L{index}:{draw(body)}" for index in range(count)]
    endings = [draw(st.sampled_from(["\n", "\r\n"])) for _ in lines]
    if draw(st.booleans()):
        endings[-1] = ""  # no final newline
    bom = draw(st.sampled_from([b"", b"\xef\xbb\xbf"]))
    return lines, endings, bom


def majority(endings: list[str]) -> str:
    crlf = endings.count("\r\n")
    return "\r\n" if crlf * 2 > sum(1 for e in endings if e) else "\n"


def encode(lines: list[str], endings: list[str], bom: bytes) -> bytes:
    return bom + "".join(line + end for line, end in zip(lines, endings, strict=True)).encode()


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(data=files(), pick=st.integers(min_value=0), new=st.lists(body, min_size=1, max_size=3))
def test_str_replace_changes_only_the_span(tmp_path_factory, data, pick, new):
    lines, endings, bom = data
    root = tmp_path_factory.mktemp("fid")
    (root / "f.txt").write_bytes(encode(lines, endings, bom))
    index = pick % len(lines)
    old = lines[index]
    new_str = "\n".join(new)
    editor = Editor(Workspace(root), tool_by_type("text_editor_20250728"), strict=True)
    result = editor.run({"command": "str_replace", "path": "f.txt", "old_str": old, "new_str": new_str})
    if old == new_str:
        assert result.is_error
        return
    assert not result.is_error, result.content
    expected_lines = lines[:index] + [new_str.replace("\n", majority(endings))] + lines[index + 1 :]
    assert (root / "f.txt").read_bytes() == encode(expected_lines, endings, bom)


@SETTINGS
@given(data=files(), pick=st.integers(min_value=0), new=st.lists(body, min_size=1, max_size=3))
def test_insert_changes_only_the_gap(tmp_path_factory, data, pick, new):
    lines, endings, bom = data
    root = tmp_path_factory.mktemp("ins")
    (root / "f.txt").write_bytes(encode(lines, endings, bom))
    at = pick % (len(lines) + 1)
    text = "\n".join(new)
    editor = Editor(Workspace(root), tool_by_type("text_editor_20250728"))
    result = editor.run({"command": "insert", "path": "f.txt", "insert_line": at, "insert_text": text})
    assert not result.is_error, result.content
    eol = majority(endings)
    block = text.removesuffix("\n").replace("\n", eol)  # the inserted block's own last newline is implied
    original = encode(lines, endings, bom)
    if at < len(lines):
        head = encode(lines[:at], endings[:at], bom)
        expected = head + (block + eol).encode() + original[len(head) :]
    elif endings[-1]:
        expected = original + (block + eol).encode()
    else:  # an empty block is an empty line: it ends the unterminated last line and is ended itself
        expected = original + (eol + block + ("" if block else eol)).encode()
    assert (root / "f.txt").read_bytes() == expected


@SETTINGS
@given(data=files())
def test_view_shows_every_line_once(tmp_path_factory, data):
    lines, endings, bom = data
    root = tmp_path_factory.mktemp("view")
    (root / "f.txt").write_bytes(encode(lines, endings, bom))
    editor = Editor(Workspace(root), tool_by_type("text_editor_20250728"))
    content = editor.run({"command": "view", "path": "f.txt"}).content
    body_lines = content.split("\n")[1:-1]
    assert body_lines == [f"{n:6}\t{line}" for n, line in enumerate(lines, 1)]


@SETTINGS
@given(data=files(), pick=st.integers(min_value=0))
def test_undo_restores_exact_bytes(tmp_path_factory, data, pick):
    lines, endings, bom = data
    root = tmp_path_factory.mktemp("undo")
    original = encode(lines, endings, bom)
    (root / "f.txt").write_bytes(original)
    editor = Editor(Workspace(root), tool_by_type("text_editor_20250124"))
    index = pick % len(lines)
    assert not editor.run(
        {"command": "str_replace", "path": "f.txt", "old_str": lines[index], "new_str": "Z\nZ"}
    ).is_error
    assert not editor.run({"command": "undo_edit", "path": "f.txt"}).is_error
    assert (root / "f.txt").read_bytes() == original
