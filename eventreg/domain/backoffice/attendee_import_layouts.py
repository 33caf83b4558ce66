"""The column layouts an attendee import recognizes (Peatix's and connpass's participant
exports, and the headers people write themselves), and the first guess of each column's field.

docs/import.md lists the layouts and where they came from. A guess is only a guess: the
organizer changes any column's field on the preview page.
"""

from __future__ import annotations

import unicodedata

# What a column can be read as. Questions are "q:<question id>"; "" ignores the column.
TARGETS = ("family_name", "given_name", "full_name", "family_kana", "given_kana", "full_kana", "email",
           "organization", "department", "phone", "sector", "session", "status")
IGNORE = ""

# connpass's participant CSV (参加者一覧のCSV): fixed columns, then one per questionnaire item,
# then 更新日時 and 受付番号. It carries no email address, no furigana and no real name: 表示名 is
# what the person chose to show; those come from questionnaire items, matched by their words.
CONNPASS = {
    "参加枠名": IGNORE, "ユーザー名": IGNORE, "表示名": "full_name", "利用開始日": IGNORE, "申込日時": IGNORE,
    "コメント": IGNORE, "参加ステータス": "status", "出欠ステータス": IGNORE, "出席日時": IGNORE,
    "更新日時": IGNORE, "受付番号": IGNORE,
}
# Peatix's attendee list (参加者リスト) CSV, Japanese and English headers: order and ticket
# columns, the name, then one column per item of the event's form (フォーム), by its words.
PEATIX = {
    "購入ID": IGNORE, "Order ID": IGNORE, "チケットID": IGNORE, "Ticket ID": IGNORE, "チケット名": IGNORE,
    "Ticket Name": IGNORE, "申込日": IGNORE, "申込日時": IGNORE, "購入日時": IGNORE, "Order Date": IGNORE,
    "氏名": "full_name", "お名前": "full_name", "Name": "full_name", "姓": "family_name", "名": "given_name",
    "Last Name": "family_name", "First Name": "given_name", "お名前(カナ)": "full_kana", "メールアドレス": "email",
    "Email": "email", "ステータス": "status", "Status": "status", "支払方法": IGNORE, "Payment Method": IGNORE,
    "価格": IGNORE, "Price": IGNORE,
}
# What an organizer's own sheet (or eventreg's export) calls the fields.
COMMON = {
    "姓": "family_name", "名": "given_name", "氏名": "full_name", "名前": "full_name", "セイ": "family_kana",
    "メイ": "given_kana", "セイ(フリガナ)": "family_kana", "メイ(フリガナ)": "given_kana", "フリガナ": "full_kana",
    "ふりがな": "full_kana", "会社名・団体名": "organization", "部署・役職": "department", "所属区分": "sector",
    "電話番号": "phone", "参加する回": "session", "回": "session", "family name": "family_name",
    "given name": "given_name", "organization": "organization", "department / title": "department",
    "sector": "sector", "phone": "phone", "session": "session", "email": "email",
}
# Words inside a header (a questionnaire item's text) that say what it asks, in this order.
CONTAINS = (
    (("メール", "mail"), "email"), (("フリガナ", "ふりがな", "カナ", "kana"), "full_kana"),
    (("電話", "phone", "tel"), "phone"), (("部署", "役職"), "department"),
    (("会社", "団体", "所属", "勤務先", "organization", "company"), "organization"),
    (("氏名", "お名前", "name"), "full_name"),
)


def key(header: str) -> str:
    """A header as it is compared: NFKC (full-width brackets and letters folded), lower case,
    without spaces."""
    return "".join(unicodedata.normalize("NFKC", header or "").lower().split())


_KNOWN = {name: {key(h): target for h, target in table.items()} for name, table in
          (("connpass", CONNPASS), ("peatix", PEATIX), ("common", COMMON))}


def layout(headers: list[str]) -> str:
    """"connpass", "peatix" or "" (another sheet), from the columns only those exports have."""
    keys = {key(h) for h in headers}
    if {"参加枠名", "表示名"} <= keys:
        return "connpass"
    if keys & {key("購入ID"), key("Order ID"), key("チケット名"), key("Ticket Name")}:
        return "peatix"
    return ""


def guess(headers: list[str], questions: list[tuple[int, str]]) -> list[str]:
    """Each column's first field: the layout's table, then an event question with the same
    words, then the common words, then words inside the header. Each field is given to one
    column only (the first); a second column for it is ignored."""
    found = layout(headers)
    tables = [_KNOWN[found]] if found else []
    tables.append(_KNOWN["common"])
    by_label = {key(label): f"q:{qid}" for qid, label in questions}
    taken: set[str] = set()
    result = []
    for header in headers:
        k = key(header)
        target = next((t[k] for t in tables[:1] if k in t), None)
        if target is None:
            target = by_label.get(k) or _KNOWN["common"].get(k) or _contained(k)
        if target in taken:
            target = IGNORE
        if target:
            taken.add(target)
        result.append(target)
    return result


def _contained(k: str) -> str:
    for words, target in CONTAINS:
        if any(word in k for word in words):
            return target
    return IGNORE
