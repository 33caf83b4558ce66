"""Desk defects found when the desk was tried as reception staff would (issue 14, item 8).

- A 五十音 row left pressed while typing a name hid a registered person (「見つかりません」, and a
  duplicate walk-in next): typing clears the row, and choosing a row clears the typed text.
- Keyboard focus was trapped in the scanner's field: the camera button and the result screen's
  buttons could not be reached by Tab. They can, and a USB scanner's input still lands in the
  scanner's field wherever the focus is.
- The walk-in panel looked like a heading: it looks and acts like a button.
"""

from __future__ import annotations

from playwright.sync_api import expect

from .test_desk import result, setup_desk, sign_in
from .test_registration_flow import assert_touch_targets

YAMADA = dict(family_name="山田", given_name="花子", family_kana="ヤマダ", given_kana="ハナコ")
KATOU = dict(family_name="加藤", given_name="健", family_kana="カトウ", given_kana="ケン")


def focused(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def test_typing_a_name_clears_the_kana_row_so_the_person_is_found(app, live_server, phone):
    ids = setup_desk(app, [YAMADA, KATOU])
    page = phone
    sign_in(page, live_server, ids["email"], f"/desk/{ids['event']}")
    page.click(".kana-row[data-row=ka]")
    expect(page.locator("#search-results .person-kana")).to_have_text(["カトウ ケン"])

    page.click("#search-input")
    page.keyboard.type("やまだ", delay=20)  # a name of the や row, the か row still pressed
    expect(page.locator("#search-results .person-kana")).to_have_text(["ヤマダ ハナコ"])
    assert page.get_attribute(".kana-row[data-row=ka]", "aria-pressed") == "false"

    # The other way round: a row chosen after typing is that row, not the row and the old text.
    page.click(".kana-row[data-row=ka]")
    expect(page.locator("#search-results .person-kana")).to_have_text(["カトウ ケン"])
    assert page.input_value("#search-input") == ""


def test_tab_reaches_the_camera_button_and_the_result_buttons_and_the_scanner_still_types(app, live_server, desktop):
    ids = setup_desk(app, [YAMADA, KATOU])
    [(reg_id, token), (_other_id, other_token)] = ids["people"]
    page = desktop
    sign_in(page, live_server, ids["email"], f"/desk/{ids['event']}")
    assert focused(page) == "scan-input"

    page.keyboard.press("Tab")
    page.wait_for_timeout(500)  # the old desk took the focus back 200 ms after it left
    assert focused(page) == "camera-toggle"

    # A USB scanner types while the camera button has the focus: the code still goes to the scanner.
    page.keyboard.type(f"{token}\n")
    result(page, "ok")
    assert page.locator(".result-name").inner_text() == "山田 花子"

    # From the scanner's field, Tab goes to the result's buttons in order, and stays there.
    assert focused(page) == "scan-input"
    page.keyboard.press("Tab")
    page.wait_for_timeout(500)
    assert focused(page) == "result-badge"
    page.keyboard.press("Tab")
    assert focused(page) == "result-undo"
    page.keyboard.press("Tab")
    page.wait_for_timeout(500)
    assert focused(page) == "result-next"
    page.keyboard.press("Enter")
    page.locator("#result").wait_for(state="hidden")
    assert focused(page) == "scan-input"

    # A scan while a result button has the focus: not a press of that button, a scan.
    page.keyboard.type(f"{other_token}\n")
    result(page, "ok")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert focused(page) == "result-undo"
    page.keyboard.type(f"{token}\n")
    result(page, "already_checked_in")
    assert page.locator(".result-name").inner_text() == "山田 花子"
    assert page.js_errors == []


def test_the_walk_in_panel_looks_and_acts_like_a_button(app, live_server, phone, shot):
    ids = setup_desk(app, [YAMADA])
    page = phone
    sign_in(page, live_server, ids["email"], f"/desk/{ids['event']}")
    summary = page.locator("#walkin > summary")
    summary.scroll_into_view_if_needed()
    look = summary.evaluate("""(el) => { const s = getComputedStyle(el), h = getComputedStyle(document.getElementById('search-title'));
      return {border: parseFloat(s.borderTopWidth), radius: parseFloat(s.borderTopLeftRadius), bg: s.backgroundColor,
              page: getComputedStyle(document.body).backgroundColor, cursor: s.cursor, height: el.getBoundingClientRect().height,
              width: el.getBoundingClientRect().width, panel: el.parentElement.getBoundingClientRect().width,
              marker: getComputedStyle(el, '::marker').content, sameAsHeading: s.font === h.font && s.border === h.border}; }""")
    shot(page, "desk-walkin-button", full_page=False)
    assert look["border"] >= 1 and look["radius"] >= 4, look
    assert look["bg"] not in ("rgba(0, 0, 0, 0)", "transparent"), look
    assert look["cursor"] == "pointer" and look["height"] >= 44 and not look["sameAsHeading"], look
    assert look["width"] >= 0.8 * look["panel"] - 40, look  # a wide button, easy to hit on a phone
    assert_touch_targets(page, 44)

    # It acts like one: Enter opens the form, and it says whether it is open.
    summary.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#walkin-family_name")).to_be_visible()
    assert page.evaluate("document.getElementById('walkin').open") is True
    shot(page, "desk-walkin-open", full_page=False)
