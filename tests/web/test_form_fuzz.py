"""Arbitrary text in every field: never a 500, and nothing stored that breaks the rules."""

import re
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from eventreg.extensions import db
from eventreg.models import Registration

from .conftest import csrf_token, valid_form

FIELDS = ["family_name", "given_name", "family_kana", "given_kana", "email", "email_confirm",
          "organization", "department", "sector", "phone", "session_id"]
KATAKANA = re.compile(r"^[\u30a1-\u30f6\u30fc\u30fb\u30fd\u30fe]+$")
junk = st.text(alphabet=st.characters(codec="utf-8"), max_size=300)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.fixed_dictionaries({}, optional={name: junk for name in FIELDS}))
def test_arbitrary_text_never_breaks_the_form(client, make_event, values):
    event = make_event()
    url = f"/e/{event.slug}"
    data = valid_form(session_id=str(event.sessions[0].id))
    data.update(values)
    data["csrf_token"] = csrf_token(client, url)
    response = client.post(url, data=data)
    assert response.status_code in (302, 400), response.status_code
    db.session.rollback()
    for r in db.session.scalars(select(Registration).where(Registration.event_id == event.id)):
        for value in (r.family_name, r.given_name, r.organization, r.department, r.phone, r.email):
            assert value == unicodedata.normalize("NFKC", value) == value.strip()
            assert not any(unicodedata.category(ch).startswith("C") for ch in value)
        assert KATAKANA.match(r.family_kana) and KATAKANA.match(r.given_kana)
        assert len(r.family_name) <= 50 and len(r.organization) <= 100
        assert "@" in r.email and r.email == r.email.lower()
