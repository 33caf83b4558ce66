"""The organizer API: the attendee list (filters, search, sort, pages), one registration with its
answers, exports, and who may see what (roles, tokens limited to an event and a role).

Data is made in a short app context; requests run without one, as a real client's would.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from types import SimpleNamespace

import openpyxl
import pytest
from sqlalchemy import select

from eventreg.domain.access import accounts, api_tokens
from eventreg.domain.backoffice import roster
from eventreg.domain.registration import signup
from eventreg.extensions import db
from eventreg.models import ApiToken, AuditEntry, EventRole, Sector
from eventreg.web.api import schemas

from .. import factories
from .test_api import fast_staff
from .test_openapi import check

API = "/api/v1"


def now():
    return datetime.now(timezone.utc)


QUESTIONS = [
    {"label": "参加の目的", "kind": "single", "choices": ["情報収集", "連携先探し"]},
    {"label": "懇親会に参加しますか", "kind": "checkbox"},
    {"label": "ご質問", "kind": "text"},
]


@pytest.fixture
def world(app):
    """Event A (two sessions, three questions, six people) and event B; an owner, an editor, a
    viewer and a reception user of A, with tokens; tokens limited to a role on A."""
    with app.app_context():
        start = factories.in_days(14)
        a = factories.make_event(questions=QUESTIONS, sessions=[
            {"title": "第1回", "date": start.date().isoformat(), "start": "14:00", "end": "15:30", "capacity": 3},
            {"title": "第2回", "date": start.date().isoformat(), "start": "19:00", "end": "20:30", "capacity": 5},
        ])
        b = factories.make_event()
        purpose, party, note = (q.id for q in a.questions)
        people = {
            "hanako": factories.register_person(
                a, family_name="山田", given_name="花子", family_kana="ヤマダ", given_kana="ハナコ",
                email="hanako@example.org", phone="09012345678", organization="ACME", sector=Sector.company,
                answers={str(purpose): "情報収集", str(party): True, str(note): "駐車場はありますか"}),
            "ichiro": factories.register_person(
                a, family_name="鈴木", given_name="一郎", family_kana="スズキ", given_kana="イチロウ",
                organization="市役所", sector=Sector.government, answers={str(purpose): "連携先探し", str(party): False}),
            "ai": factories.register_person(a, family_name="青木", given_name="愛", family_kana="アオキ",
                                            given_kana="アイ", organization=""),
            "waiting": factories.register_person(a, family_name="渡辺", given_name="誠", family_kana="ワタナベ",
                                                 given_kana="マコト"),
            "late": factories.register_person(a, session_index=1, family_name="加藤", given_name="翔",
                                              family_kana="カトウ", given_kana="ショウ"),
            "gone": factories.register_person(a, session_index=1, family_name="佐藤", given_name="次郎",
                                              family_kana="サトウ", given_kana="ジロウ"),
        }
        signup.cancel(people["gone"], now=now())
        stranger = factories.register_person(b, family_name="他人", family_kana="タニン")
        db.session.commit()
        users = {role: fast_staff(role, events=[a]) for role in ("owner", "editor", "viewer", "reception")}
        tokens = {role: api_tokens.create_api_token(user, role, now=now()) for role, user in users.items()}
        owner = users["owner"]
        limited = {role: api_tokens.create_api_token(owner, f"limited {role}", now=now(), event=a, role=EventRole(role))
                   for role in ("owner", "editor", "viewer", "reception")}
        accounts.assign(owner, b, EventRole.owner, now=now())
        db.session.commit()
        w = SimpleNamespace(
            a=a.id, b=b.id, s1=a.sessions[0].id, s2=a.sessions[1].id, b_s=b.sessions[0].id,
            purpose=purpose, party=party, note=note, stranger=stranger.id,
            tokens=tokens, limited=limited, owner_email=owner.email,
            **{name: r.id for name, r in people.items()},
        )
        assert people["waiting"].status.value == "waitlisted"
        db.session.remove()
    return w


def get(client, url: str, token: str | None, **kw):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(API + url, headers=headers, **kw)


def listing(client, world, query: str = "", token: str | None = None) -> dict:
    url = f"/events/{world.a}/registrations{query}"
    response = get(client, url, token or world.tokens["owner"])
    assert response.status_code == 200, response.get_data(as_text=True)
    return check(response, API + url, "get")  # and it matches the document


def ids(body: dict) -> list[int]:
    return [r["id"] for r in body["registrations"]]


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    body = response.get_json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


# --- the list ----------------------------------------------------------------------------------


def test_the_list_in_kana_order_with_the_total(client, world):
    body = listing(client, world)
    # Everyone still registered (the cancelled one is not), in 五十音 order: アオキ カトウ スズキ ヤマダ ワタナベ.
    assert ids(body) == [world.ai, world.late, world.ichiro, world.hanako, world.waiting]
    assert (body["total"], body["page"], body["per_page"], body["pages"]) == (5, 1, 100, 1)
    assert body["personal_data"] is True
    hanako = body["registrations"][3]
    assert hanako["name"] == "山田 花子" and hanako["kana_row"] == "や行" and hanako["email"] == "hanako@example.org"
    assert hanako["phone"] == "09012345678"  # a string: the leading zero stays
    assert hanako["session"]["id"] == world.s1 and hanako["session"]["title"] == "第1回"
    assert "answers" not in hanako  # the list is light; one registration carries its answers


@pytest.mark.parametrize(("query", "expected"), [
    ("?session_id={s2}", ["late"]),
    ("?status=cancelled", ["gone"]),
    ("?status=waitlisted", ["waiting"]),
    # ACME, 市役所, 育て上げネット (the factory's), and those without an organization last
    ("?status=confirmed&sort=organization", ["hanako", "ichiro", "late", "ai"]),
    ("?sector=government", ["ichiro"]),
    ("?walk_in=true", []),
    ("?walk_in=false&session_id={s2}", ["late"]),
    ("?question_id={purpose}&answer=連携先探し", ["ichiro"]),
    ("?question_id={party}&answer=yes", ["hanako"]),
    ("?question_id={note}&answer=駐車場", ["hanako"]),
    ("?question_id={note}", ["hanako"]),  # answered at all
    ("?q=すずき", ["ichiro"]),  # hiragana finds katakana
    ("?q=ｽｽﾞｷ", ["ichiro"]),  # half-width kana too
    ("?q=hanako@example", ["hanako"]),
    ("?q=acme", ["hanako"]),
    ("?q=100%25", []),  # LIKE wildcards are literal
    ("?sort=created", ["late", "waiting", "ai", "ichiro", "hanako"]),  # newest first
    ("?status=checked_in", []),
    ("?status=", ["ai", "late", "ichiro", "hanako", "waiting"]),
])
def test_filters_are_the_attendee_lists(client, world, query, expected):
    body = listing(client, world, query.format(**vars(world)))
    assert ids(body) == [getattr(world, name) for name in expected]
    assert body["total"] == len(expected)


def test_the_list_is_the_rosters_own_answer(app, client, world):
    """The API adds nothing of its own: the same ids, in the same order, as domain.backoffice.roster."""
    with app.app_context():
        from eventreg.models import Event

        event = db.session.get(Event, world.a)
        for args in ({}, {"sort": "arrival"}, {"status": "not_arrived", "sort": "created"}, {"q": "カ"}):
            flt = roster.ListFilter.from_args(args)
            expected = db.session.scalars(roster.matching(event, flt, now=now())).all()
            query = "?" + "&".join(f"{k}={v}" for k, v in args.items())
            assert ids(listing(client, world, query)) == [r.id for r in expected], args
        db.session.remove()


def test_every_filter_of_the_roster_is_a_query_parameter():
    from dataclasses import fields

    assert {f.name for f in fields(roster.ListFilter)} == set(schemas.FilterQuery().fields)
    assert set(schemas.RegistrationsQuery().fields) == set(schemas.FilterQuery().fields) | {"page", "per_page"}


def test_pages(client, world):
    everyone = ids(listing(client, world))
    pages = [listing(client, world, f"?per_page=2&page={n}") for n in (1, 2, 3, 4)]
    assert [ids(p) for p in pages] == [everyone[0:2], everyone[2:4], everyone[4:5], []]
    assert {(p["total"], p["pages"], p["per_page"]) for p in pages} == {(5, 3, 2)}
    assert listing(client, world, "?per_page=500")["per_page"] == 500
    nobody = listing(client, world, "?q=存在しない名前")
    assert (nobody["total"], nobody["pages"], nobody["registrations"]) == (0, 0, [])


@pytest.mark.parametrize("query", [
    "?per_page=501", "?per_page=0", "?page=0", "?page=-1", "?page=abc", "?page=99999999999999999999",
    "?status=maybe", "?sort=random", "?sector=pirates", "?walk_in=perhaps", "?session_id=abc",
    "?session_id=-1", "?session_id=0", "?session_id=true", "?question_id=x", "?session_id=" + "9" * 5000,
    "?status=confirmed&status=waitlisted", "?session_id=1&session_id=2",
])
def test_bad_queries_are_400_with_the_field(client, world, query):
    response = get(client, f"/events/{world.a}/registrations{query.format(**vars(world))}", world.tokens["owner"])
    error = assert_error(response, 400, "invalid_request")
    name = query[1:].split("=")[0]
    assert name in error["fields"] and all(isinstance(m, str) and m for m in error["fields"][name])
    check(response, f"{API}/events/{world.a}/registrations", "get")


@pytest.mark.parametrize("query", ["?session_id={b_s}", "?session_id=999999", "?question_id=999999"])
def test_ids_not_of_this_event_are_422_with_the_field(client, world, query):
    """Ids the document allows that name nothing of this event: the request matches the document,
    the event refuses it (422), as the document says."""
    response = get(client, f"/events/{world.a}/registrations{query.format(**vars(world))}", world.tokens["owner"])
    error = assert_error(response, 422, "invalid_input")
    assert list(error["fields"]) == [query[1:].split("=")[0]]
    check(response, f"{API}/events/{world.a}/registrations", "get")


@pytest.mark.parametrize("query", ["?q=%00", "?answer=a%00b", "?q=%FF"])
def test_a_nul_or_bytes_not_utf8_in_the_query_are_400(client, world, query):
    response = get(client, f"/events/{world.a}/registrations{query}", world.tokens["owner"])
    assert_error(response, 400, "invalid_request")  # web/input_guard.py, before the schemas
    check(response, f"{API}/events/{world.a}/registrations", "get")


def test_unknown_query_parameters_are_ignored(client, world):
    assert ids(listing(client, world, "?colour=blue")) == ids(listing(client, world))


# --- one registration ----------------------------------------------------------------------------


def test_one_registration_with_its_answers(client, world):
    url = f"/events/{world.a}/registrations/{world.hanako}"
    response = get(client, url, world.tokens["editor"])
    body = check(response, API + url, "get")
    person = body["registration"]
    assert body["personal_data"] is True and person["email"] == "hanako@example.org"
    assert [(a["question_id"], a["kind"], a["value"]) for a in person["answers"]] == [
        (world.purpose, "single", "情報収集"), (world.party, "checkbox", True), (world.note, "text", "駐車場はありますか")]
    assert person["answers"][0]["label"] == "参加の目的" and person["answers"][0]["hidden"] is False
    unanswered = get(client, f"/events/{world.a}/registrations/{world.ai}", world.tokens["owner"]).get_json()
    assert [a["value"] for a in unanswered["registration"]["answers"]] == [None, None, None]


def test_a_registration_of_another_event_or_none_is_not_found(client, world):
    for url in (f"/events/{world.a}/registrations/{world.stranger}", f"/events/{world.a}/registrations/999999",
                f"/events/{world.a}/registrations/{2**31}"):
        error = assert_error(get(client, url, world.tokens["owner"]), 404, "not_found")
        assert "他人" not in error["message"]


# --- who sees what -------------------------------------------------------------------------------


def test_a_viewer_sees_no_contact_data_and_no_answers(client, world):
    for token in (world.tokens["viewer"], world.limited["viewer"]):
        body = listing(client, world, token=token)
        assert body["personal_data"] is False and len(body["registrations"]) == 5
        assert {(r["email"], r["phone"]) for r in body["registrations"]} == {(None, None)}
        assert [r["name"] for r in body["registrations"]][3] == "山田 花子"  # names, as on the back-office list
        one = get(client, f"/events/{world.a}/registrations/{world.hanako}", token).get_json()
        assert one["personal_data"] is False and one["registration"]["answers"] is None
        assert one["registration"]["email"] is None
        text = get(client, f"/events/{world.a}/registrations/{world.hanako}", token).get_data(as_text=True)
        assert "hanako@example.org" not in text and "09012345678" not in text and "駐車場" not in text
        # The list's search rule also matches email (domain.backoffice.roster); the address is still not shown.
        found = listing(client, world, "?q=hanako@example.org", token=token)
        assert [r["email"] for r in found["registrations"]] == [None]


ORGANIZER_URLS = ["/events/{a}/registrations", "/events/{a}/registrations/{hanako}",
                  "/events/{a}/exports/summary.csv"]
PERSONAL_URLS = ["/events/{a}/exports/attendees.csv", "/events/{a}/exports/arrivals.xlsx",
                 "/events/{a}/exports/reception.cp932.csv"]
DESK_URLS = ["/events/{a}/counts", "/events/{a}/search?q=", "/events/{a}/pass-key"]


@pytest.mark.parametrize(("who", "organizer", "personal", "desk"), [
    ("owner", 200, 200, 200), ("editor", 200, 200, 200), ("viewer", 200, 403, 403), ("reception", 403, 403, 200),
])
@pytest.mark.parametrize("limited", [False, True], ids=["user-token", "limited-token"])
def test_each_role_and_each_limited_token(client, world, who, organizer, personal, desk, limited):
    """A token limited to a role on the event has exactly that role's reach (here the user is
    the owner, so only the limit decides); a user's own token has the user's role."""
    token = world.limited[who] if limited else world.tokens[who]
    for urls, status in ((ORGANIZER_URLS, organizer), (PERSONAL_URLS, personal), (DESK_URLS, desk)):
        for url in urls:
            response = get(client, url.format(**vars(world)), token)
            if status == 200:
                assert response.status_code == 200, (who, url, response.get_data(as_text=True)[:300])
            else:
                assert_error(response, 403, "forbidden")


def test_a_token_of_event_a_on_event_b_is_not_found(client, world):
    """The owner owns B too, but a token limited to A knows nothing of B (404, not 403)."""
    b_urls = [f"/events/{world.b}/registrations", f"/events/{world.b}/registrations/{world.stranger}",
              f"/events/{world.b}/exports/attendees.csv", f"/events/{world.b}/exports/summary.xlsx",
              f"/events/{world.b}/counts"]
    for role in ("owner", "viewer"):
        for url in b_urls:
            assert_error(get(client, url, world.limited[role]), 404, "not_found")
    # The owner's unlimited token does reach B; users without a role on B do not.
    assert get(client, f"/events/{world.b}/registrations", world.tokens["owner"]).status_code == 200
    for role in ("editor", "viewer", "reception"):
        assert_error(get(client, f"/events/{world.b}/registrations", world.tokens[role]), 404, "not_found")


def test_a_revoked_token_is_401(app, client, world):
    token = world.limited["editor"]
    assert get(client, f"/events/{world.a}/registrations", token).status_code == 200
    with app.app_context():
        for row in db.session.scalars(select(ApiToken).where(ApiToken.name == "limited editor")):
            row.revoked_at = now()
        db.session.commit()
    for url in ORGANIZER_URLS + PERSONAL_URLS:
        assert_error(get(client, url.format(**vars(world)), token), 401, "unauthorized")
    for headers in ({}, {"Authorization": "Bearer er_nope"}):
        assert_error(client.get(f"{API}/events/{world.a}/registrations", headers=headers), 401, "unauthorized")


def test_the_signed_in_staff_session_works_too(client, world, login):
    browser = login(SimpleNamespace(email=world.owner_email))
    response = browser.get(f"{API}/events/{world.a}/registrations?q=やまだ")
    assert response.status_code == 200 and ids(response.get_json()) == [world.hanako]


# --- exports ---------------------------------------------------------------------------------------


def test_exports_are_readable_files(app, client, world):
    owner = world.tokens["owner"]
    as_csv = get(client, f"/events/{world.a}/exports/attendees.csv?session_id={world.s1}", owner)
    assert as_csv.status_code == 200 and as_csv.mimetype == "text/csv"
    assert "attachment" in as_csv.headers["Content-Disposition"] and as_csv.headers["Cache-Control"] == "no-store"
    data = as_csv.get_data()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert "参加の目的" in header and "ご質問" in header  # every question is a column
    assert {r[0] for r in body} == {str(world.hanako), str(world.ichiro), str(world.ai), str(world.waiting)}  # session 1 only
    hanako = next(r for r in body if r[0] == str(world.hanako))
    assert "09012345678" in hanako and "駐車場はありますか" in hanako

    cp932 = get(client, f"/events/{world.a}/exports/reception.cp932.csv", owner)
    assert cp932.status_code == 200 and "山田 花子" in cp932.get_data().decode("cp932")

    xlsx = get(client, f"/events/{world.a}/exports/arrivals.xlsx", owner)
    assert xlsx.status_code == 200 and xlsx.mimetype.endswith("spreadsheetml.sheet")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.get_data())).active
    assert sheet.max_row == 1  # nobody has arrived yet: the header alone

    summary = get(client, f"/events/{world.a}/exports/summary.csv", world.tokens["viewer"])
    assert summary.status_code == 200
    text = summary.get_data().decode("utf-8-sig")
    assert "山田" not in text and "hanako" not in text  # counts only
    with app.app_context():  # personal-data exports are logged, the summary is not
        notes = db.session.scalars(select(AuditEntry.note).where(AuditEntry.action == "personal_data_exported")).all()
        db.session.remove()
    assert notes == ["export_by_api"] * 3


def test_a_cp932_export_that_cannot_be_made_lists_the_characters(app, client, world):
    with app.app_context():
        from eventreg.models import Registration

        reg = db.session.get(Registration, world.ichiro)
        reg.family_name = "𠮷田"  # not in Windows-31J
        db.session.commit()
        db.session.remove()
    url = f"/events/{world.a}/exports/attendees.cp932.csv"
    response = get(client, url, world.tokens["owner"])
    error = assert_error(response, 422, "cp932_unmappable")
    assert error["total"] >= 1 and {"column", "row", "character", "code_point"} <= set(error["problems"][0])
    assert any(p["character"] == "𠮷" and p["code_point"] == "U+20BB7" for p in error["problems"])
    check(response, API + url, "get")
    assert get(client, f"/events/{world.a}/exports/attendees.csv", world.tokens["owner"]).status_code == 200


def test_unknown_exports_and_formats_are_404(client, world):
    for url in ("/events/{a}/exports/everything.csv", "/events/{a}/exports/attendees.pdf",
                "/events/{a}/exports/attendees", "/events/{a}/exports/summary.json"):
        assert_error(get(client, url.format(**vars(world)), world.tokens["owner"]), 404, "not_found")


def test_the_clock_decides_no_shows(app, client, world):
    """status=no_show: confirmed, not arrived, at a session that has ended by the app's clock."""
    from eventreg import clock

    assert ids(listing(client, world, "?status=no_show")) == []
    clock.set_setting("+20d")
    try:
        assert set(ids(listing(client, world, "?status=no_show"))) == {world.ai, world.ichiro, world.hanako, world.late}
    finally:
        clock.set_setting("")
