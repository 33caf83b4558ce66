"""Both catalogues hold a translation for every string the code and templates use."""

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l",
         "-o", str(pot), "--ignore-dirs=.venv tests bench", "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    with pot.open("rb") as fh:
        return {m.id for m in read_po(fh) if m.id}


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_catalogue_is_complete(extracted, lang):
    with (ROOT / "eventreg" / "translations" / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalogue = read_po(fh)
    translated = {m.id for m in catalogue if m.id and m.string and "fuzzy" not in m.flags}
    assert sorted(extracted - translated, key=str) == []


def test_pages_are_japanese_by_default(client, make_event):
    html = client.get(f"/e/{make_event().slug}").get_data(as_text=True)
    assert '<html lang="ja">' in html and "申し込む" in html and "メールアドレス" in html


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_catalogue_is_well_formed(lang):
    """What GNU msgfmt -c refuses and Babel silently accepts: a msgid defined twice (Babel keeps
    the last one), and a msgstr that follows another msgstr (a lost entry's translation). Merges
    that keep both sides of a conflict make both."""
    lines = (ROOT / "eventreg" / "translations" / lang / "LC_MESSAGES" / "messages.po").read_text("utf-8").split("\n")
    seen, duplicates, strays, previous = set(), [], [], ""
    for number, line in enumerate(lines, 1):
        if line.startswith("msgid "):
            msgid = line
            for more in lines[number:]:
                if not more.startswith('"'):
                    break
                msgid += more
            if msgid in seen and msgid != 'msgid ""':
                duplicates.append((number, msgid))
            seen.add(msgid)
        if line.startswith("msgstr ") and previous.startswith("msgstr"):  # msgstr[1] after [0] is a plural
            strays.append((number, line))
        if not line.startswith('"'):
            previous = line
    assert duplicates == [] and strays == []


def test_no_catalog_holds_a_merge_conflict():
    """pybabel compiles a catalog with conflict markers in it without a word: the markers would
    silently drop the entries around them."""
    from pathlib import Path

    import eventreg

    for po in (Path(eventreg.__file__).parent / "translations").glob("*/LC_MESSAGES/messages.po"):
        markers = [n for n, line in enumerate(po.read_text("utf-8").splitlines(), 1)
                   if line.startswith(("<<<<<<<", "=======", ">>>>>>>"))]
        assert markers == [], po
