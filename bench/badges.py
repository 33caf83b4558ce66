"""The badge targets alone: the 1,000-badge sheet as a worker job (wall, peak PSS) and one badge.

    .venv/bin/python bench/badges.py [--runs 3] [--people 1000] [--db sqlite|URL]

bench/documents.py without its side-by-side comparison of typst, reportlab and WeasyPrint: the
same job and badge measurements and RESULT lines, with their floors from the same run.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from documents import main  # noqa: E402 - the bench folder on the path first

if __name__ == "__main__":
    main(["--no-compare", *sys.argv[1:]])
