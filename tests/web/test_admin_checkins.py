import re
from datetime import datetime, timezone

from flask_babel import refresh

from eventreg.domain.reception import checkin, walk_ins
from eventreg.domain.registration import passes
from eventreg.extensions import db

from .. import factories


def test_the_organizer_reads_every_scan_in_the_log(client, login, make_event):
    event = make_event()
    person = factories.register_person(event, family_name="<b>山田</b>")
    desk_user = factories.make_staff("reception", events=[event], name="受付 2")
    for payload in (passes.qr_payload(person), passes.qr_payload(person), "garbage"):
        checkin.scan(payload, event=event, method="keyboard", desk="desk 2", user_id=desk_user.id,
                     now=datetime.now(timezone.utc))
    db.session.commit()
    login(factories.make_staff("organizer"))
    html = client.get(f"/admin/events/{event.id}/checkins").get_data(as_text=True)
    assert html.count("<tr class=\"result-") == 3
    assert "result-ok" in html and "result-already_checked_in" in html and "result-unknown_pass" in html
    assert "受付 2" in html and "desk 2" in html
    assert "&lt;b&gt;山田&lt;/b&gt;" in html and "<b>山田</b>" not in html  # escaped
    assert person.token not in html and person.entry_id not in html


def test_the_log_names_methods_in_words_and_counts_add_up(client, login, make_event):
    event = make_event(capacity=10)
    people = [factories.register_person(event) for _ in range(3)]
    now = datetime.now(timezone.utc)
    for person, method in zip(people[:2], ("camera", "search"), strict=True):
        checkin.scan(passes.qr_payload(person), event=event, method=method, desk="d", user_id=None, now=now)
    walk_ins.walk_in(event.sessions[0], factories.applicant(family_name="当日", email=None), desk="d",
                    user_id=None, now=now)
    checkin.undo(people[1].id, event=event, desk="d", user_id=None, now=now)
    db.session.commit()
    login(factories.make_staff("organizer"))
    html = client.get(f"/admin/events/{event.id}/checkins").get_data(as_text=True)
    methods = re.findall(r'data-method="(\w+)">([^<]*)</td>', html)
    assert sorted(methods) == sorted([("camera", "カメラ"), ("search", "名前検索"), ("walk_in", "当日参加"),
                                      ("undo", "取り消し")]), methods
    assert "ScanMethod" not in html
    # Checked in 2 = one registered person (the other was undone) + one walk-in; 2 still to come of 4.
    assert re.sub(r"<[^>]+>|\s+", "", html.split('id="log-counts">')[1].split("</p>")[0]) == \
        "受付済み:2·未到着:2·当日参加:1·申し込み完了:4"


def test_the_log_in_english(client, login, make_event):
    event = make_event()
    checkin.scan("garbage", event=event, method="keyboard", desk="d", user_id=None, now=datetime.now(timezone.utc))
    db.session.commit()
    login(factories.make_staff("organizer"))
    refresh()  # the test's app context (ctx) would keep the locale of the sign-in page
    html = client.get(f"/admin/events/{event.id}/checkins?lang=en").get_data(as_text=True)
    assert 'data-method="keyboard">USB scanner</td>' in html
    assert "Checked in: 0</span> · <span class=\"log-count\">Not yet arrived: 0" in html
