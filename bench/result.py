"""The one line every target benchmark ends with, read by bench/targets.py.

    RESULT {"name": "...", "figure": 1.23, "unit": "s", "floor": 0.4, "floor_what": "...",
            "ratio": 3.1, "target": "<= 2 s", "met": true, "runs": 3, "load": 0.6}

``figure`` and ``floor`` are medians over ``runs`` runs measured in the same process run;
``ratio`` is figure / floor for times (how many floors it costs) and figure / floor for rates
(the share of the floor's rate reached), as the target is stated.
"""

from __future__ import annotations

import json
import os


def emit(name: str, figure: float, unit: str, *, floor: float | None, floor_what: str,
         target: str, met: bool, runs: int) -> None:
    ratio = round(figure / floor, 3) if floor else None
    line = {"name": name, "figure": round(figure, 4), "unit": unit,
            "floor": None if floor is None else round(floor, 4), "floor_what": floor_what,
            "ratio": ratio, "target": target, "met": bool(met), "runs": runs,
            "load": round(os.getloadavg()[0], 2)}
    print("RESULT " + json.dumps(line, ensure_ascii=False), flush=True)
