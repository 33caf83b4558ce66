"""/staff: upcoming events first (soonest first), then past ones (latest first), each with its
confirmed / capacity / waiting counts from domain.insight.counts."""

import re

from eventreg.extensions import db
from eventreg.models import Registration, Status
from tests import factories


def _titles(html: str) -> list[str]:
    return re.findall(r"テストセミナー \d+|過去の会 \d|次の会 \d", html)


def test_upcoming_first_then_past_with_counts(client, ctx, login):
    old = factories.make_event(title="過去の会 1", start=factories.in_days(-40))
    older = factories.make_event(title="過去の会 2", start=factories.in_days(-70))
    later = factories.make_event(title="次の会 2", start=factories.in_days(40), capacity=2)
    soon = factories.make_event(title="次の会 1", start=factories.in_days(10), capacity=30)
    for _ in range(3):  # capacity 2: two confirmed, one waiting
        factories.register_person(later)
    factories.register_person(soon)
    cancelled = factories.register_person(soon)
    db.session.get(Registration, cancelled.id).status = Status.cancelled
    db.session.get(type(soon.sessions[0]), soon.sessions[0].id).seats_taken -= 1
    db.session.commit()
    login(factories.make_staff("viewer", [older, later, old, soon]))
    html = client.get("/staff").get_data(as_text=True)
    assert _titles(html) == ["次の会 1", "次の会 2", "過去の会 1", "過去の会 2"]
    assert html.index("開催予定") < html.index("次の会 1") < html.index("終了したイベント") < html.index("過去の会 1")
    cards = html.split('<li class="card">')[1:]
    counts = [re.sub(r"<[^>]+>|\s+", " ", c.split('class="card-counts">')[1].split("</p>")[0]).split()
              for c in cards]
    assert counts[0] == ["申し込み完了", "1", "/", "定員", "30", "キャンセル待ち", "0"]
    assert counts[1] == ["申し込み完了", "2", "/", "定員", "2", "キャンセル待ち", "1"]
    assert counts[2][1] == "0" and counts[2][4] == "50"
