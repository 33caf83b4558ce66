"""The exports page says which format keeps a phone number's leading zero (XLSX) and does not
promise it for CSV, which LibreOffice's and Excel's default import turn into a number."""

from __future__ import annotations

import re

from .. import factories


def test_the_exports_page_names_xlsx_for_leading_zeros(client, ctx, login):
    event = factories.make_event()
    login(factories.make_staff("editor", [event]))
    html = client.get(f"/admin/events/{event.id}/exports").get_data(as_text=True)
    sentences = re.split(r"(?<=。)", re.sub(r"<[^>]+>", "", html))
    about_zero = [s for s in sentences if "先頭の0" in s]
    assert any("XLSX" in s and "残る" in s for s in about_zero)
    assert any("CSV" in s and "消えます" in s for s in about_zero)
    assert not any("CSV" in s and "消えません" in s for s in about_zero)
