"""Plain-text emails put each sentence or paragraph on one line: no line of a .txt template ends
in the middle of a sentence (a mail client wraps long lines itself; a hard break in Japanese
shows as a break in the middle of a word)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.adapters.line_breaks import broken_lines, mid_sentence

TEMPLATES = sorted(p for p in (Path(__file__).resolve().parents[2] / "templates" / "mail").glob("*/*.txt")
                   if p.name != "subject.txt")


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_template_line_ends_mid_sentence(path):
    assert broken_lines(path.read_text()) == []


@pytest.mark.parametrize(("line", "broken"), [
    ("添付の入場証(pass.pdf)を印刷してお持ちいただくか、下記の登録内容ページに表示される", True),
    ("キャンセル等で席が空き次第、お申し込み順に繰り上げてご参加を確定し、", True),
    ("Thank you for registering for the seminar. The session is full at the", True),
    ("以下の内容で参加登録を承りました。", False),
    ("■ 当日の受付について", False),
    ("Finding the reception desk", False),
    ("Cancel: https://example.org/r/abc/cancel", False),
    ("Dear Anna Schmidt,", False),
    ("{{ event.title }}{% if session.title %}({{ session.title }}){% endif %}", False),
])
def test_the_check_itself(line, broken):
    assert mid_sentence(line) is broken
