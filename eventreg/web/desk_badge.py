"""What the desk needs to print a badge from the browser, with or without the server then.

GET /desk/<event_id>/badge-fonts.css               @font-face rules of the family "Eventreg Badge"
GET /desk/<event_id>/badge-font/<digest>.woff2?v=  one face (adapters.badge_fonts), named by its font, ?v= its characters

The desk page links the stylesheet; static/desk/badge.js loads the faces before it prints (its
service worker keeps both, so a badge prints offline). Staff of the event only: the fonts are cut
to the characters of its attendees' names.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template_string

from ..adapters import badge_fonts
from ..domain.reception.badge_text import badge_characters
from ..models import Event
from .auth import desk_access

bp = Blueprint("desk_badge", __name__, url_prefix="/desk")

FACES_CSS = """{% for face in faces -%}
@font-face { font-family: "{{ family }}"; font-display: block;
  src: url("{{ url_for('desk_badge.font', event_id=event_id, name=face.name, v=face.version) }}") format("woff2");
  unicode-range: {{ face.ranges }}; }
{% endfor %}"""


@bp.get("/<int:event_id>/badge-fonts.css")
@desk_access
def fonts_css(event: Event):
    faces = badge_fonts.faces(badge_characters(event))
    css = render_template_string(FACES_CSS, faces=faces, family=badge_fonts.FAMILY, event_id=event.id)
    return css, 200, {"Content-Type": "text/css; charset=utf-8"}


@bp.get("/<int:event_id>/badge-font/<name>")
@desk_access
def font(event: Event, name: str):
    for face in badge_fonts.faces(badge_characters(event)):
        if face.name == name:
            return face.data, 200, {"Content-Type": "font/woff2"}
    abort(404)  # no name of the event is drawn from that font any more (?v= is not compared: see Face)
