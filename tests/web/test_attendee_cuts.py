"""The attendee paper cuts of issue 16 (docs/registrations.md's sibling: docs/english-and-names.md,
docs/email-confirmation-and-limits.md): the page after signing up, the language, the calendar
links, the jump to the form, the error summary's order."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from eventreg.extensions import db
from eventreg.models import Registration

from .conftest import csrf_token, valid_form

LATIN = {"family_name": "Schmidt", "given_name": "Anna", "family_kana": "", "given_kana": "",
         "email": "anna@example.org", "email_confirm": "anna@example.org"}


def _only_registration():
    return db.session.scalar(select(Registration))


def _deliver(app):
    from eventreg import worker

    db.session.commit()
    while worker.deliver_due(app, worker_id="test"):
        pass


def test_the_page_after_signing_up_names_the_address_and_a_reference_number(client, register, make_event):
    event = make_event()
    response = register(event, email="Hanako@Example.org", email_confirm="hanako@example.org")
    r = _only_registration()
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "確認のメールを hanako@example.org にお送りしました。" in page
    assert re.search(rf'受付番号 <strong>{r.id:06d}</strong>', page)
    # Stable: the registration's page says the same number later, without the welcome.
    assert f"<strong>{r.id:06d}</strong>" in client.get(f"/r/{r.token}").get_data(as_text=True)


def test_the_waiting_list_welcome_names_the_address_too(client, register, make_event):
    event = make_event(capacity=1)
    register(event, email="first@example.org", email_confirm="first@example.org")
    response = register(event, email="second@example.org", email_confirm="second@example.org")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "キャンセル待ち" in page and "second@example.org にお送りしました" in page


def test_the_confirmation_mail_carries_the_reference_number(app, register, make_event, smtp_server):
    event = make_event()
    register(event)
    r = _only_registration()
    _deliver(app)
    [mail] = smtp_server.received
    text = mail.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert f"■ 受付番号\n{r.id:06d}" in text and f"受付番号: <strong>{r.id:06d}</strong>" in html


def test_accept_language_decides_until_the_person_chooses(client, make_event):
    event = make_event()
    english = client.get(f"/e/{event.slug}", headers={"Accept-Language": "en-GB,en;q=0.9,ja;q=0.5"})
    assert '<html lang="en"' in english.get_data(as_text=True)
    assert "Accept-Language" in english.headers.get("Vary", "")
    other = client.get(f"/e/{event.slug}", headers={"Accept-Language": "de-DE"})  # neither: Japanese
    assert '<html lang="ja"' in other.get_data(as_text=True)
    client.get("/lang/ja?next=/")  # the person chooses Japanese: the browser no longer decides
    chosen = client.get(f"/e/{event.slug}", headers={"Accept-Language": "en"})
    assert '<html lang="ja"' in chosen.get_data(as_text=True)


def test_english_mail_links_open_in_english_on_another_device(app, client, register, make_event, smtp_server):
    event = make_event()
    client.set_cookie("lang", "en")
    register(event, **LATIN)
    r = _only_registration()
    _deliver(app)
    [mail] = smtp_server.received
    text = mail.get_body(preferencelist=("plain",)).get_content()
    page_link = re.search(r"http://testserver(/r/\S+)", text).group(1)
    assert page_link == f"/r/{r.token}?lang=en"
    assert f"/r/{r.token}/cancel?lang=en" in text
    other_device = app.test_client()  # no cookie; a Japanese browser
    page = other_device.get(page_link, headers={"Accept-Language": "ja"})
    assert '<html lang="en"' in page.get_data(as_text=True) and "Anna Schmidt" in page.get_data(as_text=True)
    # The link's language is remembered: the next page (cancel, without ?lang=) stays English.
    cancel = other_device.get(f"/r/{r.token}/cancel", headers={"Accept-Language": "ja"})
    assert '<html lang="en"' in cancel.get_data(as_text=True)
    # Switching to Japanese from a page opened with ?lang=en lands on Japanese, not on ?lang=en again.
    switched = other_device.get(f"/lang/ja?next=/r/{r.token}?lang%3Den")
    assert "lang=en" not in switched.headers["Location"]


def test_japanese_mail_links_are_as_before(app, register, make_event, smtp_server):
    event = make_event()
    register(event)
    r = _only_registration()
    _deliver(app)
    text = smtp_server.received[0].get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    assert f"http://testserver/r/{r.token}\n" in text


def test_the_confirmation_page_names_the_person_by_the_name_rule(app, client, make_event):
    from eventreg.web.links import registration_links

    event = make_event(confirm_email=True, hold_minutes=30)
    client.set_cookie("lang", "en")
    url = f"/e/{event.slug}"
    data = valid_form(session_id=str(event.sessions[0].id), csrf_token=csrf_token(client, url), **LATIN)
    assert client.post(url, data=data).status_code == 302
    r = _only_registration()
    with app.app_context():
        confirm = registration_links(r)["confirm"].removeprefix("http://testserver")
    page = client.get(confirm).get_data(as_text=True)
    assert "Anna Schmidt" in page and "Schmidt Anna" not in page


def test_google_calendar_link_next_to_the_ics(client, register, make_event):
    event = make_event()
    register(event)
    r = _only_registration()
    page = client.get(f"/r/{r.token}").get_data(as_text=True)
    assert f"/r/{r.token}/calendar.ics" in page
    link = re.search(r'href="(https://calendar\.google\.com/calendar/render\?[^"]+)"', page).group(1)
    query = parse_qs(urlsplit(link.replace("&amp;", "&")).query)
    session = r.session
    stamp = "%Y%m%dT%H%M%SZ"
    assert query["action"] == ["TEMPLATE"]
    assert query["text"] == [event.title]
    assert query["dates"] == [f"{session.starts_at.strftime(stamp)}/{session.ends_at.strftime(stamp)}"]
    assert query["location"] == ["セミナールーム 東京都港区港南2-16-3"]
    assert f"http://testserver/r/{r.token}" in query["details"][0]  # the pass, in the entry


def test_a_register_link_near_the_top_jumps_to_the_form(client, make_event):
    event = make_event()
    page = client.get(f"/e/{event.slug}").get_data(as_text=True)
    jump = page.index('class="jump-to-form"')
    assert page.index("<h1") < jump < page.index('class="sessions"')
    assert '<a class="button primary" href="#register">申し込む</a>' in page
    assert '<section class="register" id="register"' in page


def test_the_error_summary_lists_errors_in_the_order_of_the_form(client, make_event):
    event = make_event(questions=[{"label": "昼食", "kind": "single", "choices": ["要", "不要"], "required": True}])
    url = f"/e/{event.slug}"
    data = valid_form(session_id=str(event.sessions[0].id), csrf_token=csrf_token(client, url), family_name="")
    del data["consent"]
    page = client.post(url, data=data).get_data(as_text=True)
    summary = page[page.index('id="error-summary"'):page.index("</div>", page.index('id="error-summary"'))]
    order = re.findall(r'href="#([a-z_0-9]+)-field"', summary)
    question = f"q_{event.questions[0].id}"
    assert order == ["family_name", question, "consent"]
    assert page.index(f'id="{question}-field"') < page.index('id="consent-field"')  # as on the page
