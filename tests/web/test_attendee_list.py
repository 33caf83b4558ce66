"""/admin/events/<id>/attendees: the page, pagination, hostile query strings, escaping, who sees
the bulk actions, and bulk actions confirmed, done in one transaction, or refused whole."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from eventreg.extensions import db
from eventreg.models import AuditEntry, EventSession, MailKind, OutboxMessage, Registration, Status

from .. import factories
from ..domain.test_roster import add, two_session_event
from ..roster_people import insert_people
from .conftest import csrf_token

PERSON_ROW = re.compile(r'<tr class="person ')


@pytest.fixture
def event(ctx):
    return two_session_event()


@pytest.fixture
def organizer(event, login):
    login(factories.make_staff("owner", events=[event]))


def page(client, event, query="", status=200):
    response = client.get(f"/admin/events/{event.id}/attendees{query}")
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def test_the_page_counts_lists_and_heads_rows(client, event, organizer):
    add(event, family_name="加藤", family_kana="カトウ", organization="千葉市役所", department="市民自治推進課")
    add(event, family_name="青木", family_kana="アオキ", checked_in_at=factories.in_days(0))
    add(event, family_name="ヴィレット", family_kana="ヴィレット", status=Status.waitlisted)
    add(event, family_name="取消", family_kana="トリケシ", status=Status.cancelled)
    html = page(client, event)
    assert len(PERSON_ROW.findall(html)) == 3  # the cancelled one only with status=cancelled
    assert html.index("青木") < html.index("ヴィレット") < html.index("加藤")
    assert [h for h in re.findall(r'scope="rowgroup"[^>]*>([^<]+)<', html)] == ["あ行", "か行"]
    assert "千葉市役所" in html and "市民自治推進課" in html
    kato = db.session.scalar(select(Registration).where(Registration.family_kana == "カトウ"))
    assert f'href="/admin/events/{event.id}/registrations/{kato.id}"' in html  # the name opens the registration
    counts = dict(re.findall(r"<dt>([^<]+)</dt><dd>(\d+)</dd>", html))
    assert counts["申し込み完了"] == "2" and counts["キャンセル待ち"] == "1" and counts["キャンセル済み"] == "1"
    assert counts["受付済み"] == "1"
    cancelled = page(client, event, "?status=cancelled")
    assert len(PERSON_ROW.findall(cancelled)) == 1 and "取消" in cancelled
    assert 'name="ids"' in html  # an owner may act on rows
    by_org = page(client, event, "?sort=organization")
    assert "rowgroup" not in by_org  # headings only in furigana order


def test_hiragana_katakana_and_half_width_find_each_other(client, event, organizer):
    add(event, family_name="山田", family_kana="ヤマダ", given_kana="ハナコ")
    add(event, family_name="鈴木", family_kana="スズキ", given_kana="イチロウ")
    for q in ("やまだ", "ヤマダ", "ﾔﾏﾀﾞ", "山田", "はなこ"):
        html = page(client, event, f"?q={q}")
        assert len(PERSON_ROW.findall(html)) == 1 and "山田" in html, q
    assert "該当する人はいません" in page(client, event, "?q=100%25")


def test_pagination(client, login, ctx):
    event = two_session_event(capacity=500)
    login(factories.make_staff("owner", events=[event]))
    insert_people(event, 230)
    total = db.session.scalar(select(func.count()).select_from(Registration)
                              .where(Registration.event_id == event.id, Registration.status != Status.cancelled))
    first = page(client, event)
    assert len(PERSON_ROW.findall(first)) == 100
    assert f"1–100 / {total}" in first
    third = page(client, event, "?page=3")
    assert len(PERSON_ROW.findall(third)) == total - 200
    last = page(client, event, "?page=999999999")  # past the end: the last page
    assert re.findall(r'value="(\d+)" form="bulk"', last) == re.findall(r'value="(\d+)" form="bulk"', third)
    assert len(PERSON_ROW.findall(page(client, event, "?page=abc"))) == 100
    second = page(client, event, "?page=2&sort=created&answers=1")
    assert f'href="/admin/events/{event.id}/attendees?sort=created&amp;page=3&amp;answers=1"' in second


HOSTILE = [
    "?page=-1", "?page=0", "?page=1e99", "?page=" + "9" * 400, "?session=abc", "?session=99999999999",
    "?session=" + "1" * 40, "?status=%01", "?status=" + "x" * 5000, "?sort=id;drop", "?sector=%7F",
    "?walk_in=2", "?question=-5&answer=x", "?question=99999999&answer=%25", "?q=%01%02", "?q=" + "あ" * 5000,
    "?answer=" + "%" * 300, "?q=\\", "?q=%27%20OR%201%3D1--", "?q[]=a&q=b",
    "?session=1&session=2", "?answers=<script>", "?q=%F0%9F%98%80",
]
# A NUL, or bytes that are not UTF-8 (a lone surrogate, an overlong "/", a stray byte): refused in
# words before the page reads them (web/input_guard.py).
UNREADABLE = ["?status=%00", "?sector=%FF", "?q=%00%01", "?q=%ED%A0%80", "?q=%C0%AF"]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_query_strings_never_500(client, event, organizer, query):
    add(event)
    html = page(client, event, query)
    assert "<script>" not in html


@pytest.mark.parametrize("query", UNREADABLE)
def test_unreadable_query_strings_are_refused_in_words(client, event, organizer, query):
    assert "読み取れない文字" in page(client, event, query, status=400)


def test_names_are_escaped(client, event, organizer):
    add(event, family_name="<script>alert(1)</script>", given_name="<img src=x onerror=alert(2)>",
        organization='"><b>組織</b>', answers={str(event.questions[2].id): "<i>質問</i>"})
    html = page(client, event, "?answers=1")
    assert "<script>alert(1)" not in html and "<img src=x" not in html and "<b>組織</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;i&gt;質問&lt;/i&gt;" in html
    search = page(client, event, "?q=%3Cscript%3E")
    assert len(PERSON_ROW.findall(search)) == 1 and 'value="&lt;script&gt;"' in search


def test_viewer_reads_without_bulk_and_cannot_post(client, event, login):
    person = add(event)
    login(factories.make_staff("viewer", events=[event]))
    html = page(client, event)
    assert "山田" in html and 'name="ids"' not in html and "bulk" not in html.split("<main")[1].split("</main>")[0].replace("bulk-", "")
    token = csrf_token(client, f"/e/{event.slug}")  # the viewer's pages hold no form
    response = client.post(f"/admin/events/{event.id}/attendees/bulk/run",
                           data={"csrf_token": token, "action": "cancel", "ids": str(person.id), "notify": "1"})
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Registration, person.id).status == Status.confirmed


def test_roles_without_view_and_strangers(client, event, login):
    login(factories.make_staff("reception", events=[event]))
    page(client, event, status=403)
    other = factories.make_event()
    page(client, other, status=404)


def bulk(client, event, **data):
    data.setdefault("csrf_token", csrf_token(client, f"/admin/events/{event.id}/attendees"))
    return client.post(f"/admin/events/{event.id}/attendees/bulk", data=data)


def run(client, event, **data):
    data.setdefault("csrf_token", csrf_token(client, f"/admin/events/{event.id}/attendees"))
    return client.post(f"/admin/events/{event.id}/attendees/bulk/run", data=data)


def mails(kind):
    return db.session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == kind))


def test_bulk_cancel_of_ticked_rows_confirm_then_do(client, event, organizer):
    people = [add(event, family_name=f"取消{i}") for i in range(3)]
    keep = add(event, family_name="残る")
    ids = [str(p.id) for p in people]
    confirm = bulk(client, event, action="cancel", scope="selected", ids=ids, notify="1")
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "3" in html and "取消0" in html and "残る" not in html
    db.session.expire_all()
    assert all(db.session.get(Registration, p.id).status == Status.confirmed for p in people)  # nothing yet

    done = run(client, event, action="cancel", scope="selected", ids=ids, notify="1")
    assert done.status_code == 303
    db.session.expire_all()
    assert [db.session.get(Registration, p.id).status for p in people] == [Status.cancelled] * 3
    assert db.session.get(Registration, keep.id).status == Status.confirmed
    assert mails(MailKind.cancelled) == 3
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "cancelled_by_staff")) == 3
    assert "3" in page(client, event).split('class="flash')[1][:300]


def test_bulk_cancel_without_telling(client, event, organizer):
    people = [add(event) for _ in range(2)]
    response = run(client, event, action="cancel", scope="selected", ids=[str(p.id) for p in people])
    assert response.status_code == 303
    assert mails(MailKind.cancelled) == 0


def test_all_matching_this_filter(client, event, organizer):
    company = [add(event, sector="company", status=Status.waitlisted) for _ in range(4)]
    add(event, sector="npo", status=Status.waitlisted)
    confirm = bulk(client, event, action="promote", scope="all", sector="company")
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and 'name="expected" value="4"' in html
    assert 'name="sector" value="company"' in html
    # Someone else joins the filter between the confirmation and the click: asked again.
    add(event, sector="company", status=Status.waitlisted)
    again = run(client, event, action="promote", scope="all", sector="company", expected="4")
    assert again.status_code == 409 and 'name="expected" value="5"' in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Registration)
                             .where(Registration.status == Status.confirmed)) == 0
    done = run(client, event, action="promote", scope="all", sector="company", expected="5")
    assert done.status_code == 303
    db.session.expire_all()
    assert all(db.session.get(Registration, p.id).status == Status.confirmed for p in company)
    assert mails(MailKind.promoted) == 5


def seats(session, taken):
    """add() writes rows only; the seat counters the actions release and take are set here."""
    db.session.execute(EventSession.__table__.update().where(EventSession.__table__.c.id == session.id)
                       .values(seats_taken=taken))
    db.session.commit()


def test_bulk_move_into_a_full_session_is_refused_whole(client, event, organizer):
    first, second = event.sessions
    second.capacity = 2
    db.session.commit()
    add(event, session_index=1)
    seats(second, 1)
    movers = [add(event, family_name=f"移動{i}") for i in range(3)]
    seats(first, 3)
    ids = [str(m.id) for m in movers]
    confirm = bulk(client, event, action="move", scope="selected", ids=ids, target=str(second.id))
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 409
    assert "移動1" in html.split("error-summary")[1] and "移動2" in html.split("error-summary")[1]
    assert "bulk/run" not in html  # no way to go ahead
    refused = run(client, event, action="move", scope="selected", ids=ids, target=str(second.id))
    assert refused.status_code == 409
    db.session.expire_all()
    assert {db.session.get(Registration, m.id).session_id for m in movers} == {event.sessions[0].id}
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0
    assert mails(MailKind.pass_resent) == 0
    # One fits: moved, in one go.
    ok = run(client, event, action="move", scope="selected", ids=ids[:1], target=str(second.id))
    assert ok.status_code == 303
    db.session.expire_all()
    assert db.session.get(Registration, movers[0].id).session_id == second.id


def test_refused_in_the_middle_rolls_back_everything(client, event, organizer, monkeypatch):
    """A row the check let through but the action refuses (its email was registered in the
    target session after the check) undoes the rows already done."""
    second = event.sessions[1]
    a = add(event, email="a@example.org")
    b = add(event, email="b@example.org")
    seats(event.sessions[0], 2)
    from eventreg.domain.backoffice import bulk_actions
    from eventreg.domain.backoffice.bulk_actions import Action, BulkRefused

    registrations = [db.session.get(Registration, a.id), db.session.get(Registration, b.id)]
    # Someone registers b's email in the target session after the check.
    add(event, session_index=1, email="b@example.org")
    monkeypatch.setattr(bulk_actions, "check", lambda *args, **kw: [])  # the check ran before that
    with pytest.raises(BulkRefused) as refused:
        bulk_actions.run(registrations, Action.move, target=second, actor=None, now=factories.in_days(0))
    db.session.rollback()
    assert [r.registration.id for r in refused.value.refusals] == [b.id]
    db.session.expire_all()
    assert db.session.get(Registration, a.id).session_id == event.sessions[0].id


def test_ids_of_another_event_are_never_acted_on(client, event, organizer):
    mine = add(event)
    other_event = factories.make_event()
    stranger = add(other_event)
    for endpoint in (bulk, run):
        response = endpoint(client, event, action="cancel", scope="selected", ids=[str(mine.id), str(stranger.id)],
                            notify="1")
        assert response.status_code == 303
        assert "このイベントの申し込みではないもの" in page(client, event)
    db.session.expire_all()
    assert db.session.get(Registration, stranger.id).status == Status.confirmed
    assert db.session.get(Registration, mine.id).status == Status.confirmed
    for bad in (["abc"], ["-1"], ["99999999999999"], []):
        response = run(client, event, action="cancel", scope="selected", ids=bad)
        assert response.status_code == 303
    response = run(client, event, action="explode", scope="selected", ids=[str(mine.id)])
    assert response.status_code == 303
    response = run(client, event, action="move", scope="selected", ids=[str(mine.id)],
                   target=str(other_event.sessions[0].id))
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Registration, mine.id).status == Status.confirmed
    assert db.session.get(Registration, mine.id).session_id == event.sessions[0].id


def test_bulk_resend_skips_nobody_silently(client, event, organizer):
    ok = add(event)
    waiting = add(event, status=Status.waitlisted, family_name="待機")
    no_email = add(event, email=None, walk_in=True, family_name="当日")
    response = bulk(client, event, action="resend", scope="selected", ids=[str(ok.id), str(waiting.id), str(no_email.id)])
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "待機" in html and "当日" in html
    response = run(client, event, action="resend", scope="selected", ids=[str(ok.id)])
    assert response.status_code == 303 and mails(MailKind.pass_resent) == 1


def test_the_list_exports_what_it_shows(client, event, organizer):
    add(event, family_name="山田", family_kana="ヤマダ", organization="千葉市役所")
    add(event, family_name="鈴木", family_kana="スズキ", organization="育て上げネット")
    html = page(client, event, "?q=やまだ&sort=organization")
    [link] = re.findall(r'href="([^"]*/exports\?[^"]*)">この一覧を書き出す', html)
    exports = client.get(link.replace("&amp;", "&"))
    assert exports.status_code == 200
    [csv_link] = [u.replace("&amp;", "&") for u in re.findall(r'href="([^"]*attendees\.csv[^"]*)"', exports.get_data(as_text=True))]
    text = client.get(csv_link).get_data().decode("utf-8-sig")
    assert "山田" in text and "鈴木" not in text  # the same filter, not the whole event
