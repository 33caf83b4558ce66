"""pdf_join: typst's untagged PDFs joined at the byte level, read back by PyMuPDF and pypdf."""

import io

import pymupdf
from pypdf import PdfReader

from eventreg.adapters import pdf_join, qr, typst_pdf


def test_pages_come_in_order_with_their_text_and_images(tmp_path, monkeypatch):
    monkeypatch.setattr(typst_pdf, "TEMPLATES", tmp_path)
    (tmp_path / "t.typ").write_text(
        '#set page(width: 50mm, height: 30mm)\n#set text(font: chain)\n'
        '#let d = json(bytes(sys.inputs.data))\n'
        '#for (i, w) in d.w.enumerate() { if i > 0 { pagebreak() }; w; '
        'image(bytes(d.png), format: "png", width: 5mm) }\n',
        encoding="utf-8")
    png = list(qr.png(21, "M0 0h7v1h-7z"))
    parts = [typst_pdf.render("t.typ", {"w": words, "png": png}, tags=False)
             for words in (["一 alpha", "二 beta"], ["三 gamma"], ["四 𠮷 delta", "五", "六"])]
    joined = pdf_join.join(parts)
    pymupdf.TOOLS.mupdf_warnings()  # drop earlier ones
    doc = pymupdf.open(stream=joined, filetype="pdf")
    assert [page.get_text().split()[:2] for page in doc] == [
        ["一", "alpha"], ["二", "beta"], ["三", "gamma"], ["四", "𠮷"], ["五"], ["六"]]
    assert all(len(page.get_images()) == 1 for page in doc)
    assert pymupdf.TOOLS.mupdf_warnings() == ""  # nothing repaired
    reader = PdfReader(io.BytesIO(joined), strict=True)
    assert [page.extract_text().split()[0] for page in reader.pages] == ["一", "二", "三", "四", "五", "六"]
