"""PDFs made by typst (untagged: ``pdf_tags=False``) joined into one, at the byte level.

pypdf joined the 20 chunks of a 1,000-badge sheet in ~0.4 CPU-s, most of it cloning every page's
objects one Python object at a time (bench/badges.py). typst writes a plain PDF: numbered objects,
a classic xref table, a catalog and one flat page tree, no object streams. So each document's
objects are copied as they are, renumbered after the ones before (only the dictionaries before a
``stream`` keyword hold references; stream data is copied untouched), and one new catalog and page
tree list every page in order. Each document's catalog, page tree, info and metadata are left out.
"""

from __future__ import annotations

import re

_REF = re.compile(rb"(?<![\w.])(\d+) 0 R\b")
_STREAM = re.compile(rb">>\s*stream\r?\n")


def _ref(data: bytes, key: bytes) -> int | None:
    found = re.search(rb"/" + key + rb" (\d+) 0 R", data)
    return int(found[1]) if found else None


def _objects(pdf: bytes) -> dict[int, bytes]:
    """Each object's text after its ``N 0 obj`` header, up to ``endobj`` (exclusive)."""
    start = int(pdf[pdf.rindex(b"startxref") + 9:].split()[0])
    head = pdf[start:].split(b"\n", 2)
    if head[0].strip() != b"xref":
        raise ValueError("not a PDF with a classic xref table")
    first, count = map(int, head[1].split())
    offsets = {}
    table = head[2]
    for i in range(count):
        entry = table[i * 20:i * 20 + 18].split()
        if entry[2] == b"n":
            offsets[first + i] = int(entry[0])
    bounds = sorted(offsets.values()) + [start]
    following = dict(zip(bounds, bounds[1:], strict=False))
    objects = {}
    for number, offset in offsets.items():
        text = pdf[offset:following[offset]]
        body = text[text.index(b"obj") + 3:text.rindex(b"endobj")]
        objects[number] = body
    return objects


def join(pdfs: list[bytes]) -> bytes:
    """One PDF with the pages of ``pdfs`` in order."""
    out = bytearray(b"%PDF-1.7\n%\x80\x80\x80\x80\n")
    offsets: dict[int, int] = {}
    kids: list[int] = []
    base = 2  # 1: the new catalog, 2: the new page tree
    lang = b""
    for pdf in pdfs:
        objects = _objects(pdf)
        trailer = pdf[pdf.rindex(b"trailer"):]
        root = _ref(trailer, b"Root")
        catalog = objects[root]
        tree = _ref(catalog, b"Pages")
        lang = lang or (re.search(rb"/Lang\([^)]*\)", catalog) or [b""])[0]
        skip = {root, tree, _ref(trailer, b"Info"), _ref(catalog, b"Metadata")}

        def renumber(found: re.Match, base=base, tree=tree) -> bytes:
            number = int(found[1])
            return b"2 0 R" if number == tree else b"%d 0 R" % (number + base)

        kids += [int(n) + base for n in re.findall(rb"(\d+) 0 R", objects[tree])]
        for number, body in objects.items():
            if number in skip:
                continue
            stream = _STREAM.search(body)
            cut = stream.start() if stream else len(body)
            offsets[number + base] = len(out)
            out += b"%d 0 obj" % (number + base)
            out += _REF.sub(renumber, body[:cut])
            out += body[cut:]
            out += b"endobj\n"
        base += max(objects) + 1
    offsets[1] = len(out)
    out += b"1 0 obj\n<</Type/Catalog/Pages 2 0 R%s>>\nendobj\n" % lang
    offsets[2] = len(out)
    out += b"2 0 obj\n<</Type/Pages/Count %d/Kids[%s]>>\nendobj\n" % (
        len(kids), b" ".join(b"%d 0 R" % kid for kid in kids))
    size = max(offsets) + 1
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f\r\n" % size
    out += b"".join(b"%010d 00000 n\r\n" % offsets[n] if n in offsets else b"0000000000 65535 f\r\n"
                    for n in range(1, size))
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF" % (size, xref)
    return bytes(out)
