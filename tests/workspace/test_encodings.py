"""Legacy encodings: a guess is shown as a guess and never writes new non-ASCII text; a confirmed one does.

Short files in a legacy code page fit several encodings equally well, and the detector's first guess
is often wrong (cp1251 "# Комментарий" reads as Shift-JIS). Writing new non-ASCII text in a wrong
guess produces bytes that say something else, so it is refused until the encoding is confirmed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from editor_agent import Editor, Policy, Workspace, tool_by_type
from editor_agent.workspace.textfile import TextFile

from ..conftest import RunCli

TOOL = "text_editor_20250728"

# (name, text, encoding, new non-ASCII text that fits the encoding)
SHORT = [
    ("cp1251", "# Комментарий\n", "cp1251", "# Новый\n"),
    ("koi8-r", "# Комментарий\n", "koi8-r", "# Новый\n"),
    ("gbk", "# 注释内容\n", "gbk", "# 新的注释\n"),
    ("cp1250", "# Zażółć gęślą jaźń\n", "cp1250", "# Łódź\n"),
]


def editor_for(root: Path, **policy: object) -> Editor:
    return Editor(Workspace(root, policy=Policy(**policy)), tool_by_type(TOOL))  # type: ignore[arg-type]


@pytest.mark.parametrize(("name", "text", "encoding", "added"), SHORT, ids=[case[0] for case in SHORT])
def test_a_short_legacy_file_is_read_as_a_guess_and_new_non_ascii_is_refused(
    root: Path, name: str, text: str, encoding: str, added: str
):
    path = root / "legacy.py"
    path.write_bytes((text + "x = 1\n").encode(encoding))
    editor = editor_for(root)
    view = editor.run({"command": "view", "path": "/repo/legacy.py"})
    assert not view.is_error
    assert "NOTE: /repo/legacy.py is not UTF-8" in view.content and "--encoding 'legacy.py=" in view.content
    # ASCII edits keep every other byte: fine whatever the encoding is.
    ascii_edit = editor.run(
        {"command": "str_replace", "path": "/repo/legacy.py", "old_str": "x = 1", "new_str": "x = 2"}
    )
    assert not ascii_edit.is_error, ascii_edit.content
    expected = (text + "x = 2\n").encode(encoding)
    assert path.read_bytes() == expected
    refused = editor.run({"command": "insert", "path": "/repo/legacy.py", "insert_line": 2, "insert_text": added})
    assert refused.is_error
    assert "No change was made" in refused.content and "--encoding 'legacy.py=" in refused.content
    assert path.read_bytes() == expected


def test_the_cyrillic_edit_that_used_to_write_shift_jis_is_refused(root: Path):
    data = "# Комментарий\n".encode("cp1251")
    path = root / "a.py"
    path.write_bytes(data)
    result = editor_for(root).run(
        {"command": "insert", "path": "/repo/a.py", "insert_line": 1, "insert_text": "# Привет"}
    )
    assert result.is_error, result.content
    assert path.read_bytes() == data


def test_an_encoding_set_for_a_glob_is_used_and_writes_what_the_model_wrote(root: Path):
    (root / "legacy").mkdir()
    path = root / "legacy" / "notes.txt"
    path.write_bytes("# Комментарий\n".encode("cp1251"))
    editor = editor_for(root, encodings=(("legacy/*.txt", "cp1251"),))
    view = editor.run({"command": "view", "path": "/repo/legacy/notes.txt"})
    assert "# Комментарий" in view.content and "NOTE" not in view.content
    result = editor.run(
        {"command": "str_replace", "path": "/repo/legacy/notes.txt", "old_str": "Комментарий", "new_str": "Привет, мир"}
    )
    assert not result.is_error, result.content
    assert path.read_bytes().decode("cp1251") == "# Привет, мир\n"


def test_the_encoding_flag_reaches_the_editor(root: Path, run_cli: RunCli):
    (root / "legacy").mkdir()
    path = root / "legacy" / "a.txt"
    path.write_bytes("# Комментарий\n".encode("koi8-r"))
    calls = [
        {"command": "insert", "path": "/repo/legacy/a.txt", "insert_line": 1, "insert_text": "# Привет"},
    ]
    run = run_cli("exec", "--workspace", str(root), "--tool", TOOL, "--encoding", "legacy/*.txt=koi8-r",
                  stdin="".join(json.dumps(call) + "\n" for call in calls))  # fmt: skip
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["is_error"] is False, result
    assert path.read_bytes().decode("koi8-r") == "# Комментарий\n# Привет\n"


def test_a_bad_encoding_flag_exits_2(root: Path, run_cli: RunCli):
    for value in ("legacy/*.txt", "*.txt=no-such-codec", "=cp1251"):
        run = run_cli("exec", "--workspace", str(root), "--tool", TOOL, "--encoding", value)
        assert run.returncode == 2, value
        assert "--encoding" in run.stderr and "GLOB=ENCODING" in run.stderr


def test_bytes_that_would_not_read_back_as_written_are_refused(root: Path):
    # Shift-JIS has no yen sign of its own: '¥' is written as the byte of a backslash.
    data = "# 価格\n".encode("shift_jis")
    path = root / "price.txt"
    path.write_bytes(data)
    editor = editor_for(root, encodings=(("*.txt", "shift_jis"),))
    result = editor.run({"command": "str_replace", "path": "/repo/price.txt", "old_str": "価格", "new_str": "¥100"})
    assert result.is_error and "'¥'" in result.content
    assert path.read_bytes() == data


def test_a_confident_detection_of_a_latin_code_page_is_used(root: Path):
    # Long enough for the detector to be sure, and cp1250 only: Polish, not Windows-1252's "Za¿ó³æ".
    text = (
        "# Funkcja oblicza sumę liczb na liście i zwraca wynik. Jeżeli lista jest pusta, zwraca zero. "
        "Zażółć gęślą jaźń.\nx = 1\n"
    )
    path = root / "pl.py"
    path.write_bytes(text.encode("cp1250"))
    editor = editor_for(root)
    view = editor.run({"command": "view", "path": "/repo/pl.py"})
    assert "Zażółć gęślą jaźń" in view.content and "NOTE" not in view.content
    result = editor.run(
        {"command": "str_replace", "path": "/repo/pl.py", "old_str": "x = 1", "new_str": "x = 1  # źle"}
    )
    assert not result.is_error, result.content
    assert path.read_bytes().decode("cp1250") == text.replace("x = 1", "x = 1  # źle")


def test_a_file_not_valid_in_its_set_encoding_is_not_text(root: Path):
    (root / "a.txt").write_bytes(b"# \x82\n")  # a lead byte with no second byte
    result = editor_for(root, encodings=(("*.txt", "shift_jis"),)).run({"command": "view", "path": "/repo/a.txt"})
    assert result.is_error and "not valid shift_jis" in result.content


def test_decode_with_an_encoding_is_not_a_guess():
    data = "# Комментарий\n".encode("cp1251")
    assert TextFile.decode(data).assumed
    confirmed = TextFile.decode(data, "cp1251")
    assert not confirmed.assumed and confirmed.text == "# Комментарий\n"
    assert not TextFile.decode("é\n".encode()).assumed and not TextFile.decode(b"plain\n").assumed


def test_latin_1_french_is_shown_as_written(tmp_path: Path):
    text = "# Salut, ça va? Très bien. Et toi? déjà vu\nsecond\n"
    (tmp_path / "f.py").write_bytes(text.encode("latin-1"))
    editor = Editor(Workspace(tmp_path), tool_by_type("text_editor_20250728"))
    assert "ça va? Très bien" in editor.run({"command": "view", "path": "f.py"}).content
    result = editor.run({"command": "str_replace", "path": "f.py", "old_str": "Très bien", "new_str": "Très bon"})
    assert not result.is_error
    assert (tmp_path / "f.py").read_bytes() == text.replace("Très bien", "Très bon").encode("latin-1")
