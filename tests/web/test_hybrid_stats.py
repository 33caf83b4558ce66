"""Statistics and the cross-event page show on-site and online attendance apart."""

import re
from datetime import timedelta

from flask import current_app

from eventreg import clock
from eventreg.domain.backoffice import hybrid
from eventreg.domain.insight import counts
from eventreg.domain.reception import checkin
from eventreg.domain.registration import join_links
from eventreg.extensions import db
from eventreg.models import ScanMethod

from .. import factories
from ..domain.test_join_links import hybrid_event, register


def cells(html: str, mode: str, row: int = 1) -> tuple[str, str]:
    found = re.search(rf'<tr data-row="{row}">.*?mode-{mode}-registered">(\d+)<.*?mode-{mode}-came">(\d+)<', html, re.S)
    assert found, html[:3000]
    return found.group(1), found.group(2)


def test_on_site_and_online_apart(client, ctx, login, make_event):
    plain = make_event()
    event = hybrid_event(make_event)
    onsite, online = event.sessions[0], hybrid.twin_of(event.sessions[0])
    here = [register(onsite) for _ in range(2)]
    away = [register(online) for _ in range(3)]
    checkin.check_in_by_id(here[0].id, event=event, method=ScanMethod.search, desk="受付1", user_id=None,
                           now=onsite.doors_at)
    secret = current_app.config["SECRET_KEY"]
    for person in away[:2]:
        join_links.open_link(join_links.find(join_links.key(person, secret), secret), now=online.doors_at + timedelta(minutes=1))
    db.session.commit()

    modes = counts.per_mode([event.id], now=clock.utcnow())[event.id]
    assert (modes["onsite"].confirmed, modes["onsite"].checked_in) == (2, 1)
    assert (modes["online"].confirmed, modes["online"].checked_in) == (3, 2)

    login(factories.make_staff("organizer", events=[event, plain]))
    page = client.get(f"/admin/events/{event.id}/statistics").get_data(as_text=True)
    assert cells(page, "onsite") == ("2", "1") and cells(page, "online") == ("3", "2")
    assert "会場とオンライン" in page
    cross = client.get(f"/admin/statistics?event={event.id}&event={plain.id}").get_data(as_text=True)
    rows = {cells(cross, "online", n) for n in (1, 2)}
    assert ("3", "2") in rows and ("0", "0") in rows
    # An event without online sessions shows no such table.
    assert "stat-modes" not in client.get(f"/admin/events/{plain.id}/statistics").get_data(as_text=True)
