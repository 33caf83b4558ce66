"""A forgotten password in Chromium, on a phone and a desktop: the link under the sign-in form,
the request form, the answer, the reset page and a dead link's page (no CSP violation, no error)."""

from __future__ import annotations

from eventreg import clock
from eventreg.domain.access import password_reset
from eventreg.extensions import db

from .. import factories


def test_the_reset_pages_on_a_phone_and_a_desktop(app, ctx, live_server, phone, desktop, shot):
    user = factories.make_staff("organizer", email="hanako@example.org")
    token = password_reset.make_token(user, secret_key=app.secret_key, now=clock.utcnow())
    db.session.commit()
    for page, kind in ((phone, "phone"), (desktop, "desktop")):
        page.goto(f"{live_server}/login")
        shot(page, f"reset-login-link-{kind}")
        page.get_by_role("link", name="パスワードをお忘れですか").click()
        page.wait_for_url("**/login/forgot")
        page.get_by_label("メールアドレス").fill("hanako@example.org")
        shot(page, f"reset-request-{kind}")
        page.get_by_role("button", name="リンクを送る").click()
        page.get_by_role("heading", name="メールをご確認ください").wait_for()
        shot(page, f"reset-sent-{kind}")
        page.goto(f"{live_server}/login/reset/{token}")
        page.get_by_role("heading", name="新しいパスワードを決める").wait_for()
        page.locator("input[name=new_password]").fill("short")
        page.get_by_role("button", name="新しいパスワードにする").click()
        page.locator(".error-summary, [role=alert]").first.wait_for()
        shot(page, f"reset-form-{kind}")
        page.goto(f"{live_server}/login/reset/{token[:-4]}AAAA")
        page.get_by_role("heading", name="このリンクは無効です").wait_for()
        shot(page, f"reset-invalid-{kind}")
    # The whole way on the phone: the new password signs her in.
    phone.goto(f"{live_server}/login/reset/{token}")
    phone.locator("input[name=new_password]").fill("a-fresh-long-password")
    phone.locator("input[name=confirm]").fill("a-fresh-long-password")
    phone.get_by_role("button", name="新しいパスワードにする").click()
    phone.wait_for_url("**/staff")
    shot(phone, "reset-done-phone")
    phone.goto(f"{live_server}/login/reset/{token}")
    phone.get_by_role("heading", name="このリンクはすでに使われています").wait_for()
    shot(phone, "reset-used-phone")
