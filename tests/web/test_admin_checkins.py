from datetime import datetime, timezone

from eventreg.domain import checkin, passes
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
