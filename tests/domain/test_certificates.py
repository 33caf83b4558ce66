"""Certificates of attendance (domain.registration.certificates): who gets one, once, what it
keeps, how a typed code is found, and the purge."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from eventreg.domain.errors import DomainError
from eventreg.domain.privacy import retention
from eventreg.domain.reception import checkin
from eventreg.domain.registration import certificates
from eventreg.extensions import db
from eventreg.models import Certificate

from .. import factories

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)


def came(event, **overrides):
    person = factories.register_person(event, **overrides)
    checkin.check_in(person, session_id=None, desk="受付1", now=NOW)
    db.session.commit()
    return person


def test_only_a_person_who_came_gets_one(make_event):
    event = make_event()
    absent = factories.register_person(event)
    with pytest.raises(DomainError) as refused:
        certificates.issue(absent, NOW)
    assert refused.value.code == "certificate_not_attended"
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 0


def test_issue_is_once_per_registration(make_event):
    person = came(make_event())
    first = certificates.issue(person, NOW)
    db.session.commit()
    again = certificates.issue(person, NOW + timedelta(days=1))
    db.session.commit()
    assert again.id == first.id and again.code == first.code and again.issued_at == NOW
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 1


def test_it_keeps_what_was_printed(make_event):
    event = make_event(title="会計セミナー", organizer="ちば市民活動サポートクラブ")
    person = came(event, family_name="渡邊", given_name="真由美")
    issued = certificates.issue(person, NOW)
    db.session.commit()
    assert issued.holder_name == "渡邊 真由美"  # the badge's rule: family name first in Japanese
    person.family_name, event.title = "田中", "改名したセミナー"
    db.session.commit()
    kept = certificates.find(issued.code)
    assert (kept.holder_name, kept.event_title, kept.organizer) == ("渡邊 真由美", "会計セミナー", "ちば市民活動サポートクラブ")
    assert kept.starts_at == event.sessions[0].starts_at and not kept.online


def test_the_name_follows_the_badge_rule_in_english(make_event):
    person = came(make_event(), family_name="Schmidt", given_name="Anna", family_kana="", given_kana="", language="en")
    issued = certificates.issue(person, NOW)
    assert (issued.holder_name, issued.language) == ("Anna Schmidt", "en")


def test_codes_are_random_and_typed_any_way(make_event):
    event = make_event()
    issued = [certificates.issue(came(event, email=f"p{i}@example.org"), NOW) for i in range(20)]
    db.session.commit()
    codes = {c.code for c in issued}
    assert len(codes) == 20 and all(len(c) == 12 and set(c) <= set(certificates.ALPHABET) for c in codes)
    assert not any(ch in code for code in codes for ch in "ILOU")
    code = issued[0].code
    shown = certificates.formatted(code)
    assert shown.count("-") == 2 and shown.replace("-", "") == code
    full_width = shown.lower().translate({ord(c): ord(c) + 0xFEE0 for c in shown.lower() if c != "-"})
    for typed in (shown, code.lower(), " " + shown.replace("-", " ") + " ", shown.replace("-", "ー"),
                  shown.replace("-", "–"), full_width):
        assert certificates.find(typed).id == issued[0].id, typed


def test_look_alikes_read_as_the_character_they_resemble():
    assert certificates.normalize("oooo-iiii-llll") == "000011111111"
    assert certificates.normalize("ABCD-EFGH-JKM") is None  # 11 characters
    assert certificates.normalize("ABCD-EFGH-JKMU") is None  # U is not in the alphabet
    assert certificates.normalize("x" * 10_000) is None
    assert certificates.normalize("ＡＢＣＤ\u0000") is None


def test_a_forged_code_finds_nothing(make_event):
    issued = certificates.issue(came(make_event()), NOW)
    db.session.commit()
    forged = issued.code[:-1] + ("0" if issued.code[-1] != "0" else "1")
    assert certificates.find(forged) is None


def test_issue_all_issues_the_rest_in_gojuon_order(make_event):
    event = make_event()
    first = came(event, family_name="渡邊", family_kana="ワタナベ", email="w@example.org")
    came(event, family_name="青木", family_kana="アオキ", email="a@example.org")
    factories.register_person(event, email="absent@example.org")  # did not come: none
    kept = certificates.issue(first, NOW)
    db.session.commit()
    issued = certificates.issue_all(event.id, NOW + timedelta(hours=1))
    db.session.commit()
    assert [c.holder_name.split()[0] for c in issued] == ["青木", "渡邊"]
    assert issued[1].code == kept.code and issued[1].issued_at == NOW
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 2


def test_the_purge_removes_the_name_and_keeps_the_rest(make_event):
    event = make_event()
    person = came(event)
    issued = certificates.issue(person, NOW)
    db.session.commit()
    retention.anonymise([person], NOW)
    db.session.commit()
    kept = certificates.find(issued.code)
    assert kept.holder_name == "" and kept.event_title == event.title


def test_an_online_attendee_s_certificate_says_online(make_event):
    from eventreg.models import AttendanceMode
    from eventreg.web import certificates as documents

    event = make_event(venue_name="千葉市文化センター")
    event.sessions[0].attendance_mode = AttendanceMode.online
    db.session.commit()
    issued = certificates.issue(came(event), NOW)
    assert issued.online and issued.venue == ""
    page = documents.page_data({name: getattr(issued, name) for name in documents.COLUMNS}, "X", "")
    assert page["venue"] == "オンライン"


def test_a_withdrawal_takes_once_and_the_purge_removes_its_reason(make_event):
    event = make_event()
    person = came(event)
    issued = certificates.issue(person, NOW)
    assert certificates.withdraw(issued, reason="  別の方の受付でした  ", actor=None, now=NOW) is True
    assert certificates.withdraw(issued, reason="二回目", actor=None, now=NOW + timedelta(minutes=1)) is False
    db.session.commit()
    kept = certificates.find(issued.code)
    assert kept.revoked_at == NOW and kept.revoked_reason == "別の方の受付でした"
    with pytest.raises(DomainError) as refused:  # bad words: refused before anything is written
        certificates.withdraw(certificates.issue(came(event), NOW), reason="x" * 501, actor=None, now=NOW)
    assert refused.value.code == "too_long"
    db.session.rollback()
    retention.anonymise([person], NOW)
    db.session.commit()
    kept = certificates.find(issued.code)
    assert kept.revoked_at == NOW and kept.revoked_reason == "" and kept.holder_name == ""
