"""Every error code the code raises has words in Japanese and English, from one table.

The codes are found by walking the source (ast), not by a list kept by hand: a new
``DomainError("code")`` without words fails here."""

from __future__ import annotations

import ast
import gettext
from datetime import timedelta
from pathlib import Path

import pytest

import eventreg
from eventreg.domain.access import invitations
from eventreg.domain.registration.capacity import NoSeat
from eventreg.domain.timing import deadlines
from eventreg.web import error_words

PACKAGE = Path(eventreg.__file__).parent
# Calls that carry an error code, and the position of the code among their arguments.
CODE_ARGUMENT = {"DomainError": 0, "Refusal": 1, "bad": 1}


def _raised_codes() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and any(getattr(b, "id", None) == "DomainError" for b in node.bases):
                calls = [c for c in ast.walk(node) if isinstance(c, ast.Call)
                         and isinstance(c.func, ast.Attribute) and c.func.attr == "__init__"]
                positions = [(call, 0) for call in calls]
            elif isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                positions = [(node, CODE_ARGUMENT[name])] if name in CODE_ARGUMENT else []
            else:
                continue
            for call, index in positions:
                if len(call.args) > index and isinstance(call.args[index], ast.Constant):
                    found.setdefault(call.args[index].value, str(path.relative_to(PACKAGE)))
    # Codes raised from a value, not a literal.
    for code in [*(n.value for n in NoSeat if n is not NoSeat.waitlisted), *deadlines.REFUSALS.values(),
                 *(f"invitation_{state}" for state in (invitations.ACCEPTED, invitations.REVOKED, invitations.EXPIRED, invitations.UNKNOWN))]:
        found.setdefault(code, "computed")
    return found


def _catalog(lang: str) -> dict:
    with (PACKAGE / "translations" / lang / "LC_MESSAGES" / "messages.mo").open("rb") as fh:
        return gettext.GNUTranslations(fh)._catalog


def test_the_walk_finds_the_codes_it_should():
    codes = _raised_codes()
    assert {"session_full", "login_failed", "invalid_rule", "too_many_rows", "same_session",
            "invalid_values", "invitation_expired", "registration_closed"} <= set(codes)


def test_every_raised_code_has_words():
    missing = {code: where for code, where in _raised_codes().items() if code not in error_words.WORDS}
    assert missing == {}


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_code_has_words_in_the_compiled_catalog(lang):
    catalog = _catalog(lang)
    untranslated = sorted(code for code, words in error_words.WORDS.items()
                          if not catalog.get(words._args[0]))
    assert untranslated == []


def test_no_other_table_gives_words_to_error_codes():
    """A dict literal whose keys are error codes and whose values are translated words lives in
    web/error_words.py only."""
    codes = set(error_words.WORDS)
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "error_words.py":
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, ast.Dict):
                continue
            keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
            translated = [v for v in node.values if isinstance(v, ast.Call)
                          and getattr(v.func, "id", None) in ("_l", "_", "lazy_gettext")]
            if len(keys & codes) * 2 > len(keys) >= 2 and translated:  # mostly error codes
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert offenders == []


@pytest.mark.parametrize("code, module, name, value, shown", [
    ("login_blocked", "eventreg.domain.access.sign_in", "LOGIN_WINDOW", timedelta(minutes=20), "20分"),
    ("password_too_short", "eventreg.domain.access.accounts", "MIN_PASSWORD_LENGTH", 12, "12文字"),
    ("password_too_long", "eventreg.domain.access.accounts", "MAX_PASSWORD_LENGTH", 300, "300文字"),
    ("too_many_reminders", "eventreg.domain.communication.reminders", "MAX_RULES", 7, "7件"),
    ("reminder_too_early", "eventreg.domain.communication.reminders", "MAX_DAYS", 90, "90日前"),
])
def test_a_sentence_states_the_number_of_the_rule_not_a_copy(app, monkeypatch, code, module, name, value, shown):
    """"15 minutes" written into a sentence goes stale when the rule changes: the words take the
    number from the constant where the rule lives."""
    import importlib

    from flask_babel import force_locale

    monkeypatch.setattr(importlib.import_module(module), name, value)
    with app.test_request_context(), force_locale("ja"):
        assert shown in error_words.message(code)
