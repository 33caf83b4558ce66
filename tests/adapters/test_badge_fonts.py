"""The desk's badge fonts are cut per event; several workers and servers must name and cut them
alike, or a stylesheet from one worker names files another answers with 404."""

from __future__ import annotations

import json
import subprocess
import sys

PROGRAM = """
import hashlib, json
from eventreg.adapters import badge_fonts
print(json.dumps([[f.name, hashlib.sha256(f.data).hexdigest()] for f in badge_fonts.faces("𠮷野 髙橋 﨑山 Zoë")]))
"""


def faces_in_a_new_process() -> list:
    done = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout)


def test_two_processes_name_and_cut_the_same_faces():
    first, second = faces_in_a_new_process(), faces_in_a_new_process()
    assert len(first) >= 2  # the CJK font and a fallback for 𠮷 at least
    assert first == second
