"""One table of words for the states people read (eventreg/web/status_words.py): every state has
words in Japanese and English, and no other table names them (a walk of the code and templates,
like test_error_words does for error codes)."""

from __future__ import annotations

import ast
import json
import re
from html import unescape
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

import eventreg
from eventreg.models import Status
from eventreg.web import status_words

ROOT = Path(eventreg.__file__).parent
TEMPLATES = ROOT.parent / "templates"
# The counters' table (count_words) is where a registration's words come from; status_words is the table.
# error_words names error codes (some spelled like states: "closed", "full").
OWNERS = {ROOT / "web" / "status_words.py", ROOT / "web" / "count_words.py", ROOT / "web" / "error_words.py"}
STATE_NAMES = {m.value for enum in status_words.STATUS_WORDS for m in enum}
ENUM_NAMES = {enum.__name__ for enum in status_words.STATUS_WORDS}


def _catalogue(lang: str) -> dict[str, str]:
    with (ROOT / "translations" / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return {m.id: m.string for m in read_po(fh) if m.id and "fuzzy" not in m.flags}


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_state_has_words(lang):
    catalogue = _catalogue(lang)
    for enum, words in status_words.STATUS_WORDS.items():
        assert set(words) == set(enum), enum.__name__
        for member, lazy in words.items():
            assert catalogue.get(lazy._args[0]), (enum.__name__, member.value, lang)


def _is_words(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("_", "_l", "gettext", "lazy_gettext")


def _state_key(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and node.value in STATE_NAMES:
        return True
    return (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id in ENUM_NAMES and node.attr in STATE_NAMES)


def _python_tables() -> list[str]:
    found = []
    for path in ROOT.rglob("*.py"):
        if path in OWNERS:
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            pairs = []
            if isinstance(node, ast.Dict):
                pairs = [(k, v) for k, v in zip(node.keys, node.values, strict=True) if k is not None]
            elif isinstance(node, (ast.List, ast.Tuple)):
                pairs = [tuple(e.elts) for e in node.elts if isinstance(e, ast.Tuple) and len(e.elts) == 2]
            if sum(1 for k, v in pairs if _state_key(k) and _is_words(v)) >= 3:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


# A label chosen by state in a template: a dict of states to words, or a chain of ifs on the
# status each branch of which prints a label (a few words, no sentence).
_STATES = "|".join(sorted(STATE_NAMES))
_TEMPLATE_WORDS = re.compile(rf"""["']({_STATES})["']\s*:\s*_\(""")
_TEMPLATE_CHOICE = re.compile(r"""elif [\w.]*status(?:\.value)?\s*==\s*["'](""" + _STATES
                              + r""")["']\s*%\}\s*\{\{\s*_\(["'][^"'.]{1,40}["']\)""")


def _template_tables() -> list[str]:
    found = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text("utf-8")
        found += [f"{path.relative_to(TEMPLATES)}: {m.group(0)}" for m in _TEMPLATE_CHOICE.finditer(text)]
        found += [f"{path.relative_to(TEMPLATES)}: {table[:60]}" for table in re.findall(r"\{[^{}]*\}", text)
                  if len(_TEMPLATE_WORDS.findall(table)) >= 2]
    return found


def test_no_other_table_names_a_state():
    assert _python_tables() == [] and _template_tables() == []


def test_the_list_the_page_the_export_and_the_desk_say_the_same(app, client, login, make_event):
    from eventreg.extensions import db

    from .. import factories

    event = make_event(capacity=1)
    first = factories.register_person(event, family_name="山田")
    second = factories.register_person(event, family_name="田中")
    assert second.status == Status.waitlisted
    db.session.commit()
    login(factories.make_staff("organizer", [event]))
    base = f"/admin/events/{event.id}"
    with app.test_request_context():
        word = {s: status_words.status_word(s) for s in Status}
    listing = client.get(f"{base}/attendees").get_data(as_text=True)
    assert word[Status.confirmed] in listing and word[Status.waitlisted] in listing
    for reg in (first, second):
        page = client.get(f"{base}/registrations/{reg.id}").get_data(as_text=True)
        assert f">{word[reg.status]}</span>" in page
    exported = client.get(f"{base}/exports/attendees.csv").get_data().decode("utf-8-sig")
    assert word[Status.confirmed] in exported and word[Status.waitlisted] in exported
    desk = client.get(f"/desk/{event.id}").get_data(as_text=True)
    words = json.loads(unescape(re.search(r'id="desk-i18n">(.*?)</script>', desk, re.S).group(1)))
    assert {s.value: words[s.value] for s in Status} == {s.value: w for s, w in word.items()}
