"""adapters.charts: accessible, escaped, scalable SVG."""

import xml.etree.ElementTree as ET

from eventreg.adapters import charts

NS = "{http://www.w3.org/2000/svg}"


def test_line_chart_is_accessible_and_escaped():
    svg = charts.line_chart(uid="t", title="申込 <&>", desc="説明", x_labels=["10/01", "10/02"],
                            series=[("累計", [1, 3])], hlines=[(60, "定員")], markers=[(1.5, "締切 <b>")])
    root = ET.fromstring(svg)
    assert root.get("role") == "img" and root.get("viewBox") == "0 0 720 300"
    assert root.find(f"{NS}title").text == "申込 <&>" and root.find(f"{NS}desc").text == "説明"
    assert root.get("aria-labelledby") == "t-t t-d"
    assert "IPAexGothic" in root.get("font-family")
    assert "<b>" not in svg
    # The pages' Content-Security-Policy refuses style attributes: presentation attributes only.
    assert not [e.tag for e in root.iter() if "style" in e.attrib]


def test_bar_chart_wraps_long_labels_and_scales():
    title = "ケーススタディ「企業CSR×NPO」の協働が「政策」になるまで 〜 若者UPプロジェクトを題材に 〜"
    svg = charts.bar_chart(uid="b", title="t", desc="d", categories=[title, "短い"],
                           series=[("a", [3, 0]), ("b", [2, 1])], width=360)
    root = ET.fromstring(svg)
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert texts[2].startswith("ケーススタディ") and texts[3].startswith("なるまで")  # wrapped over two lines
    assert "短い" in texts and "5" in texts
    assert all(charts.text_width(t) <= 360 for t in texts)


def test_nice_axis_tops():
    assert [charts._nice_max(v) for v in (3, 56, 97, 130)] == [5, 60, 100, 150]
