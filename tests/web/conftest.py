import re

import pytest

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, url: str) -> str:
    page = client.get(url)
    match = CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def valid_form(**overrides) -> dict:
    data = {
        "family_name": "山田", "given_name": "花子", "family_kana": "やまだ", "given_kana": "ﾊﾅｺ",
        "email": "hanako@example.org", "email_confirm": "HANAKO@example.org",
        "organization": "認定NPO法人 育て上げネット", "department": "事務局",
        "sector": "npo", "phone": "042-527-6051", "consent": "y",
    }
    data.update(overrides)
    return data


@pytest.fixture
def register(client):
    """POSTs the event page's form as a browser would (CSRF token from the page)."""

    def post(event, **overrides):
        url = f"/e/{event.slug}"
        data = valid_form(session_id=str(event.sessions[0].id), **overrides)
        data["csrf_token"] = csrf_token(client, url)
        return client.post(url, data={k: v for k, v in data.items() if v is not None})

    return post
